"""Ideas that reached the city off the platform (paper, e-mail, phone, counter, event) and were
entered by staff on a resident's behalf: how each one came in, the name the resident wants shown,
how to reach them (kept private) and the scan of their paper form (private media)."""

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.i18n import N_


class Channel(StrEnum):
    paper = "paper"
    email = "email"
    phone = "phone"
    counter = "counter"
    event = "event"


# What each channel is called in forms and figures.
CHANNEL_LABELS = {
    Channel.paper: N_("Paper"),
    Channel.email: N_("E-mail"),
    Channel.phone: N_("Phone"),
    Channel.counter: N_("Counter"),
    Channel.event: N_("Event"),
}

# What the public idea page says of how the idea came in.
RECEIVED_LABELS = {
    Channel.paper: N_("Received on paper"),
    Channel.email: N_("Received by e-mail"),
    Channel.phone: N_("Received by phone"),
    Channel.counter: N_("Received at the counter"),
    Channel.event: N_("Received at an event"),
}


class IdeaIntake(SQLModel, table=True):
    """How one idea entered on a resident's behalf came in.

    The idea itself has no author (`Idea.author_id` is None): the staff member who typed it is
    `entered_by_id`, so their own ideas, limits and supports are untouched. `display_name` is
    the name the resident wants shown ("" for anonymous); `contact_email` receives the e-mails
    about the idea's status and official answer; `postal_address` is for staff only. The scan
    is a private media file (stored apart, under `Settings.private_media_dir`, served only by
    `intake:scan` to staff). `fingerprint` identifies a row of a bulk import within its call,
    so that importing the same file again creates nothing. `erased_at` is set once staff erased
    the resident's personal data (app.intake.privacy)."""

    __tablename__ = "idea_intake"
    __table_args__ = (sa.UniqueConstraint("call_id", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id", unique=True, ondelete="CASCADE")
    call_id: int = Field(foreign_key="call.id", index=True, ondelete="CASCADE")
    channel: str = Field(sa_type=sa.String(20))
    display_name: str = Field(default="", sa_type=sa.String(80))
    contact_email: str | None = Field(default=None, sa_type=sa.String(254))
    postal_address: str = Field(default="", sa_type=sa.String(300))
    scan_media_id: int | None = Field(default=None, foreign_key="media_file.id", ondelete="SET NULL")
    entered_by_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    fingerprint: str | None = Field(default=None, sa_type=sa.String(64))
    created_at: datetime = Field(default_factory=utcnow)
    erased_at: datetime | None = None
