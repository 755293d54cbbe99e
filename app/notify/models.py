"""Notifications shown in the site, and each person's e-mail preferences per kind."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.i18n import N_


class NotificationKind(StrEnum):
    comment = "comment"  # a new comment on an idea you follow
    reply = "reply"  # a reply to your comment
    status = "status"  # a followed idea changed status or received an official answer
    results = "results"  # the results of a call you took part in are published
    report = "report"  # moderators: an item was hidden after reports


KIND_LABELS = {
    NotificationKind.comment: N_("New comments on ideas I follow"),
    NotificationKind.reply: N_("Replies to my comments"),
    NotificationKind.status: N_("Status changes and official answers on ideas I follow"),
    NotificationKind.results: N_("Results of calls I took part in"),
    NotificationKind.report: N_("Content hidden after reports (moderators)"),
}


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (sa.Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    kind: str = Field(sa_type=sa.String(20))
    idea_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="CASCADE")
    comment_id: int | None = Field(default=None, foreign_key="comment.id", ondelete="SET NULL")
    call_id: int | None = Field(default=None, foreign_key="call.id", ondelete="CASCADE")
    # Snapshots for the list, so it needs no join: who did it, on what, and a short detail.
    actor_name: str = Field(default="", sa_type=sa.String(80))
    subject: str = Field(default="", sa_type=sa.String(200))
    detail: str = Field(default="", sa_type=sa.String(200))
    link: str = Field(default="", sa_type=sa.String(300))
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None


class NotificationPreference(SQLModel, table=True):
    """E-mail on or off for one kind; no row means on."""

    __tablename__ = "notification_preference"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", name="uq_notification_preference"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    kind: str = Field(sa_type=sa.String(20))
    email: bool = True
