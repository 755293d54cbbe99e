"""Where rate-limit hits are counted: the database (the default) or Redis (settings.redis_url).

Both keep the same thing, each hit with its time, and answer the same question (how many hits
since a moment, and the oldest of them), so that app.ratelimit.service applies the limits once
for both. `counter(session)` picks Redis when the session was made by a Database with Redis
(app.db), the database otherwise.

Transactions, as the database gives them: a hit or a clearing counts only if the caller's
transaction commits. With Redis they wait in the session until then, and are written just before
the commit, while the service's per-key turn (an advisory lock, SQLite's write lock) is still
held, so that the next request of the same key sees them. A commit that fails after that has
counted its hits: a limit a little stricter once, never looser.

Redis down (or failing): the database counts, with no error for anyone. Falling back rather
than letting everyone through, because these limits are what stops password guessing and mass
registrations, and someone able to make Redis fail must not lift them. Hits counted in Redis
before the outage are not in the database, and those counted in the database during it are not
in Redis afterwards: each switch may let a key start its window again, once.
"""

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import delete, event, func
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, select

from app.clock import utcnow
from app.ratelimit.models import RateLimitHit
from app.redis_link import SESSION_KEY, RedisLink

# No window is longer: hits older than this are deleted (the worker's prune in the database, the
# keys' expiry in Redis).
HORIZON = timedelta(days=1)
_PENDING = "rate_limit_pending"  # in a session's info: ("add", key, time) and ("forget", key, None), in order


class Counter(Protocol):
    """The hits of each key: counted, added, forgotten."""

    def hits(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        """How many hits `key` has had after `since`, and the oldest of them (None if none)."""
        ...

    def add(self, key: str) -> None:
        """Count one hit of `key` now, if the session's transaction commits."""
        ...

    def forget(self, key: str) -> None:
        """Forget every hit of `key`, if the session's transaction commits."""
        ...


class DatabaseCounter:
    """Hits as rows of rate_limit_hit, in the session's transaction."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def hits(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        count, oldest = self.session.exec(
            select(func.count(), func.min(RateLimitHit.created_at)).where(
                RateLimitHit.key == key, RateLimitHit.created_at > since
            )
        ).one()
        return int(count), oldest

    def add(self, key: str) -> None:
        self.session.add(RateLimitHit(key=key))

    def forget(self, key: str) -> None:
        self.session.execute(delete(RateLimitHit).where(RateLimitHit.key == key))  # type: ignore[arg-type]


class RedisCounter:
    """Hits as members of a sorted set per key, scored by their time in seconds since the epoch."""

    def __init__(self, session: Session, link: RedisLink) -> None:
        self.session = session
        self.link = link
        self.database = DatabaseCounter(session)

    def hits(self, key: str, since: datetime) -> tuple[int, datetime | None]:
        forgotten, added = _pending_of(self.session, key)
        stored: tuple[int, datetime | None] = (0, None)
        if not forgotten:
            name = self.link.key(f"ratelimit:{key}")
            from_redis = self.link.run("count a rate limit",
                                       lambda client: _stored_hits(client, self.link, name, since))
            stored = from_redis if from_redis is not None else self.database.hits(key, since)
        recent = [at for at in added if at > since]
        oldest = min(recent + ([stored[1]] if stored[1] is not None else []), default=None)
        return stored[0] + len(recent), oldest

    def add(self, key: str) -> None:
        # In a transaction, begun now if need be (the database's INSERT would begin one): its
        # rollback is what forgets the hit.
        self.session.connection()
        self.session.info.setdefault(_PENDING, []).append(("add", key, utcnow()))

    def forget(self, key: str) -> None:
        self.database.forget(key)  # hits the database counted while Redis was down
        self.session.info.setdefault(_PENDING, []).append(("forget", key, None))


def counter(session: Session) -> Counter:
    """Redis's counter for a session with a Redis link (app.db), the database's otherwise."""
    link = session.info.get(SESSION_KEY)
    return RedisCounter(session, link) if link is not None else DatabaseCounter(session)


def _stored_hits(client: Any, link: RedisLink, name: str, since: datetime) -> tuple[int, datetime | None]:
    after = f"({since.timestamp()!r}"  # "(": strictly after, as the database's created_at > since
    pipe = client.pipeline(transaction=True)
    # Counted where the hit will be written: from a Redis that refuses writes, whose hits go to
    # the database, every count after the link's rest would be 0, a guess let through each time.
    link.refuse_if_read_only(pipe)
    pipe.zcount(name, after, "+inf")
    pipe.zrangebyscore(name, after, "+inf", start=0, num=1, withscores=True)
    _writable, count, oldest = pipe.execute()
    return int(count), datetime.fromtimestamp(oldest[0][1], UTC) if oldest else None


def _pending_of(session: Session, key: str) -> tuple[bool, list[datetime]]:
    """Whether the session's transaction forgot `key`, and the hits it added since."""
    forgotten, added = False, list[datetime]()
    for op, pending_key, at in session.info.get(_PENDING, ()):
        if pending_key != key:
            continue
        if op == "forget":
            forgotten, added = True, []
        else:
            added.append(at)
    return forgotten, added


def _write(client: Any, link: RedisLink, ops: list[tuple[str, str, datetime | None]]) -> bool:
    pipe = client.pipeline(transaction=True)  # MULTI/EXEC: all of them, or none
    for op, key, at in ops:
        name = link.key(f"ratelimit:{key}")
        if op == "forget" or at is None:
            pipe.delete(name)
            continue
        score = at.timestamp()
        pipe.zadd(name, {f"{score!r}:{secrets.token_hex(4)}": score})
        pipe.zremrangebyscore(name, "-inf", f"({score - HORIZON.total_seconds()!r}")
        pipe.expire(name, int(HORIZON.total_seconds()))
    pipe.execute()
    return True


@event.listens_for(OrmSession, "before_commit")
def _before_commit(session: OrmSession) -> None:
    if session.in_nested_transaction():  # a savepoint's release: the transaction goes on
        return
    ops = session.info.pop(_PENDING, None)
    link = session.info.get(SESSION_KEY)
    if not ops or link is None:
        return
    if link.run("count a rate limit", lambda client: _write(client, link, ops)) is None:
        # Redis failed: the database keeps the hits, flushed by this very commit.
        for op, key, at in ops:
            if op == "add":
                session.add(RateLimitHit(key=key, created_at=at))


@event.listens_for(OrmSession, "after_transaction_end")
def _end(session: OrmSession, transaction: Any) -> None:
    if transaction.parent is None:  # a rollback, or a close without commit: nothing counted
        session.info.pop(_PENDING, None)
