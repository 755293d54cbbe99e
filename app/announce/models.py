"""An announcement and the per-call choice of which events may be announced."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.i18n import N_


class AnnouncementEvent(StrEnum):
    """What an announcement tells of: an event of a call's life, or anything ("free")."""

    call_opens = "call_opens"  # the call opens for ideas
    voting_opens = "voting_opens"
    voting_closes_soon = "voting_closes_soon"  # voting closes in 48 hours
    results_published = "results_published"
    idea_answered = "idea_answered"  # an idea received an official answer
    free = "free"  # written by a moderator, with or without a call


EVENT_LABELS: dict[str, str] = {
    AnnouncementEvent.call_opens: N_("The call opens for ideas"),
    AnnouncementEvent.voting_opens: N_("Voting opens"),
    AnnouncementEvent.voting_closes_soon: N_("Voting closes in 48 hours"),
    AnnouncementEvent.results_published: N_("Results are published"),
    AnnouncementEvent.idea_answered: N_("An idea receives an official answer"),
    AnnouncementEvent.free: N_("Free announcement"),
}


class AnnouncementStatus(StrEnum):
    draft = "draft"
    scheduled = "scheduled"  # published by the worker at scheduled_at
    published = "published"
    cancelled = "cancelled"


STATUS_LABELS: dict[str, str] = {
    AnnouncementStatus.draft: N_("Draft"),
    AnnouncementStatus.scheduled: N_("Scheduled"),
    AnnouncementStatus.published: N_("Published"),
    AnnouncementStatus.cancelled: N_("Cancelled"),
}


class Announcement(SQLModel, table=True):
    """One announcement. `texts` maps a language code (app.settings.LANGUAGES) to its plain
    text, escaped on output; `link` is an absolute http(s) URL or ""; the image is a media file
    (the call's cover) described by `image_alt`."""

    __tablename__ = "announcement"
    __table_args__ = (sa.Index("ix_announcement_status_published", "status", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True, ondelete="SET NULL")
    idea_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="SET NULL")
    event: str = Field(sa_type=sa.String(30))
    texts: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    link: str = Field(default="", sa_type=sa.String(500))
    image_id: int | None = Field(default=None, foreign_key="media_file.id", ondelete="SET NULL")
    image_alt: str = Field(default="", sa_type=sa.String(1000))
    status: str = Field(default=AnnouncementStatus.draft, sa_type=sa.String(10))
    scheduled_at: datetime | None = None
    published_at: datetime | None = None
    # The moderator who wrote it; an official text of the city, kept when they leave.
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    # What the channels did with it, in English for moderators ("no channel configured").
    delivery_note: str = Field(default="", sa_type=sa.String(200))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CallAnnouncementSettings(SQLModel, table=True):
    """Which events of a call may be announced. No row: every event may (the default)."""

    __tablename__ = "call_announcement_settings"

    call_id: int = Field(foreign_key="call.id", primary_key=True, ondelete="CASCADE")
    disabled_events: list[str] = Field(default_factory=list, sa_type=sa.JSON)
