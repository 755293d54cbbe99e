"""Reports of abuse on ideas and comments, by citizens, for moderators to review."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.i18n import N_


class ReportTarget(StrEnum):
    idea = "idea"
    comment = "comment"


class ReportReason(StrEnum):
    spam = "spam"
    insult = "insult"
    hate = "hate"
    personal_data = "personal_data"
    off_topic = "off_topic"
    other = "other"


REASON_LABELS = {
    ReportReason.spam: N_("Spam or advertising"),
    ReportReason.insult: N_("Insults or harassment"),
    ReportReason.hate: N_("Hate speech or discrimination"),
    ReportReason.personal_data: N_("Personal data of someone else"),
    ReportReason.off_topic: N_("Off topic"),
    ReportReason.other: N_("Something else"),
}


class Report(SQLModel, table=True):
    __tablename__ = "report"
    # One report per person per item: the database refuses a second one, whatever the race.
    __table_args__ = (
        sa.UniqueConstraint("target_type", "target_id", "reporter_id", name="uq_report_target_reporter"),
        sa.Index("ix_report_target", "target_type", "target_id"),
        sa.Index("ix_report_open", "resolved_at", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    target_type: str = Field(sa_type=sa.String(10))
    target_id: int
    # The idea concerned (the idea itself, or the idea of the reported comment).
    idea_id: int = Field(foreign_key="idea.id", index=True, ondelete="CASCADE")
    reporter_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    reason: str = Field(sa_type=sa.String(20))
    details: str = Field(default="", sa_type=sa.String(1000))
    created_at: datetime = Field(default_factory=utcnow)
    # Set by the moderator who reviewed it.
    resolved_at: datetime | None = None
    resolved_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    resolution: str | None = Field(default=None, sa_type=sa.String(20))
