"""Queue side effects with their cause, and carry them out later, at least once.

Messages are claimed in a short write transaction (FOR UPDATE SKIP LOCKED on PostgreSQL,
BEGIN IMMEDIATE on SQLite), handled outside any transaction, then marked done, or rescheduled
with exponential backoff. A claim expires, so a worker that dies mid-message does not lose it.
Handlers must therefore be idempotent (they receive the message id to deduplicate with).
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.db import Database
from app.outbox.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

Handler = Callable[[int, dict[str, Any]], None]
CLAIM_SECONDS = 300
# Payload keys listed under this key are blanked once the message is done: an e-mail body can
# hold a single-use link, and a delivered message has no reason to keep it readable in the table.
REDACT_WHEN_DONE = "redact_when_done"


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, dedupe_key: str | None = None,
            run_at: datetime | None = None) -> OutboxMessage | None:
    """Add a message in the caller's transaction. A message with the same dedupe_key is
    queued only once: returns None when it already exists, also when a concurrent transaction
    queued it first. The unique index decides at once (INSERT ... ON CONFLICT DO NOTHING, which
    waits for that other transaction), not at the caller's commit, which would then fail."""
    message = OutboxMessage(kind=kind, payload=payload, dedupe_key=dedupe_key,
                            next_attempt_at=run_at or utcnow())
    if dedupe_key is None:
        session.add(message)
        return message
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first() is not None:
        return None  # the usual case, answered without spending an id of the sequence
    dialect = sqlite if session.get_bind().dialect.name == "sqlite" else postgresql
    values = message.model_dump(exclude={"id"})
    new_id = session.execute(
        dialect.insert(OutboxMessage).values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(col(OutboxMessage.id))
    ).scalar()
    return None if new_id is None else session.get(OutboxMessage, new_id)


def backoff(attempts: int) -> timedelta:
    """The delay before attempt `attempts` + 1: 30 s doubled after each failure, at most 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def claim(db: Database, limit: int = 20) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this worker in a short transaction of their own (FOR UPDATE
    SKIP LOCKED on PostgreSQL, the write lock on SQLite), marking them running until a lease expires
    so that a crashed worker's messages are taken up again. Returns the claimed messages."""
    now = utcnow()
    with db.transaction() as session:
        due = session.exec(
            select(OutboxMessage)
            .where(
                OutboxMessage.next_attempt_at <= now,
                or_(
                    col(OutboxMessage.status) == OutboxStatus.pending,
                    (col(OutboxMessage.status) == OutboxStatus.running)
                    & (col(OutboxMessage.locked_until) < now),
                ),
            )
            .order_by(col(OutboxMessage.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        for message in due:
            message.status = OutboxStatus.running
            message.locked_until = now + timedelta(seconds=CLAIM_SECONDS)
            session.add(message)
    return list(due)


def run_pending(db: Database, handlers: Mapping[str, Handler], limit: int = 20) -> int:
    """Claim and handle one batch of due messages. Returns how many were handled."""
    messages = claim(db, limit)
    for message in messages:
        assert message.id is not None
        error: str | None = None
        handler = handlers.get(message.kind)
        try:
            if handler is None:
                raise LookupError(f"no handler for outbox kind {message.kind!r}")
            handler(message.id, dict(message.payload))
        except Exception as exc:  # noqa: BLE001 - any failure is retried, and recorded for admins
            error = f"{type(exc).__name__}: {exc}"[:2000]
            log.warning("outbox message %s (%s) failed: %s", message.id, message.kind, error)
        _finish(db, message.id, error)
    return len(messages)


def _finish(db: Database, message_id: int, error: str | None) -> None:
    with db.transaction() as session:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            return
        message.locked_until = None
        if error is None:
            message.status = OutboxStatus.done
            message.done_at = utcnow()
            message.last_error = None
            redacted = message.payload.get(REDACT_WHEN_DONE) or []
            if redacted:
                message.payload = {k: ("" if k in redacted else v) for k, v in message.payload.items()}
        else:
            message.attempts += 1
            message.last_error = error
            if message.attempts >= message.max_attempts:
                message.status = OutboxStatus.failed
            else:
                message.status = OutboxStatus.pending
                message.next_attempt_at = utcnow() + backoff(message.attempts)
        session.add(message)
