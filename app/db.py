"""Database engines and the per-request session.

SQLite is opened in WAL mode with foreign keys and a busy timeout. Python's sqlite3 module
starts transactions lazily and as DEFERRED: two requests that both read then write would
deadlock into "database is locked". We take over transaction control and start every write
session with BEGIN IMMEDIATE, so writers queue on the busy timeout instead of failing, while
readers (GET requests) keep plain BEGIN and never wait for a writer under WAL.

SQLite lets one writer in at a time, and its busy handler (what `busy_timeout` installs) does
not wake a waiter when the lock is free: it sleeps and tries again (1, 2, 5, 10 ... 100 ms), so
writers that meet there idle for tens of milliseconds while nobody writes. A writing request
therefore takes its turn before its first statement (`sqlite_write_turn`): first the process's
asyncio lock (`Database.write_turn`, waited for on the event loop, no thread), then the
database's writer lock file (`WriterFileLock`, "<database>-writer.lock", an exclusive `flock`
waited for in one thread of the process's own), which the kernel hands to the next waiting
process the moment it is released. Both are held until the request's session is closed. The
worker and the CLI do not take the file lock: their BEGIN IMMEDIATE waits on the busy timeout,
the safety net, which also covers a request meeting them.
"""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql as postgresql_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql.dml import Insert
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import prepared_statements, redis_link
from app.errors import NotFound
from app.pagecache import tracking as page_tracking
from app.pagecache.generation import Generation
from app.redis_link import RedisLink
from app.security import SAFE_METHODS
from app.settings import Settings
from app.writer_lock import HandBack, WriterFileLock, writer_lock_path

_WRITES_ON_READ = "_reinventons_writes_on_read"
_TAKES_OWN_TURN = "_reinventons_takes_own_turn"
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
Done = TypeVar("Done")


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
    """The engine of `url`. A database error's text names its statement but not its parameters
    (`hide_parameters`, unless `echo` asks to see the statements): it goes to logs and to stored
    errors (an outbox message's), and a parameter may be a token, an address or a password's hash."""
    if url.startswith("sqlite"):
        engine = create_engine(
            url, echo=echo, hide_parameters=not echo, connect_args={"check_same_thread": False, "timeout": 15},
            pool_size=8,
        )
        _configure_sqlite(engine)
        return engine
    # A request keeps its connection from its first statement to its end, and a server process
    # runs up to its thread pool's 40 at once: 32 concurrent supports kept ~16 per process busy.
    # With 10 kept, the rest were opened for one request and closed after it (a new PostgreSQL
    # backend each time); 20 kept serve that without reconnecting. At most 30 per process, as
    # before: workers x 30 must stay within PostgreSQL's max_connections.
    engine = create_engine(url, echo=echo, hide_parameters=not echo, pool_pre_ping=True, pool_size=20,
                           max_overflow=10)
    prepared_statements.keep_across_reads(engine)  # a read request's statements planned once
    return engine


