"""The assistant's tables: knowledge entries written by staff, and the questions people asked
(with what the assistant answered, or the person who answered instead)."""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow
from app.i18n import N_

TOPICS = {
    "participation": N_("Taking part"),
    "account": N_("Account and verification"),
    "voting": N_("Voting"),
    "ideas": N_("Ideas"),
    "city": N_("City services"),
    "other": N_("Other"),
}


class Outcome(StrEnum):
    answered = "answered"  # answered automatically, from an entry or live data
    unknown = "unknown"  # under the confidence threshold: a person was offered
    handed = "handed"  # the asker asked a person: waits in the moderators' queue
    human = "human"  # a person answered it


class AssistantEntry(SQLModel, table=True):
    """One question and its answer, written by an administrator or a moderator in one language,
    its original (`language`): `phrasings` holds other ways of asking it, one a line;
    `answer_html` is `answer_md` rendered at write time (app.richtext). `review_on` is the day its
    owner should check it is still true. `translations` holds its question, phrasings and answer
    in other languages, as app.contentlang keeps them (kind "assistant_entry")."""

    __tablename__ = "assistant_entry"

    id: int | None = Field(default=None, primary_key=True)
    language: str = Field(default="fr", sa_type=sa.String(2), index=True)
    topic: str = Field(default="other", sa_type=sa.String(20))
    question: str = Field(sa_type=sa.String(300))
    phrasings: str = Field(default="", sa_type=sa.Text)
    answer_md: str = Field(default="", sa_type=sa.Text)
    answer_html: str = Field(default="", sa_type=sa.Text)
    owner_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL")
    review_on: date | None = None
    # translations {language: {field: {"text", "source", "saved_at"[, "html"]}}} (app.contentlang).
    translations: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AssistantQuestion(SQLModel, table=True):
    """A question asked to the assistant, kept `Settings.assistant_retention_days` (personal
    data: app.assistant.privacy). `entry_id` or `intent` says what answered it; a question
    handed to a person gets `answer_md`/`answer_html` from a moderator (`answered_by_id`,
    `answered_at`), and `promoted_entry_id` once that answer became an entry. A question from a
    mention on Mastodon has no `user_id` but `channel_id`, `remote_id` and `remote_handle`."""

    __tablename__ = "assistant_question"
    __table_args__ = (sa.Index("ix_assistant_question_outcome_created", "outcome", "created_at"),
                      sa.UniqueConstraint("channel_id", "remote_id"))

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="user_account.id", index=True, ondelete="CASCADE")
    language: str = Field(default="fr", sa_type=sa.String(2))
    text: str = Field(sa_type=sa.String(500))
    outcome: str = Field(default=Outcome.unknown, sa_type=sa.String(10))
    entry_id: int | None = Field(default=None, foreign_key="assistant_entry.id", ondelete="SET NULL")
    intent: str | None = Field(default=None, sa_type=sa.String(30))
    score: float = 0.0
    helpful: bool | None = None
    handed_at: datetime | None = None
    answer_md: str = Field(default="", sa_type=sa.Text)
    answer_html: str = Field(default="", sa_type=sa.Text)
    answered_by_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    answered_at: datetime | None = None
    promoted_entry_id: int | None = Field(default=None, foreign_key="assistant_entry.id", ondelete="SET NULL")
    # Asked in a mention of the city's account on a network (app.assistant.mentions): the
    # channel, the mention's id there, its author's handle (`@name@server`) and its visibility,
    # which the answers under it keep. None and "" for a question asked on the platform.
    channel_id: int | None = Field(default=None, foreign_key="channel_account.id", ondelete="SET NULL")
    remote_id: str | None = Field(default=None, sa_type=sa.String(300))
    remote_handle: str = Field(default="", sa_type=sa.String(200))
    remote_visibility: str = Field(default="", sa_type=sa.String(10))
    created_at: datetime = Field(default_factory=utcnow)
