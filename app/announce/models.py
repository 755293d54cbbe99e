"""An announcement and the per-call choice of which events may be announced."""

from datetime import datetime
from enum import StrEnum
from typing import Any

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
    (the call's cover) described by `image_alt`. `original_language` is the language the text
    is written in, the others being its translations; `translation_sources` maps each
    translation's language to the fingerprint (app.contentlang.fingerprint) of the original it
    was written from, so a translation left behind by a change of the original shows as out of
    date (`app.announce.service.out_of_date`)."""

    __tablename__ = "announcement"
    __table_args__ = (sa.Index("ix_announcement_status_published", "status", "published_at"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int | None = Field(default=None, foreign_key="call.id", index=True, ondelete="SET NULL")
    idea_id: int | None = Field(default=None, foreign_key="idea.id", ondelete="SET NULL")
    event: str = Field(sa_type=sa.String(30))
    texts: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
    original_language: str = Field(default="fr", sa_type=sa.String(2), sa_column_kwargs={"server_default": "fr"})
    translation_sources: dict[str, str] = Field(default_factory=dict, sa_type=sa.JSON)
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


class ChannelState(StrEnum):
    ok = "ok"
    # The network refused the credentials: nothing is sent to it until an administrator saves
    # new ones (no retry storm against a revoked token).
    needs_reauth = "needs_reauth"


class ChannelAccount(SQLModel, table=True):
    """A channel the city publishes to: its kind (a module of app/announce/channels), a name
    for staff, `config` (what may be shown again: an instance URL, a handle, the language it
    posts in) and `secrets_sealed` (tokens and passwords, encrypted with a key derived from
    the platform's secret; see app/announce/sealing.py)."""

    __tablename__ = "channel_account"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=sa.String(20))
    label: str = Field(sa_type=sa.String(100))
    config: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    secrets_sealed: str = Field(default="", sa_type=sa.Text)
    enabled: bool = True
    state: str = Field(default=ChannelState.ok, sa_type=sa.String(20))
    state_note: str = Field(default="", sa_type=sa.String(300))  # English, for staff
    # A network's rate-limit reset: nothing is sent to this channel before it.
    paused_until: datetime | None = None
    # The id of the last notification of a mention read (Mastodon; app.assistant.mentions).
    mentions_since: str = Field(default="", sa_type=sa.String(40))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DeliveryStatus(StrEnum):
    pending = "pending"  # queued, or waiting for a retry or a rate-limit reset
    sent = "sent"  # the network accepted it: remote_id and remote_url say where
    waiting_auth = "waiting_auth"  # its channel needs re-authorisation
    dead = "dead"  # gave up after the last attempt, or the network refused it for good
    cancelled = "cancelled"  # by staff, or what it told of is no longer public
    deleted = "deleted"  # sent, then removed from the network (its idea was hidden)


DELIVERY_LABELS: dict[str, str] = {
    DeliveryStatus.pending: N_("Waiting"),
    DeliveryStatus.sent: N_("Sent"),
    DeliveryStatus.waiting_auth: N_("Waiting for new credentials"),
    DeliveryStatus.dead: N_("Failed"),
    DeliveryStatus.cancelled: N_("Cancelled"),
    DeliveryStatus.deleted: N_("Deleted from the network"),
}


class Delivery(SQLModel, table=True):
    """One post on one channel, written in the transaction that decides it, with the outbox
    message that carries it out: an announcement (`announcement_id`, target "post"), a
    moderator's answer to a collected reply (`announcement_id`, target "reply:<id>"), or the
    assistant's reply under a mention of the city's account (`question_id`, no announcement,
    target "mention" for the assistant's answer and "mention:person" for a person's, `text`
    the exact text posted). Exactly one of `announcement_id` and `question_id` is set. `key` is
    sent as the idempotency key on every attempt (or names the record, or is looked for before
    a retry): the same delivery never posts twice.
    `generation` counts the outbox messages queued for it (a retry by staff queues one more)."""

    __tablename__ = "announcement_delivery"
    __table_args__ = (sa.UniqueConstraint("announcement_id", "channel_id", "target"),
                      sa.UniqueConstraint("question_id", "target"),
                      sa.CheckConstraint("(announcement_id IS NULL) <> (question_id IS NULL)", name="one_subject"),
                      sa.Index("ix_announcement_delivery_status_created", "status", "created_at"))

    id: int | None = Field(default=None, primary_key=True)
    announcement_id: int | None = Field(default=None, foreign_key="announcement.id", ondelete="CASCADE")
    # A question asked in a mention of the city's account (app.assistant.mentions): erased with it.
    question_id: int | None = Field(default=None, foreign_key="assistant_question.id", index=True,
                                    ondelete="CASCADE")
    channel_id: int = Field(foreign_key="channel_account.id", index=True, ondelete="CASCADE")
    # What is posted: "post" the announcement itself; "reply:<id>" a moderator's answer to the
    # reply of that id, posted under it on the same network; "mention" and "mention:person" the
    # assistant's and a person's answer under the mention that asked question `question_id`.
    target: str = Field(default="post", sa_type=sa.String(40))
    text: str = Field(default="", sa_type=sa.Text)  # what a mention's answer posts, as posted
    key: str = Field(sa_type=sa.String(64), unique=True)
    status: str = Field(default=DeliveryStatus.pending, sa_type=sa.String(20))
    attempts: int = 0
    generation: int = 1
    next_attempt_at: datetime | None = None
    last_error: str = Field(default="", sa_type=sa.String(500))
    remote_id: str = Field(default="", sa_type=sa.String(300))
    remote_url: str = Field(default="", sa_type=sa.String(500))
    remote_extra: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class ReplyStatus(StrEnum):
    pending = "pending"  # collected, waiting for a moderator: shown nowhere
    approved = "approved"  # shown on the announcement's page
    hidden = "hidden"  # refused or hidden by a moderator


class NetworkReply(SQLModel, table=True):
    """A public reply a published post received on its network, collected by the worker.
    Shown on the announcement's page once a moderator approved it, as that network's reaction
    with its author's handle and a link to the original. `text` is plain text, escaped on
    output. A moderator's answer is posted under it through the delivery queue (a Delivery
    with target "reply:<id>")."""

    __tablename__ = "network_reply"
    __table_args__ = (sa.UniqueConstraint("channel_id", "remote_id"),
                      sa.Index("ix_network_reply_status_collected", "status", "collected_at"))

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="announcement_delivery.id", index=True, ondelete="CASCADE")
    channel_id: int = Field(foreign_key="channel_account.id", ondelete="CASCADE")
    remote_id: str = Field(sa_type=sa.String(300))
    parent_remote_id: str = Field(default="", sa_type=sa.String(300))
    author_handle: str = Field(default="", sa_type=sa.String(200))
    author_url: str = Field(default="", sa_type=sa.String(500))
    url: str = Field(default="", sa_type=sa.String(500))
    text: str = Field(default="", sa_type=sa.Text)
    posted_at: datetime
    collected_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default=ReplyStatus.pending, sa_type=sa.String(10))
    reports: int = 0  # distinct people who reported it since it was last approved
    moderated_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    moderated_at: datetime | None = None
    answer_text: str = Field(default="", sa_type=sa.Text)  # the moderator's answer, posted under it


class NetworkReplyReport(SQLModel, table=True):
    """One person's report of a reply: counted once per person."""

    __tablename__ = "network_reply_report"

    reply_id: int = Field(foreign_key="network_reply.id", primary_key=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", primary_key=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
