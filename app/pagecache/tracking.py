"""Which transactions change what pages show, and the generation's bump after they commit.

Every statement a session runs passes `before_cursor_execute`: an INSERT, UPDATE or DELETE on a
table outside `PRIVATE_TABLES` (or on a table it cannot tell) marks the session's transaction.
After that transaction commits (`after_commit`, once the database has it), the generation of
its database is bumped, before the route's answer is sent: whoever received the answer will
not be served a page made before the write, by any process (the answer leaves a few
milliseconds after the bump where other processes may reuse a read: app.pagecache.settle).
A rollback forgets the mark."""

import re
import weakref
from contextvars import ContextVar
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session
from sqlalchemy.pool import Pool

from app.pagecache import settle
from app.pagecache.generation import Generation, for_engine
from app.redis_link import RedisLink

# Tables no page shows to anonymous visitors: writes to them alone leave pages as they were
# (a login, a rate limit's count, an outbox message carried out, a notification read...).
PRIVATE_TABLES = frozenset({
    "user_session", "rate_limit_hit", "outbox_message", "form_submission", "email_token", "oidc_attempt",
    "notification", "notification_digest", "notification_preference", "deployment_fact", "upload_charge",
    "audit_entry",
})
# Blanks and SQL comments before a statement's first word (what a driver or a tracer may add):
# the statement is the same write behind them. Each comment ends at its first "*/" or its line's
# end, never sooner or later: one way to read a lead, so no input makes the regex backtrack.
# Also read by app.prepared_statements.
STATEMENT_LEAD = r"^(?:\s|/\*(?:[^*]|\*(?!/))*\*/|--[^\n]*(?:\n|\Z))*"
_WRITE = re.compile(STATEMENT_LEAD
                    + r'(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(\w+)"?',
                    re.IGNORECASE)
# A statement led by WITH writes when one of its parts does (PostgreSQL's data-modifying CTEs: a
# support's row and counter, app.vote.service); its table is not read, so it counts as changing pages.
_DML = re.compile(STATEMENT_LEAD
                  + r"(?:INSERT|UPDATE|DELETE|REPLACE|MERGE\b|WITH\b.*\b(?:INSERT|UPDATE|DELETE|MERGE))\b",
                  re.IGNORECASE | re.DOTALL)
_SESSION_KEY = "page_cache_session"  # in a connection's info: the info dict of the session using it
DATABASE_KEY = "page_cache_database"  # in a session's info: the key of its database in GENERATIONS
_GENERATION_KEY = "page_generation"  # in a session's info: the generation its transaction reads under

GENERATIONS: dict[str, Generation] = {}  # one per database (and Redis), shared by the engines on it
# The key in GENERATIONS of each engine's database, by the engine's pool (which its
# execution-option variants share).
_KEYS: "weakref.WeakKeyDictionary[Pool, str]" = weakref.WeakKeyDictionary()
# The generation the page cache read when the request began (before any database read): the
# values of app.pagecache.memo may be looked up under it without reading it again.
REQUEST_GENERATION: ContextVar[str | None] = ContextVar("page_generation", default=None)
_TRACKED: "weakref.WeakSet[Engine]" = weakref.WeakSet()


def changes_pages(statement: str) -> bool:
    """Whether a statement may change what a page shows: a write to a table outside
    PRIVATE_TABLES, or a write whose table cannot be read from it."""
    if not _DML.match(statement):
        return False
    found = _WRITE.match(statement)
    return found is None or found.group(1).lower() not in PRIVATE_TABLES


def install(engine: Engine, redis: RedisLink | None = None) -> Generation:
    """Track the writes of every session on `engine` (and its execution-option variants) and
    bump its database's generation (kept in Redis too when `redis` is given) after their
    commits. Returns the generation; idempotent."""
    key = engine.url.render_as_string(hide_password=False)
    if redis is not None:  # not the database's generation alone: another one (tests have both)
        key = f"{key} redis {redis.where} {redis.prefix}"
    generation = GENERATIONS.get(key) or GENERATIONS.setdefault(key, for_engine(engine, redis))
    _KEYS[engine.pool] = key
    if engine in _TRACKED:  # each engine (each process's, or each test's app) listens once
        return generation
    _TRACKED.add(engine)

    @event.listens_for(engine, "before_cursor_execute")
    def _mark(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        holder = conn.info.get(_SESSION_KEY)
        if holder is not None and changes_pages(statement):
            holder["page_cache_dirty"] = True

    @event.listens_for(engine.pool, "checkin")
    def _forget(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_SESSION_KEY, None)

    return generation


def generation_of(session: Session) -> str | None:
    """The generation the session's current transaction reads under (app.pagecache.memo), or
    None for a session on an untracked database."""
    key = session.info.get(DATABASE_KEY)
    if key is None:  # no transaction yet: reading the generation now comes before any snapshot
        key = _KEYS.get(session.get_bind().engine.pool)
        if key is None:
            return None
        session.info[DATABASE_KEY] = key
    if _GENERATION_KEY not in session.info:
        # A generation read earlier than the data is still right for it (app.pagecache.memo).
        session.info[_GENERATION_KEY] = REQUEST_GENERATION.get() or GENERATIONS[key].current()
    return str(session.info[_GENERATION_KEY])


@event.listens_for(Session, "after_begin")
def _begin(session: Session, _transaction: Any, connection: Any) -> None:
    key = _KEYS.get(connection.engine.pool)
    if key is not None:
        connection.info[_SESSION_KEY] = session.info
        session.info[DATABASE_KEY] = key
        session.info.pop("page_cache_dirty", None)
        generation = GENERATIONS[key]
        if connection.dialect.name == "sqlite" and _GENERATION_KEY not in session.info:
            # SQLite's transaction reads one snapshot, taken at its first statement, still to
            # come: the generation read now is no newer than the data (app.pagecache.memo).
            session.info[_GENERATION_KEY] = REQUEST_GENERATION.get() or generation.current()


@event.listens_for(Session, "after_commit")
def _commit(session: Session) -> None:
    if session.info.pop("page_cache_dirty", False):
        generation = GENERATIONS[session.info[DATABASE_KEY]]
        try:
            generation.bump()
        finally:  # even failed, it may have bumped: the answer (an error page) waits all the same
            settle.settled(generation.settle_seconds)
        # What this session reads next must not be looked up under the generation before its write.
        session.info.pop(_GENERATION_KEY, None)
        REQUEST_GENERATION.set(None)


@event.listens_for(Session, "after_rollback")
def _rollback(session: Session) -> None:
    session.info.pop("page_cache_dirty", None)
