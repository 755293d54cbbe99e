"""Asking a person: a question the assistant could not answer goes to the moderators' queue; a
moderator answers it (the asker is told on the site and by e-mail, app.notify); one step turns
that answer into a knowledge entry, after which the same question is answered automatically."""

from sqlalchemy import func
from sqlmodel import Session, col, select

from app import links
from app.account.models import User
from app.assistant import mentions
from app.assistant.knowledge import EntryInput
from app.assistant.models import AssistantEntry, AssistantQuestion, Outcome
from app.audit import AuditAction, TargetType, record
from app.clock import utcnow
from app.errors import InvalidTransition, ValidationFailed
from app.i18n import N_
from app.notify import service as notify_service
from app.notify.models import NotificationKind
from app.richtext import render_markdown
from app.settings import Settings

MAX_ANSWER = 20_000


def hand_to_person(session: Session, *, user: User, question: AssistantQuestion) -> AssistantQuestion:
    """Put `user`'s own `question` in the moderators' queue (once: asking again changes
    nothing). Raises InvalidTransition for a question already answered by a person. The route
    checks the question is `user`'s (404 otherwise)."""
    if question.outcome == Outcome.human:
        raise InvalidTransition(N_("A person has already answered this question."))
    if question.outcome != Outcome.handed:
        question.outcome = Outcome.handed
        question.handed_at = utcnow()
        session.add(question)
    return question


def waiting(session: Session, limit: int = 100) -> list[AssistantQuestion]:
    """Questions handed to a person and not answered yet, the oldest first."""
    return list(session.exec(select(AssistantQuestion).where(AssistantQuestion.outcome == Outcome.handed)
                             .order_by(col(AssistantQuestion.handed_at)).limit(limit)).all())


def waiting_count(session: Session) -> int:
    """How many questions wait for a person (the moderation queue's tab)."""
    return int(session.exec(select(func.count()).select_from(AssistantQuestion)
                            .where(AssistantQuestion.outcome == Outcome.handed)).one())


def recently_answered(session: Session, limit: int = 20) -> list[AssistantQuestion]:
    """Questions a person answered, the latest first (to promote them into entries)."""
    return list(session.exec(select(AssistantQuestion).where(AssistantQuestion.outcome == Outcome.human)
                             .order_by(col(AssistantQuestion.answered_at).desc()).limit(limit)).all())


def answer(session: Session, settings: Settings, *, actor: User, question: AssistantQuestion,
           answer_md: str) -> AssistantQuestion:
    """A moderator's answer to a handed question: rendered now (app.richtext), audited, and its
    asker told on the site and by e-mail (app.notify, kind "assistant"), or, for a question
    asked in a mention on Mastodon, posted under the mention (app.assistant.mentions). Raises
    ValidationFailed ("answer_md": empty, too long, or too long for Mastodon) or
    InvalidTransition (not waiting)."""
    text = answer_md.strip()
    if not text:
        raise ValidationFailed({"answer_md": N_("Please write the answer.")})
    if len(text) > MAX_ANSWER:
        raise ValidationFailed({"answer_md": N_("The answer is too long.")})
    if question.outcome != Outcome.handed:
        raise InvalidTransition(N_("This question is not waiting for an answer."))
    mentions.check_person_answer(question, text)
    question.answer_md = text
    question.answer_html = render_markdown(text)
    question.answered_by_id = actor.id
    question.answered_at = utcnow()
    question.outcome = Outcome.human
    session.add(question)
    session.flush()
    assert question.id is not None
    record(session, actor=actor, action=AuditAction.assistant_answer, target_type=TargetType.assistant_question,
           target_id=question.id)
    mentions.queue_person_answer(session, question)  # asked on Mastodon: posted under the mention
    asker = session.get(User, question.user_id) if question.user_id is not None else None
    if asker is not None:
        notify_service.notify(session, settings, recipient=asker, kind=NotificationKind.assistant, actor=actor,
                              link=links.path("assistant:question", question_id=question.id),
                              subject=question.text[:200])
    return question


def _promotable(question: AssistantQuestion) -> None:
    if question.outcome != Outcome.human or not question.answer_md:
        raise InvalidTransition(N_("Only a question a person answered can become an entry."))
    if question.promoted_entry_id is not None:
        raise InvalidTransition(N_("This answer is already an entry."))


def entry_draft(question: AssistantQuestion, topic: str = "other") -> EntryInput:
    """The entry a person's answer would become, for the moderator to read and edit before it is
    saved: an entry is public, and the asker's words or the answer may name someone. The
    question as the entry's question, the answer as its answer, in the question's language.
    Raises InvalidTransition when the question has no person's answer or was promoted already."""
    _promotable(question)
    return EntryInput(question=question.text[:300], answer_md=question.answer_md or "", language=question.language,
                      topic=topic)


def mark_promoted(session: Session, *, question: AssistantQuestion, entry: AssistantEntry) -> None:
    """Record that `entry` was made from `question`'s answer (raises InvalidTransition as
    `entry_draft` does: an answer becomes one entry)."""
    _promotable(question)
    question.promoted_entry_id = entry.id
    session.add(question)
