"""Side effects that leave the process, written in the same transaction as their cause."""

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.clock import utcnow


class OutboxStatus(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"  # gave up after the last retry; visible to admins
    # Not to be carried out any more: its recipient left, or what it told of was hidden since
    # (a handler raised outbox.service.Cancelled, or an account deletion cancelled it).
    cancelled = "cancelled"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=sa.String(50))
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    # Makes enqueueing idempotent: the same effect is never queued twice.
    dedupe_key: str | None = Field(default=None, sa_type=sa.String(200), unique=True)
    status: str = Field(default=OutboxStatus.pending, sa_type=sa.String(10))
    attempts: int = 0
    max_attempts: int = 8
    next_attempt_at: datetime = Field(default_factory=utcnow)
    locked_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
    # The request that queued it (app.observability.context): the worker's log lines about it
    # carry the same id as the request's, so one search finds both.
    request_id: str | None = Field(default=None, sa_type=sa.String(64))
