"""Database engines and the per-request session.

SQLite is opened in WAL mode with foreign keys and a busy timeout. Python's sqlite3 module
starts transactions lazily and as DEFERRED: two requests that both read then write would
deadlock into "database is locked". We take over transaction control and start every write
session with BEGIN IMMEDIATE, so writers queue on the busy timeout instead of failing, while
readers (GET requests) keep plain BEGIN and never wait for a writer under WAL.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import redis_link
from app.errors import NotFound
from app.pagecache import tracking as page_tracking
from app.pagecache.generation import Generation
from app.redis_link import RedisLink
from app.security import SAFE_METHODS
from app.settings import Settings

_WRITES_ON_READ = "_reinventons_writes_on_read"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


SQLITE_MMAP_BYTES = 1 << 30  # of a SQLite database read through memory mapping (1 GiB)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Pages read in place from the operating system's cache instead of copied by a system
        # call each: a search reads thousands of pages of the full-text index and the idea
        # table (measured at 100,000 ideas, scripts/bench_search.py: server CPU p95 over all
        # searches 21 -> 15 ms). Address space, not memory: the pages are the OS cache's own,
        # shared by every connection; a database larger than this is mapped this far.
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        if options.get("autocommit"):
            return  # every statement commits on its own (tests' inspection sessions)
        if options.get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def make_engine(url: str, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, connect_args={"check_same_thread": False, "timeout": 15}, pool_size=8
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


@dataclass
class Database:
    """The engine plus a variant whose transactions take the write lock up front (SQLite), the
    page generation (app.pagecache) and Redis when configured (app.redis_link), whose rate
    limits the sessions made here count (app.ratelimit)."""

    engine: Engine
    write_engine: Engine
    generation: Generation
    redis: RedisLink | None = None
    # SQLite lets one writer in at a time; requests wait for their turn here, on the event loop.
    write_turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        engine = make_engine(settings.resolved_database_url, echo=settings.sql_echo)
        # The one place where Redis is chosen, or not, for what every process shares besides the
        # database: the page generation (here) and rate limits (through the sessions' info).
        redis = redis_link.connect(settings)
        # Every write of every process bumps the page generation (app.pagecache).
        generation = page_tracking.install(engine, redis)
        return cls(engine=engine, write_engine=engine.execution_options(sqlite_immediate=True),
                   generation=generation, redis=redis)

    def autocommit_session(self) -> Session:
        """A session whose every statement commits at once and which never holds a snapshot:
        what tests use to arrange data and look at what the application wrote."""
        if self.is_sqlite:
            engine = self.engine.execution_options(autocommit=True)
        else:
            engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return Session(engine, expire_on_commit=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool = False) -> Session:
        return Session(self.write_engine if write else self.engine, expire_on_commit=False,
                       info={redis_link.SESSION_KEY: self.redis} if self.redis is not None else None)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A write session committed on success and rolled back on error (CLI, worker)."""
        with self.session(write=True) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
        if self.redis is not None:
            self.redis.close()


def writes_on_read(endpoint: Endpoint) -> Endpoint:
    """Mark a GET route whose reading has a natural write as its effect (opening the
    notifications marks them as read): its request gets a write session and, on SQLite, waits
    for the write turn like a POST, so that the write is the request's own. Not for actions a
    person chooses: those are POST forms, checked for CSRF. Put it under the route decorator."""
    setattr(endpoint, _WRITES_ON_READ, True)
    return endpoint


def is_write_request(request: Request) -> bool:
    """Whether the request writes: an unsafe method, or a route marked `writes_on_read`."""
    if request.method not in SAFE_METHODS:
        return True
    return bool(getattr(request.scope.get("endpoint"), _WRITES_ON_READ, False))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """The request's session: a write session for writing requests (`is_write_request`).
    Routes commit once.

    Async, so that opening it costs no trip to the thread pool (a Session touches the database
    only at its first statement); closing it, which may, runs there. On SQLite a writing request
    holds the write turn across every such trip, each a wake-up of a thread and then of the
    event loop: fewer trips, more supports per second."""
    db: Database = request.app.state.db
    session = db.session(write=is_write_request(request))
    try:
        yield session
    finally:
        # close() rolls back what was not committed without expiring the loaded objects (an
        # explicit rollback() would), so an error page can still show the current user. With a
        # transaction open it talks to the database: in the thread pool, run to its end even if
        # the request is cancelled (anyio does not abandon the thread). Without one (the route
        # committed, or never read), it only forgets its objects: no trip for that.
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


async def sqlite_write_turn(request: Request) -> AsyncIterator[None]:
    """Application-wide dependency, before any session: a writing request (`is_write_request`)
    on SQLite waits for its turn on the event loop, then keeps it until its session is closed.

    A write session holds SQLite's lock across several thread-pool hops (dependencies, the
    route, the teardown). Had 40 requests waited for that lock inside the thread pool (its
    size), the holder could not get a thread back to finish: every writer stalled until the
    busy timeout, then failed with "database is locked". Waiting here uses no thread.
    """
    db: Database = request.app.state.db
    if not is_write_request(request) or not db.is_sqlite:
        yield
        return
    async with db.write_turn:
        yield


Row = TypeVar("Row")


def get_or_not_found(session: Session, model: type[Row], key: Any, message: str | None = None) -> Row:
    """The `model` row whose primary key is `key`; raises app.errors.NotFound (a 404 page in
    the reader's language, `message` an English msgid if given) when there is none."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(message)
    return row
