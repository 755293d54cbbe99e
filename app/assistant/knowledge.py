"""Knowledge entries written by staff: validated, rendered at write time, audited; and the index
of a language's entries the answering ranks questions against."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from app.account.models import User
from app.assistant.models import TOPICS, AssistantEntry
from app.assistant.retrieval import Index, document
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.errors import ValidationFailed
from app.i18n import LANGUAGE_NAMES, N_
from app.richtext import render_markdown

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


def index(session: Session, language: str) -> Index:
    """The ranking index of the entries written in `language`."""
    rows = session.exec(select(AssistantEntry.id, AssistantEntry.question, AssistantEntry.phrasings)
                        .where(AssistantEntry.language == language)).all()
    return Index(document(entry_id or 0, question, phrasings) for entry_id, question, phrasings in rows)
