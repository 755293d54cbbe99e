"""Sliding-window limits counted in the database.

`check` raises RateLimited with the seconds until the oldest counted hit leaves the window;
`record` adds a hit. Callers record inside their transaction; a failed login records its hit
and the route commits it even though the login itself is refused.
"""

import hashlib
from datetime import timedelta

from sqlalchemy import delete, func, text
from sqlmodel import Session, select

from app.clock import utcnow
from app.errors import RateLimited
from app.ratelimit.models import RateLimitHit

KEY_LENGTH = 200  # RateLimitHit.key


def _stored_key(key: str) -> str:
    """Keys hold what visitors typed (an e-mail address): one too long for the column is
    stored as its digest, so it still counts, and never overflows (a 500 on PostgreSQL)."""
    if len(key) <= KEY_LENGTH:
        return key
    prefix = key.split(":", 1)[0][:40]
    return f"{prefix}:sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def check(session: Session, key: str, *, limit: int, window: timedelta, message: str | None = None) -> None:
    """Raise RateLimited (with the seconds to wait, and `message` if given) when `key` has had `limit` hits
    within `window`. Serialised per key (an advisory lock on PostgreSQL, the write turn on SQLite)
    so that parallel requests cannot all pass."""
    key = _stored_key(key)
    _serialise(session, key)
    since = utcnow() - window
    count, oldest = session.exec(
        select(func.count(), func.min(RateLimitHit.created_at)).where(
            RateLimitHit.key == key, RateLimitHit.created_at > since
        )
    ).one()
    if count >= limit and oldest is not None:
        retry_after = max(1, int((oldest + window - utcnow()).total_seconds()) + 1)
        raise RateLimited(retry_after=retry_after, message=message)


def _serialise(session: Session, key: str) -> None:
    """Requests counting the same key take turns until their transaction ends, so that twenty
    parallel guesses cannot all read "4 hits" and pass. SQLite write transactions are already
    serial (BEGIN IMMEDIATE); PostgreSQL's READ COMMITTED needs a lock (an advisory one, since
    the key may have no row yet)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})


def record(session: Session, key: str) -> None:
    """Count one hit for `key` now (in the caller's transaction)."""
    key = _stored_key(key)
    session.add(RateLimitHit(key=key))


def clear(session: Session, key: str) -> None:
    """Forget every hit of `key` (a successful login clears its failures)."""
    key = _stored_key(key)
    session.execute(delete(RateLimitHit).where(RateLimitHit.key == key))  # type: ignore[arg-type]


def prune(session: Session, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete hits older than `older_than`, which no window looks at any more; returns how many."""
    result = session.execute(
        delete(RateLimitHit).where(RateLimitHit.created_at < utcnow() - older_than)  # type: ignore[arg-type]
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
