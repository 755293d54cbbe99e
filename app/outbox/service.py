"""Queue side effects with their cause, and carry them out later, at least once.

Messages are claimed in a short write transaction (FOR UPDATE SKIP LOCKED on PostgreSQL,
BEGIN IMMEDIATE on SQLite), handled outside any transaction, then marked done, or rescheduled
with exponential backoff. A claim expires, so a worker that dies mid-message does not lose it.
Handlers must therefore be idempotent (they receive the message id to deduplicate with).

A message is a copy made when its cause happened; by the time the worker gets to it, the world
may have moved (its recipient deleted their account, what it tells of was hidden). Handlers
check again at send time and raise `Cancelled`: the row is then marked cancelled, not retried,
and keeps no payload. `cancel` does the same from a transaction (an erasure).
"""

import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, col, select

from app.clock import utcnow
from app.db import Database, insert_on_conflict
from app.observability import context as request_context
from app.observability.errors import describe, safe_text
from app.outbox.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

Handler = Callable[[int, dict[str, Any]], None]
CLAIM_SECONDS = 300
# Payload keys listed under this key are blanked once the message is done: an e-mail body can
# hold a single-use link, and a delivered message has no reason to keep it readable in the table.
REDACT_WHEN_DONE = "redact_when_done"


class Cancelled(Exception):  # noqa: N818 - a decision, not an error
    """Raised by a handler: this message must not be carried out any more (the reason, in
    English for admins, is the exception's text). Never retried."""


class RetryAt(Exception):  # noqa: N818 - a decision, not an error
    """Raised by a handler that keeps its own count of attempts (the announcement deliveries):
    run this message again at `when` (aware UTC), without counting an attempt here; `reason`
    (English, for admins) is kept as its last error."""

    def __init__(self, when: datetime, reason: str) -> None:
        super().__init__(reason)
        self.when = when


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, dedupe_key: str | None = None,
            run_at: datetime | None = None) -> OutboxMessage | None:
    """Add a message in the caller's transaction. A message with the same dedupe_key is
    queued only once: returns None when it already exists, also when a concurrent transaction
    queued it first. The unique index decides at once (INSERT ... ON CONFLICT DO NOTHING, which
    waits for that other transaction), not at the caller's commit, which would then fail."""
    message = OutboxMessage(kind=kind, payload=payload, dedupe_key=dedupe_key,
                            next_attempt_at=run_at or utcnow(), request_id=request_context.current())
    if dedupe_key is None:
        session.add(message)
        return message
    if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == dedupe_key)).first() is not None:
        return None  # the usual case, answered without spending an id of the sequence
    values = message.model_dump(exclude={"id"})
    new_id = session.execute(
        insert_on_conflict(session, OutboxMessage).values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(col(OutboxMessage.id))
    ).scalar()
    return None if new_id is None else session.get(OutboxMessage, new_id)


def backoff(attempts: int) -> timedelta:
    """The delay before attempt `attempts` + 1: 30 s doubled after each failure, at most 6 hours."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 6 * 3600))


def claim(db: Database, limit: int = 20, lease_seconds: int = CLAIM_SECONDS) -> list[OutboxMessage]:
    """Claim up to `limit` due messages for this worker in a short transaction of their own (FOR UPDATE
    SKIP LOCKED on PostgreSQL, the write lock on SQLite), marking them running for `lease_seconds`,
    after which a crashed worker's messages are taken up again. Returns the claimed messages."""
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
            message.locked_until = now + timedelta(seconds=lease_seconds)
            session.add(message)
    return list(due)


