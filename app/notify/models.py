"""Notifications shown in the site, each person's e-mail choice per kind (at once, in a daily
or weekly digest, or never), and the digests sent."""

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
    edited = "edited"  # the wording of an idea you support or follow was changed after publication
    support = "support"  # a support of yours was set aside to keep you within a limit (app.vote.limits)
    assistant = "assistant"  # a person answered the question you asked the assistant (app.assistant)
    ballot = "ballot"  # your participatory budget ballot does not count: confirm it (again) (app.budget)


KIND_LABELS = {
    NotificationKind.comment: N_("New comments on ideas I follow"),
    NotificationKind.reply: N_("Replies to my comments"),
    NotificationKind.status: N_("Status changes and official answers on ideas I follow"),
    NotificationKind.results: N_("Results of calls I took part in"),
    NotificationKind.report: N_("Content hidden after reports (moderators)"),
    NotificationKind.edited: N_("Changes to the text of ideas I support or follow"),
    NotificationKind.support: N_("My supports set aside to keep within a call's limit"),
    NotificationKind.assistant: N_("Answers to the questions I asked the assistant"),
    NotificationKind.ballot: N_("My participatory budget ballots that do not count until I confirm them"),
}


class EmailDelivery(StrEnum):
    """How the e-mails of one kind reach a person."""

    immediate = "immediate"  # one e-mail per notification, as it happens
    daily = "daily"  # one digest a day, the next morning
    weekly = "weekly"  # one digest a week, on Monday morning
    none = "none"  # no e-mail; the notifications stay on the site


DIGESTS = (EmailDelivery.daily, EmailDelivery.weekly)

DELIVERY_LABELS = {
    EmailDelivery.immediate: N_("Immediately"),
    EmailDelivery.daily: N_("Daily digest"),
    EmailDelivery.weekly: N_("Weekly digest"),
    EmailDelivery.none: N_("No e-mail"),
}


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (
        sa.Index("ix_notification_user_unread", "user_id", "read_at"),
        # What the digest job looks for: rows waiting for a digest of one cadence.
        sa.Index("ix_notification_digest_due", "digest", "digested_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    kind: str = Field(sa_type=sa.String(20))
    idea_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="CASCADE")
    comment_id: int | None = Field(default=None, foreign_key="comment.id", ondelete="SET NULL")
    call_id: int | None = Field(default=None, foreign_key="call.id", ondelete="CASCADE")
    # Who did it. The list and the e-mail show that person's name as it is when they are read
    # or sent ("former member" once the account is deleted), so no copy of it is kept here.
    actor_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    # Rows written before actor_id existed kept a copy of the name; an erasure blanks it.
    actor_name: str = Field(default="", sa_type=sa.String(80))
    # What it was about when written. Shown only while the reader may still see that idea or
    # comment, as its current title (app.notify.views); kept as written for the record.
    subject: str = Field(default="", sa_type=sa.String(200))
    detail: str = Field(default="", sa_type=sa.String(200))
    link: str = Field(default="", sa_type=sa.String(300))
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    # The digest (daily or weekly) this row waits for, chosen by the person's preference when it
    # was written; set once the digest job has dealt with it (sent, or dropped as no longer visible).
    digest: str | None = Field(default=None, sa_type=sa.String(10))
    digested_at: datetime | None = None


class NotificationPreference(SQLModel, table=True):
    """How one kind of notification is e-mailed to one person (an EmailDelivery); no row
    means immediately."""

    __tablename__ = "notification_preference"
    __table_args__ = (sa.UniqueConstraint("user_id", "kind", name="uq_notification_preference"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    kind: str = Field(sa_type=sa.String(20))
    delivery: str = Field(default=EmailDelivery.immediate, sa_type=sa.String(10))


class NotificationDigest(SQLModel, table=True):
    """One digest period dealt with for one person: the unique key makes the digest job
    idempotent (two workers, a retry or a restart never send a period twice)."""

    __tablename__ = "notification_digest"
    __table_args__ = (sa.UniqueConstraint("user_id", "cadence", "period", name="uq_notification_digest_period"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", ondelete="CASCADE")
    cadence: str = Field(sa_type=sa.String(10))  # daily or weekly
    period: str = Field(sa_type=sa.String(10))  # "2026-11-29" (a day) or "2026-W48" (an ISO week)
    item_count: int = 0  # the notifications it listed; 0 when all had become invisible (nothing sent)
    created_at: datetime = Field(default_factory=utcnow)
