"""Shared arrangements for the moderation tests."""

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from app.account.models import Role, User
from app.call.models import Call
from app.idea.models import Idea, IdeaStatusChange
from app.moderation.models import AuditEntry
from app.notify.models import Notification
from app.outbox.models import OutboxMessage
from tests.factories import make_call, make_idea, make_user


@dataclass
class World:
    moderator: User
    admin: User
    citizen: User
    author: User
    call: Call
    idea: Idea  # submitted, in a pre-moderated call


def world(session: Session, *, phase: str = "submissions", status: str = "submitted") -> World:
    moderator = make_user(session, role=Role.moderator, display_name="Modératrice Ana")
    admin = make_user(session, role=Role.admin, display_name="Admin Bob")
    citizen = make_user(session, display_name="Citoyen Carl")
    author = make_user(session, display_name="Autrice Dina")
    call = make_call(session, phase=phase, premoderation=True)
    idea = make_idea(session, call, author, status=status, title="Plus de bancs au parc")
    session.commit()
    return World(moderator, admin, citizen, author, call, idea)


def audit_count(session: Session, **where: object) -> int:
    query = select(func.count()).select_from(AuditEntry)
    for key, value in where.items():
        query = query.where(getattr(AuditEntry, key) == value)
    session.expire_all()
    return int(session.exec(query).one())


def history(session: Session, idea_id: int) -> list[IdeaStatusChange]:
    session.expire_all()
    return list(session.exec(select(IdeaStatusChange).where(IdeaStatusChange.idea_id == idea_id)
                             .order_by(col(IdeaStatusChange.id))).all())


def notifications_for(session: Session, user: User) -> list[Notification]:
    session.expire_all()
    return list(session.exec(select(Notification).where(Notification.user_id == user.id)
                             .order_by(col(Notification.id))).all())


def emails_to(session: Session, address: str) -> list[dict[str, str]]:
    session.expire_all()
    rows = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")
                        .order_by(col(OutboxMessage.id))).all()
    return [dict(r.payload) for r in rows if r.payload.get("to") == address]
