"""Answering a question: live data first (app.assistant.intents), else the best entry with text
in the asker's language (its original or its translation) when its confidence reaches the
threshold, else the best entry without text in it matched on its original (answered in that
language, marked so), else an honest "I don't know" with the offer to ask a person. Every
question asked is kept (app.assistant.models.AssistantQuestion)
for the figures and the hand-off, and rate-limited per person and per address."""

from dataclasses import dataclass, field
from datetime import timedelta

from sqlmodel import Session

from app import contentlang, links
from app.account.models import User
from app.assistant import intents, knowledge
from app.assistant.intents import Link
from app.assistant.models import AssistantEntry, AssistantQuestion, Outcome
from app.assistant.retrieval import THRESHOLD, clean_question
from app.errors import ValidationFailed
from app.i18n import LANGUAGE_NAMES, N_, _
from app.ratelimit import service as ratelimit
from app.settings import Settings

MAX_QUESTION = 500
# An address's hourly questions, as a multiple of one person's, for the people signed in from it.
ADDRESS_CEILING = 10
TOO_MANY = N_("You have asked many questions in a short time. Please wait a little before asking again.")


@dataclass
class Answer:
    """What the assistant says. `kind`: "entry" (an entry's `html`, sanitised at write time),
    "live" (plain `text` and `items` from live data) or "unknown" (below the threshold: `text`
    says so, and the question may be handed to a person). `source` links where it comes from;
    `score` is the confidence (0 to 1); `question_id` the kept question. `lang` is the language
    of an entry's answer and `foreign` says it is the original in a language other than the
    asker's (the page marks it "Original in …", `marker`, and puts `lang` on it)."""

    kind: str
    text: str = ""
    html: str = ""
    source: Link | None = None
    items: list[Link] = field(default_factory=list)
    score: float = 0.0
    question_id: int | None = None
    intent: str | None = None
    entry_id: int | None = None
    lang: str = ""
    foreign: bool = False

    @property
    def marker(self) -> str:
        """"Original in French" (in the interface language) for a foreign original, else ""."""
        if not self.foreign:
            return ""
        return _("Original in {language}", language=_(contentlang.LANGUAGE_LABELS.get(self.lang, self.lang)))


def understand(session: Session, *, user: User | None, text: str, language: str) -> Answer:
    """The answer to `text` in `language` (one of LANGUAGE_NAMES) for `user`, without keeping
    anything: live data when an intent is recognised, else the best entry with text in that
    language (original or translation) at or above THRESHOLD, else the best of the other entries
    matched on their original at or above THRESHOLD (shown in its language, `foreign`), else kind
    "unknown". Text is written in the current interface language."""
    intent = intents.recognise_in(session, user, text)
    if intent is not None:
        live = intents.answer(session, intent, user, text)
        return Answer("live", text=live.text, source=live.source, items=live.items, score=1.0, intent=intent.value)
    best = 0.0
    for index in knowledge.indexes(session, language):
        ranked = index.rank(text, limit=1)
        if not ranked:
            continue
        best = max(best, ranked[0].score)
        if ranked[0].score >= THRESHOLD:
            entry = session.get(AssistantEntry, ranked[0].entry_id)
            if entry is not None and entry.id is not None:
                return entry_answer(entry, language, ranked[0].score)
    return Answer("unknown", text=_("I don't know the answer to this question. A person from the city can answer it: "
                                    "ask them and you will be told on the site and by e-mail."),
                  score=best)


def entry_answer(entry: AssistantEntry, language: str, score: float) -> Answer:
    """The answer an entry gives an asker of `language`: its translation into it when there is
    one, else its original (`foreign` when in another language)."""
    assert entry.id is not None
    answer = contentlang.shown(entry, "answer_md", language, kind=knowledge.KIND)
    question = contentlang.shown(entry, "question", language, kind=knowledge.KIND)
    return Answer("entry", html=answer.text, score=score, entry_id=entry.id, lang=answer.lang, foreign=answer.foreign,
                  source=Link(question.text, links.path("assistant:entry", entry_id=entry.id)))


def ask(session: Session, settings: Settings, *, user: User | None, text: str, language: str,
        address: str) -> Answer:
    """Answer `text` (`understand`) and keep the question for `settings.assistant_retention_days`.

    Raises ValidationFailed ("question": empty or longer than MAX_QUESTION characters) and
    RateLimited: over `assistant_questions_per_hour` for the person signed in, or for the address
    `address` of visitors; over ADDRESS_CEILING times that for an address whatever signs in from
    it (a library or a town hall puts many people behind one address)."""
    question = clean_question(text, limit=MAX_QUESTION + 1)
    if not question:
        raise ValidationFailed({"question": N_("Please write your question.")})
    if len(question) > MAX_QUESTION:
        raise ValidationFailed({"question": N_("Your question is too long: 500 characters at most.")})
    language = language if language in LANGUAGE_NAMES else settings.default_language
    limit = settings.assistant_questions_per_hour
    limits = {f"assistant:address:{address}": limit if user is None else limit * ADDRESS_CEILING}
    if user is not None:
        limits[f"assistant:user:{user.id}"] = limit
    for key, most in limits.items():
        ratelimit.check(session, key, limit=most, window=timedelta(hours=1), message=TOO_MANY)
    for key in limits:
        ratelimit.record(session, key)
    answer = understand(session, user=user, text=question, language=language)
    row = AssistantQuestion(user_id=user.id if user else None, language=language, text=question,
                            outcome=Outcome.unknown if answer.kind == "unknown" else Outcome.answered,
                            entry_id=answer.entry_id, intent=answer.intent, score=answer.score)
    session.add(row)
    session.flush()
    answer.question_id = row.id
    return answer


def mark_helpful(session: Session, *, question: AssistantQuestion, helpful: bool) -> None:
    """Record the asker's "was this helpful?" for an answered question."""
    question.helpful = helpful
    session.add(question)