def run_pending(db: Database, handlers: Mapping[str, Handler], limit: int = 20,
                lease_seconds: int = CLAIM_SECONDS) -> int:
    """Claim and handle one batch of due messages. Returns how many were handled."""
    messages = claim(db, limit, lease_seconds)
    for message in messages:
        assert message.id is not None
        if not _renew(db, message, lease_seconds):
            # The batch took longer than the lease: another worker took this one up since.
            log.info("outbox message %s (%s) left to the worker that took it up", message.id, message.kind)
            continue
        started = time.perf_counter()
        error: str | None = None
        cancelled: str | None = None
        retry: RetryAt | None = None
        handler = handlers.get(message.kind)
        with request_context.bound(message.request_id):  # its logs carry the id of the request that queued it
            try:
                if handler is None:
                    raise LookupError(f"no handler for outbox kind {message.kind!r}")
                handler(message.id, dict(message.payload))
            # Every text below is logged and stored for administrators: made safe first (a
            # reason or an error may quote a URL with its token, a user and password).
            except Cancelled as exc:
                cancelled = safe_text(str(exc)) or "cancelled"
                log.info("outbox message %s (%s) cancelled: %s", message.id, message.kind, cancelled)
            except RetryAt as exc:
                retry = exc
                log.info("outbox message %s (%s) to run again at %s: %s", message.id, message.kind, exc.when,
                         safe_text(str(exc)))
            except Exception as exc:  # noqa: BLE001 - any failure is retried, and recorded for admins
                error = describe(exc)[:2000]
                log.warning("outbox message %s (%s) failed: %s", message.id, message.kind, error)
            else:
                log.info("outbox message %s (%s) done in %.1f ms", message.id, message.kind,
                         (time.perf_counter() - started) * 1000)
            _finish(db, message.id, error, cancelled, retry)
    return len(messages)


def _renew(db: Database, message: OutboxMessage, lease_seconds: int) -> bool:
    """Whether this worker still holds `message` (claimed with the rest of its batch, whose
    earlier messages may have taken long: network timeouts add up); if so its lease starts
    again now. False when it is no longer running under this worker's claim (another worker
    claimed it after the lease ran out, or it was cancelled): it must not be carried out here."""
    with db.transaction() as session:
        row = session.get(OutboxMessage, message.id, with_for_update=True)
        if row is None or row.status != OutboxStatus.running or row.locked_until != message.locked_until:
            return False
        row.locked_until = message.locked_until = utcnow() + timedelta(seconds=lease_seconds)
        session.add(row)
    return True


def release_running(db: Database) -> int:
    """Make every message marked running due again at once. Only for a worker that knows no
    other worker runs (on SQLite it holds the worker lock): the messages were held by a worker
    that died. Returns how many were released."""
    with db.transaction() as session:
        rows = session.exec(select(OutboxMessage).where(col(OutboxMessage.status) == OutboxStatus.running)).all()
        for message in rows:
            message.status = OutboxStatus.pending
            message.locked_until = None
            session.add(message)
    return len(rows)


def redacted(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload without the values it lists under REDACT_WHEN_DONE (blanked, keys kept)."""
    keys = payload.get(REDACT_WHEN_DONE) or []
    return {k: ("" if k in keys else v) for k, v in payload.items()}


def cancel(session: Session, message: OutboxMessage, reason: str) -> None:
    """Cancel a message in the caller's transaction. Pending or running, it will not be carried
    out (a worker holding it finds it cancelled when it finishes, see `_finish`) and keeps none
    of its payload: nothing left the site, nothing needs keeping. Already carried out or
    failed, it loses the keys it lists under REDACT_WHEN_DONE."""
    if message.status in (OutboxStatus.pending, OutboxStatus.running):
        message.status = OutboxStatus.cancelled
        message.last_error = reason[:2000]
        message.locked_until = None
        message.payload = {}
    else:
        message.payload = redacted(message.payload)
    session.add(message)


def _finish(db: Database, message_id: int, error: str | None, cancelled: str | None = None,
            retry: RetryAt | None = None) -> None:
    with db.transaction() as session:
        message = session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None:
            return
        message.locked_until = None
        if message.status == OutboxStatus.cancelled:
            pass  # cancelled while the worker held it (an erasure): it stays so
        elif cancelled is not None:
            cancel(session, message, cancelled)
        elif retry is not None:
            message.status = OutboxStatus.pending
            message.next_attempt_at = retry.when
            message.last_error = safe_text(str(retry))[:2000]
        elif error is None:
            message.status = OutboxStatus.done
            message.done_at = utcnow()
            message.last_error = None
            message.payload = redacted(message.payload)
        else:
            message.attempts += 1
            message.last_error = error
            if message.attempts >= message.max_attempts:
                message.status = OutboxStatus.failed
            else:
                message.status = OutboxStatus.pending
                message.next_attempt_at = utcnow() + backoff(message.attempts)
        session.add(message)
