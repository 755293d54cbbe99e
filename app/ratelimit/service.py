"""Sliding-window limits, counted in the database or in Redis (app.ratelimit.counters).

`check` raises RateLimited with the seconds until the oldest counted hit leaves the window;
`record` adds a hit. Callers record inside their transaction; a failed login records its hit
and the route commits it even though the login itself is refused.
"""

import hashlib
from datetime import timedelta

from sqlalchemy import delete, text
from sqlmodel import Session

from app.clock import utcnow
from app.errors import RateLimited
from app.ratelimit.counters import HORIZON, counter
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
    within `window` (at most HORIZON). Serialised per key (an advisory lock on PostgreSQL, the write
    turn on SQLite) so that parallel requests cannot all pass."""
    key = _stored_key(key)
    _serialise(session, key)
    count, oldest = counter(session).hits(key, since=utcnow() - window)
    if count >= limit and oldest is not None:
        retry_after = max(1, int((oldest + window - utcnow()).total_seconds()) + 1)
        raise RateLimited(retry_after=retry_after, message=message)


def _serialise(session: Session, key: str) -> None:
    """Requests counting the same key take turns until their transaction ends, so that twenty
    parallel guesses cannot all read "4 hits" and pass. SQLite write transactions are already
    serial (BEGIN IMMEDIATE, taken here: hits counted in Redis read nothing from the database);
    PostgreSQL's READ COMMITTED needs a lock (an advisory one, since the key may have no row yet)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    else:
        session.connection()  # begins the transaction: a write session's BEGIN IMMEDIATE


def record(session: Session, key: str) -> None:
    """Count one hit for `key` now (if the caller's transaction commits)."""
    counter(session).add(_stored_key(key))


def clear(session: Session, key: str) -> None:
    """Forget every hit of `key` (a successful login clears its failures)."""
    counter(session).forget(_stored_key(key))


def prune(session: Session, older_than: timedelta = HORIZON) -> int:
    """Delete the database's hits older than `older_than`, which no window looks at any more;
    returns how many. (Redis forgets its own: each key expires HORIZON after its last hit.)"""
    result = session.execute(
        delete(RateLimitHit).where(RateLimitHit.created_at < utcnow() - older_than)  # type: ignore[arg-type]
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