def _pool_capacity(engine: Engine) -> int | None:
    """How many connections `engine`'s pool opens at most (kept plus overflow), None if it has
    no such bound (a single shared connection, or none kept)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    return pool.size() + max(0, pool._max_overflow)  # noqa: SLF001 (no public reader)


@dataclass
class Database:
    """The engine plus a variant whose transactions take the write lock up front (SQLite), the
    page generation (app.pagecache) and Redis when configured (app.redis_link), whose rate
    limits the sessions made here count (app.ratelimit)."""

    engine: Engine
    write_engine: Engine
    generation: Generation
    redis: RedisLink | None = None
    # SQLite lets one writer in at a time; requests wait for their turn here, on the event loop,
    # then on the file lock shared with the other processes (`writing`).
    write_turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    writer_file_lock: WriterFileLock | None = None
    # Requests holding a session at once in this process (`get_session`), waited for on the
    # event loop: half the connection pool. A request keeps its connection from its first
    # statement to its end, across several trips to the thread pool. With more of them than
    # connections, the thread pool's 40 threads all ended up waiting in the pool for a
    # connection while the requests holding one waited for a thread to go on: nothing moved
    # until the pool's 30 s timeout, then 500s (100 logged-in pages at once, issue 14). Half,
    # so that a request that opens a second, short session meanwhile (the unread count read
    # after a script's write, app.web) still finds a connection.
    request_sessions: asyncio.Semaphore | None = None
    # Of those, the requests of routes that take their write turn themselves (`takes_own_turn`),
    # which hold a session while they wait for it: one at a time in a process, so that its
    # reading overlaps another process's write, not a write of its own process. Two at once
    # were measured slower (issue 14): the turn's holder shared the process's GIL with the
    # other's reading. Never all of `request_sessions`: a writer that took its turn before its
    # session (`sqlite_write_turn`) waits for a session while it holds the turn, and had the
    # own-turn requests held every session, waiting for that turn, neither would move (36
    # supports, comments and reports at once did so, tests/vote/test_parallel_votes.py).
    own_turn_sessions: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1))

    def __post_init__(self) -> None:
        path = writer_lock_path(self.engine)
        if path is not None and self.writer_file_lock is None:
            self.writer_file_lock = WriterFileLock(path)
        if self.request_sessions is None:
            connections = _pool_capacity(self.engine)
            if connections is not None:
                self.request_sessions = asyncio.Semaphore(max(1, connections // 2))

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[None]:
        """The write turn on SQLite, held for the block: this process's asyncio lock, then the
        database's file lock (`WriterFileLock`), so that at most one coroutine per process waits
        for the file lock. Released on every way out of the block, cancellation included."""
        async with self.write_turn:
            lock = self.writer_file_lock
            if lock is None:
                yield
                return
            await lock.acquire()
            try:
                yield
            finally:
                lock.release()

    async def write(self, session: Session, work: Callable[[], Done]) -> Done:
        """Run `work` (which writes through `session`, a route's session under `takes_own_turn`,
        and commits) in one trip to the thread pool, with the write turn (`writing`) held for
        that trip only. Returns what `work` returns; raises what it raises.

        On SQLite the session's transaction so far (a deferred read: the visitor, loaded before
        the turn) is ended and a `BEGIN IMMEDIATE` started in its place on the same connection,
        once the turn is held: SQLite refuses to turn a read transaction into a write (BUSY)
        when another writer committed since it began. What the session changed meanwhile is
        written then, and every object it loaded expired: read again at its next use, under
        the turn, so that `work` sees what a writer from the start would (`app.locks.fresh_under_lock`
        reads nothing more). If `work` raises, the transaction is rolled back on the database
        before the turn ends."""
        if not self.is_sqlite:  # no turn: row locks order PostgreSQL's writers (app.locks)
            return await run_in_threadpool(_as_writer, session, work, False, None)
        async with self.write_turn:
            lock = self.writer_file_lock
            if lock is None:
                return await run_in_threadpool(_as_writer, session, work, True, None)
            await lock.acquire()
            # The file lock is let go in the thread as soon as the transaction has ended, not
            # once the event loop has taken this coroutine up again: the other processes'
            # writers wait for nothing but the write itself.
            hand_back = HandBack(lock)
            try:
                return await run_in_threadpool(_as_writer, session, work, True, hand_back)
            finally:
                hand_back()  # the thread ran to its end (anyio does not abandon it): no race

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
        self.generation.close()
        if self.writer_file_lock is not None:
            self.writer_file_lock.close()
        if self.redis is not None:
            self.redis.close()


def writes_on_read(endpoint: Endpoint) -> Endpoint:
    """Mark a GET route whose reading has a natural write as its effect (opening the
    notifications marks them as read): its request gets a write session and, on SQLite, waits
    for the write turn like a POST, so that the write is the request's own. Not for actions a
    person chooses: those are POST forms, checked for CSRF. Put it under the route decorator."""
    setattr(endpoint, _WRITES_ON_READ, True)
    return endpoint


def _raw(raw: Any, statement: str) -> None:
    """Run `statement` on the DBAPI connection `raw`; its error raised as SQLAlchemy wraps a
    statement's (sqlalchemy.exc.OperationalError for SQLite's busy...), which app.handlers
    answers (a lost race: app.contention's 503, not a 500)."""
    try:
        raw.execute(statement)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, (), exc, sqlite3.Error) from exc


def _as_writer(session: Session, work: Callable[[], Done], sqlite: bool, hand_back: HandBack | None) -> Done:
    # In the thread pool, the turn held (`Database.write`).
    raw = None
    if sqlite:
        # The DBAPI connection itself: SQLAlchemy keeps thinking its transaction goes on (it
        # does, as a writer now), and commits or rolls it back as its own.
        raw = session.connection().connection.dbapi_connection
        assert raw is not None
        if raw.in_transaction:
            _raw(raw, "COMMIT")  # a read: nothing of it to keep but the loaded objects
        _raw(raw, "BEGIN IMMEDIATE")
    session.autoflush = True  # off until now (`get_session`): what waited is written in the turn
    try:
        if raw is not None:
            # In the `try`: a flush that fails is rolled back under the turn, as `work` is.
            session.flush()
            # What was read before the turn is read again at its next use, now that no other
            # writer can change it: the session is then a writer's from its start, as far as
            # `app.locks.fresh_under_lock` is concerned (one SELECT of the voter by its key, where
            # reading the voter, call and idea again joined took more CPU, in the turn).
            session.expire_all()
            session.connection().execution_options(sqlite_immediate=True)
        done = work()
    except BaseException:
        # SQLite: rolled back now, under the turn (the session's own end later finds nothing
        # to end). PostgreSQL: by the session's end, as any request's (row locks are its own).
        if raw is not None and raw.in_transaction:
            raw.execute("ROLLBACK")
        if hand_back is not None:
            hand_back()
        raise
    if hand_back is not None and raw is not None and not raw.in_transaction:
        hand_back()  # committed: SQLite's write lock is free (else kept until the coroutine's end)
    return done


