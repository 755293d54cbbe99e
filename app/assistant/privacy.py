"""What the assistant keeps about a person: the questions they asked (and the answers a person
gave them). Exported with the account, erased with it, and deleted by the worker once older
than `Settings.assistant_retention_days` (`purge`). Entries promoted from a question keep the
question's words but not who asked it."""

from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.account.models import User
from app.assistant.models import AssistantQuestion
from app.clock import utcnow
from app.personal_data import Holding, when
from app.settings import Settings


def export_questions(session: Session, *, user: User, base_url: str) -> list[dict[str, Any]]:
    """Every question `user` asked the assistant that is still kept: its text, language, when,
    how it was answered, and a person's answer (Markdown) if any."""
    rows = session.exec(select(AssistantQuestion).where(AssistantQuestion.user_id == user.id)
                        .order_by(col(AssistantQuestion.id))).all()
    return [{"question": q.text, "language": q.language, "asked_at": when(q.created_at), "outcome": q.outcome,
             "helpful": q.helpful, "answer": q.answer_md or None, "answered_at": when(q.answered_at)} for q in rows]


def erase_questions(session: Session, *, user_id: int, settings: Settings) -> dict[str, int]:
    """Delete the person's questions. Returns {"assistant_questions_deleted"}."""
    result = session.execute(delete(AssistantQuestion).where(col(AssistantQuestion.user_id) == user_id))
    return {"assistant_questions_deleted": int(result.rowcount or 0)}  # type: ignore[attr-defined]


def purge(session: Session, settings: Settings) -> int:
    """Delete every question (anyone's, visitors' too) older than
    `settings.assistant_retention_days` days; returns how many. Run hourly by the worker."""
    cutoff = utcnow() - timedelta(days=max(settings.assistant_retention_days, 1))
    result = session.execute(delete(AssistantQuestion).where(col(AssistantQuestion.created_at) < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


QUESTIONS = Holding("assistant_questions", export=export_questions, erase=erase_questions)
