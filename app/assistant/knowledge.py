"""Knowledge entries written by staff: validated, rendered at write time, audited; their
translations (app.contentlang, kind "assistant_entry": question, phrasings and answer in the
other languages, flagged out of date when the original changed after them); and the indexes
of a language the answering ranks questions against."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app import contentlang
from app.account.models import User
from app.assistant.models import TOPICS, AssistantEntry
from app.assistant.retrieval import Index, document
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.errors import ValidationFailed
from app.i18n import LANGUAGE_NAMES, N_
from app.richtext import render_markdown
from app.settings import LANGUAGES

MAX_QUESTION = 300
MAX_PHRASINGS = 5_000
MAX_ANSWER = 20_000


@dataclass
class EntryInput:
    """An entry as the form sends it: texts as typed, `review_on` as YYYY-MM-DD or ""."""

    question: str = ""
    phrasings: str = ""
    answer_md: str = ""
    language: str = "fr"
    topic: str = "other"
    review_on: str = ""


def _clean(data: EntryInput) -> tuple[dict[str, object], dict[str, str]]:
    errors: dict[str, str] = {}
    question = " ".join(data.question.split())
    if not question:
        errors["question"] = N_("Please write the question.")
    elif len(question) > MAX_QUESTION:
        errors["question"] = N_("The question is too long.")
    phrasings = "\n".join(" ".join(line.split()) for line in data.phrasings.splitlines() if line.strip())
    if len(phrasings) > MAX_PHRASINGS:
        errors["phrasings"] = N_("The other phrasings are too long.")
    answer = data.answer_md.strip()
    if not answer:
        errors["answer_md"] = N_("Please write the answer.")
    elif len(answer) > MAX_ANSWER:
        errors["answer_md"] = N_("The answer is too long.")
    if data.language not in LANGUAGE_NAMES:
        errors["language"] = N_("Please choose a language from the list.")
    if data.topic not in TOPICS:
        errors["topic"] = N_("Please choose a topic from the list.")
    review_on: date | None = None
    if data.review_on.strip():
        try:
            review_on = date.fromisoformat(data.review_on.strip())
        except ValueError:
            errors["review_on"] = N_("Please give the date as YYYY-MM-DD.")
    values: dict[str, object] = {"question": question, "phrasings": phrasings, "answer_md": answer,
                                 "language": data.language, "topic": data.topic, "review_on": review_on}
    return values, errors


def save_entry(session: Session, *, actor: User, data: EntryInput,
               entry: AssistantEntry | None = None) -> AssistantEntry:
    """Create an entry (`entry` None, owned by `actor`) or update `entry`; the answer is rendered
    with app.richtext now; audited (AuditAction.assistant_entry_save). Raises ValidationFailed
    (question, phrasings, answer_md, language, topic, review_on) and writes nothing then."""
    values, errors = _clean(data)
    if errors:
        raise ValidationFailed(errors)
    created = entry is None
    entry = entry or AssistantEntry(question="", owner_id=actor.id)
    for key, value in values.items():
        setattr(entry, key, value)
    entry.answer_html = render_markdown(entry.answer_md)
    entry.updated_at = utcnow()
    session.add(entry)
    session.flush()
    assert entry.id is not None
    record(session, actor=actor, action=AuditAction.assistant_entry_save, target_type=TargetType.assistant_entry,
           target_id=entry.id, details={"created": created, "language": entry.language, "topic": entry.topic})
    return entry


def delete_entry(session: Session, *, actor: User, entry: AssistantEntry) -> None:
    """Delete `entry` (questions it answered keep their text), audited."""
    assert entry.id is not None
    record(session, actor=actor, action=AuditAction.assistant_entry_delete, target_type=TargetType.assistant_entry,
           target_id=entry.id, details={"question": entry.question[:200]})
    session.delete(entry)
    session.flush()


def entries(session: Session, language: str | None = None) -> list[AssistantEntry]:
    """Every entry (of `language` when given), by topic then question."""
    query = select(AssistantEntry)
    if language:
        query = query.where(AssistantEntry.language == language)
    return list(session.exec(query.order_by(col(AssistantEntry.topic), col(AssistantEntry.question))).all())


KIND = "assistant_entry"


def text_in(entry: AssistantEntry, language: str) -> tuple[str, str] | None:
    """The entry's (question, phrasings) in `language`: its original when written in it, else
    its translation when its question is translated (out of date or not), else None."""
    if entry.language == language:
        return entry.question, entry.phrasings
    mine = (entry.translations or {}).get(language) or {}
    question = str((mine.get("question") or {}).get("text") or "")
    if not question:
        return None
    return question, str((mine.get("phrasings") or {}).get("text") or "")


def indexes(session: Session, language: str) -> tuple[Index, Index]:
    """Two ranking indexes for an asker of `language`: the entries that have text in it (their
    original or translation, `text_in`), and the others, by their original (in another language)."""
    own, others = [], []
    for entry in session.exec(select(AssistantEntry).order_by(col(AssistantEntry.id))).all():
        texts = text_in(entry, language)
        if texts is not None:
            own.append(document(entry.id or 0, *texts))
        else:
            others.append(document(entry.id or 0, entry.question, entry.phrasings))
    return Index(own), Index(others)


def index(session: Session, language: str) -> Index:
    """The ranking index of the entries with text in `language` (`indexes`)."""
    return indexes(session, language)[0]


def save_translation(session: Session, *, actor: User, entry: AssistantEntry, language: str,
                     texts: dict[str, str]) -> list[str]:
    """Store `texts` (question, phrasings, answer_md -> text; an empty text removes that field's
    translation) as `entry`'s translation into `language`; returns the fields changed, audited
    (AuditAction.translation_save on the entry) when any. Phrasings are cleaned as the
    original's (one a line). Raises ValidationFailed (language, or the field: unknown, too long)
    and writes nothing then. Does not commit."""
    cleaned = {key: ("\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())
                     if key == "phrasings" else text) for key, text in texts.items()}
    changed = contentlang.set_translations(entry, KIND, language, cleaned)
    if changed:
        session.add(entry)
        session.flush()
        record(session, actor=actor, action=AuditAction.translation_save, target_type=TargetType.assistant_entry,
               target_id=entry.id or 0, details={"language": language, "fields": changed})
    return changed


def translation_state(entry: AssistantEntry) -> dict[str, str]:
    """language -> "done", "missing" (some field untranslated) or "outdated" (some translation
    older than the original; wins over missing), for every interface language but the original."""
    state = {lang: "done" for lang in LANGUAGES if lang != entry.language}
    for langs in contentlang.status(entry, KIND).values():
        for lang, st in langs.items():
            if st.out_of_date:
                state[lang] = "outdated"
            elif st.missing and state[lang] == "done":
                state[lang] = "missing"
    return state