def takes_own_turn(endpoint: Endpoint) -> Endpoint:
    """Mark a writing route that holds the SQLite write turn only while it writes
    (`Database.write`), not from before its visitor is loaded: its session reads as a GET's
    until then. Put it under the route decorator. A support's turn held from the start was
    3.2 ms at p50, of which the route's statements took 1.2 (issue 14)."""
    setattr(endpoint, _TAKES_OWN_TURN, True)
    return endpoint


def _takes_own_turn(request: Request) -> bool:
    return bool(getattr(request.scope.get("endpoint"), _TAKES_OWN_TURN, False))


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
    own_turn = _takes_own_turn(request)
    write = is_write_request(request) and not own_turn
    slots = db.request_sessions
    own_slots = db.own_turn_sessions if own_turn and db.is_sqlite else None
    if own_slots is not None:
        await own_slots.acquire()
    try:
        async with _slot(slots):
            session = db.session(write=write)
            if own_turn:
                # Nothing it holds is written before the turn (`Database.write` turns this back
                # on): an object changed before it, flushed by the next read, would make the read
                # transaction a writer without the turn, waiting on SQLite's busy timeout for the
                # turn's holder while this request waits for the turn. (The visitor's last
                # activity is no such change: written at commit, app.account.sessions.touch.)
                session.autoflush = False
            try:
                yield session
            finally:
                await _close(db, session, write)
    finally:
        if own_slots is not None:
            own_slots.release()


@asynccontextmanager
async def _slot(slots: asyncio.Semaphore | None) -> AsyncIterator[None]:
    if slots is None:
        yield
        return
    async with slots:  # before the session: a request waiting here holds no connection
        yield


async def _close(db: Database, session: Session, write: bool) -> None:
    # close() rolls back what was not committed without expiring the loaded objects (an
    # explicit rollback() would), so an error page can still show the current user. With a
    # transaction open it talks to the database: in the thread pool, run to its end even if
    # the request is cancelled (anyio does not abandon the thread). Without one (the route
    # committed, or never read), it only forgets its objects: no trip for that. Nor for a
    # read on SQLite: ending it is a call into the library in this process that waits for
    # no lock (a reader holds none in WAL mode) and writes nothing, cheaper than the trip
    # (a logged-in list page: 5 trips before issue 14's cut, this was one).
    if session.in_transaction() and (write or not db.is_sqlite):
        await run_in_threadpool(session.close)
    else:
        session.close()


async def sqlite_write_turn(request: Request) -> AsyncIterator[None]:
    """Application-wide dependency, before any session: a writing request (`is_write_request`)
    on SQLite waits for its turn (`Database.writing`: the process's, then the database's across
    processes), then keeps it until its session is closed.

    A write session holds SQLite's lock across several thread-pool hops (dependencies, the
    route, the teardown). Had 40 requests waited for that lock inside the thread pool (its
    size), the holder could not get a thread back to finish: every writer stalled until the
    busy timeout, then failed with "database is locked". Waiting here uses no thread.
    """
    db: Database = request.app.state.db
    if not is_write_request(request) or not db.is_sqlite or _takes_own_turn(request):
        yield
        return
    async with db.writing():
        yield


# The request's session and its write turn end when the route has answered, before the answer
# is sent (FastAPI's "function" scope; its default keeps them until the last byte is written):
# on SQLite the next writer waits for nothing but this request's own work. The answer must not
# read the database while it is sent (the ZIP downloads are built before they stream). Every
# dependency on the session goes through this one object: FastAPI caches a dependency per scope,
# and two scopes would mean two sessions.
REQUEST_SESSION = Depends(get_session, scope="function")
WRITE_TURN = Depends(sqlite_write_turn, scope="function")


Row = TypeVar("Row")


def get_or_not_found(session: Session, model: type[Row], key: Any, message: str | None = None) -> Row:
    """The `model` row whose primary key is `key`; raises app.errors.NotFound (a 404 page in
    the reader's language, `message` an English msgid if given) when there is none."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(message)
    return row


def insert_on_conflict(session: Session, model: type[Any]) -> Any:
    """An INSERT into `model`'s table that takes ON CONFLICT clauses, in the dialect of the
    database `session` is bound to (SQLite's and PostgreSQL's spell them alike but SQLAlchemy
    builds them per dialect). Returns `sqlite.Insert` or `postgresql.Insert`; call `.values(...)`
    then `.on_conflict_do_nothing(...)` or `.on_conflict_do_update(...)` on it. Source: the
    UPSERT clauses of https://www.sqlite.org/lang_upsert.html and PostgreSQL's INSERT."""
    dialect = sqlite_dialect if session.get_bind().dialect.name == "sqlite" else postgresql_dialect
    statement: Insert = dialect.insert(model)
    return statement
