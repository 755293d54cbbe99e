"""The deployment's page generation: read at the start of every cacheable request, bumped after
every commit that changed what pages show.

PostgreSQL: the sequence `page_generation` (migration 0030). `nextval` takes no lock that a
writer would wait for, and every instance on every machine reads the same sequence.
SQLite: the file `page-generation` next to the database file (one machine, by nature), overwritten
in place by each bump with a value no other bump writes (time, process id, random).
Redis, when configured (app.redis_link): a key holding such a value, read instead of the above
by every cacheable request; the database's generation is bumped too, and answers while Redis
does not (`RedisGeneration`)."""

import os
import secrets
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine

from app.pagecache.loop_reads import LoopConnections
from app.pagecache.shared_read import SharedRead, in_own_thread
from app.redis_link import RedisLink

# How long a reader holding the generation's file (`FileGeneration`) may read it without looking
# up whether the path names another file now (deleted and made again by a bump, replaced).
RECHECK_SECONDS = 1.0


def _fresh() -> str:
    """A value no other bump writes, in any process, even after Redis lost its data; always
    48 characters (FileGeneration overwrites its value in place)."""
    return f"{time.time_ns():020d}-{os.getpid():010d}-{secrets.token_hex(8)}"


# How long before a request arrived a read of a generation on another server may have started
# and still answer it (app.pagecache.shared_read), and so how long after its bump a write's
# answer waits (app.pagecache.settle). Ten milliseconds: under load a process then reads once
# for some fifty requests instead of five, and a write's answer comes that much later.
SETTLE_SECONDS = 0.01


class Generation:
    """Reads and bumps the page generation of one database."""

    # See SETTLE_SECONDS; none for a generation each process reads for itself at no cost.
    settle_seconds = 0.0

    def current(self) -> str:
        """The generation now (any string; equal strings mean no write in between)."""
        raise NotImplementedError

    def bump(self) -> None:
        """Make every page made before now stale, in every process."""
        raise NotImplementedError

    def close(self) -> None:
        """Let go of what reading and bumping hold (connections), when the database is disposed."""

    async def read_now(self) -> str:
        """`current()` for a request arriving now, from the event loop (the page cache): a
        generation on another server is read without blocking the loop (app.pagecache.loop_reads,
        or a thread of its own), once for every request arriving meanwhile
        (app.pagecache.shared_read); a local one, at once."""
        return self.current()


class FileGeneration(Generation):
    """The generation in a small file, written in place by every bump.

    Not a new file renamed over the old one: on ext4 a rename that replaces a file starts the
    new file's writeback first (auto_da_alloc), and the bump runs after every write's commit,
    with SQLite's write turn held (measured: about a fifth of a support POST's time). A bump
    overwrites the value at offset 0 with one of fixed length that no other bump writes.
    Bumps exclude each other (the kernel serialises writes to one file); a reader running
    alongside one may read part of the old value and part of the new one: a value no page was
    kept under, or the old value; once the bump has returned, every reader reads the new one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._folder_made = False
        # The file held open for reading from the first read on: a read is then one system
        # call (pread) rather than three (open, read, close), the open a lookup of the path
        # (3.7 -> 1 us of every cacheable request, in process). Bumps write in place, so the
        # file held is the one they write, unless the file at the path was deleted or replaced
        # (a data folder restored or made again, a file renamed over it): the next bump then
        # makes a new file that the one held never shows. So the path is looked up again
        # after this process's own bump (its next read) and every RECHECK_SECONDS.
        # (A database file restored under a running server is not seen: SQLite's pooled
        # connections hold the old file; restart it.)
        self._fd: int | None = None
        self._check_at = 0.0  # time.monotonic() from which the path is looked up again
        self._opening = threading.Lock()

    def current(self) -> str:
        fd = self._fd
        if fd is None or time.monotonic() >= self._check_at:
            fd = self._open()
            if fd is None:
                return ""  # no bump yet
        try:
            # Latin-1: any bytes read (a file damaged, written by hand) are a value, not a 500.
            return os.pread(fd, 64, 0).decode("latin-1")
        except OSError:  # closed meanwhile (`close`, at shutdown): read it again by its path
            fd = self._open()
            return os.pread(fd, 64, 0).decode("latin-1") if fd is not None else ""

    def _open(self) -> int | None:
        """The file's descriptor, opened now if it is not yet (None while there is no file),
        made to hold the file now at the path if that is another one (`os.dup2`: its number
        stays the same, so that a read running alongside reads one file or the other, never a
        file opened meanwhile under a number just closed)."""
        with self._opening:
            self._check_at = time.monotonic() + RECHECK_SECONDS
            try:
                if self._fd is None:
                    self._fd = os.open(self.path, os.O_RDONLY)
                elif not os.path.samestat(os.stat(self.path), os.fstat(self._fd)):
                    fresh = os.open(self.path, os.O_RDONLY)
                    try:
                        os.dup2(fresh, self._fd)
                    finally:
                        os.close(fresh)
            except FileNotFoundError:  # no file (yet, or deleted and not bumped since)
                pass
            return self._fd

    def close(self) -> None:
        with self._opening:
            fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def bump(self) -> None:
        if not self._folder_made:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._folder_made = True
        value = _fresh().encode()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        except FileNotFoundError:  # its folder was deleted since (a data folder made again)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, value, 0)
        finally:
            os.close(fd)
        self._check_at = 0.0  # this process's next read looks the path up: it may be a new file


_READ = "SELECT last_value, is_called FROM page_generation"
_BUMP = "SELECT nextval('page_generation')"


class SequenceGeneration(Generation):
    settle_seconds = SETTLE_SECONDS

    def __init__(self, engine: Engine) -> None:
        # A pool of its own: the generation is read and bumped while a request's session holds
        # one of the application's connections (a bump runs right after that session's commit).
        # Taken from the same pool, 30 busy requests would each wait for a 31st connection.
        # Eight kept, not two: 32 concurrent supports bump several at a time, and each bump past
        # the kept ones opened a connection (a new server process) and closed it after one
        # statement: 333 connections opened in a 5 s benchmark of supports, 97 with eight kept.
        # At most 32, as before.
        self.engine = create_engine(engine.url, pool_size=8, max_overflow=24, pool_timeout=10,
                                    isolation_level="AUTOCOMMIT")
        # The page cache's reads: on each event loop's own connection, outside the pool.
        self.loop_reads = LoopConnections(self.engine.dialect.create_connect_args(self.engine.url), _READ)
        self._shared = SharedRead(self.loop_reads.read, reuse_seconds=self.settle_seconds)

    async def read_now(self) -> str:
        return await self._shared()

    def current(self) -> str:
        return self._run(_READ)

    def close(self) -> None:
        # The page cache's connections are outside the pool: disposing the pool would not close
        # them, and each application made and disposed (a test, a restarted worker) would leave
        # one open. Let go, not shut: the generation is shared by every Database on this URL in
        # the process (app.pagecache.tracking.GENERATIONS), whose next read connects again.
        self.loop_reads.close()
        self.engine.dispose()

    def bump(self) -> None:
        try:
            self._run(_BUMP)
        finally:  # even failed, it may have bumped
            self._shared.forget()

    def _run(self, statement: str) -> str:
        """The first row of `statement`, run on one of the pool's connections through psycopg
        itself: every cacheable request reads the generation, and SQLAlchemy's statement and
        result layers cost three times the round trip (measured 117 -> 33 us a read on a
        2-core machine); the pool still lends the connections and bounds their number.

        Run once more on a new connection when the server closed the one lent (a restart, a
        failover, a database dropped and made again): then it closed every connection of the
        pool, which is emptied. Without this, each pooled connection failed one request in
        turn, and a failed bump answers 500 to a write that committed. Raises
        psycopg.OperationalError when the second try fails too."""
        for last_try in (False, True):
            connection = self.engine.raw_connection()
            try:
                row = connection.driver_connection.execute(statement).fetchone()  # type: ignore[union-attr]
            except psycopg.OperationalError:
                # SQLAlchemy did not run the statement, so it cannot tell a lost server itself.
                connection.invalidate()
                if last_try:
                    raise
                self.engine.dispose()
                continue
            finally:
                connection.close()  # back to the pool (or, invalidated, let go)
            return str(row)
        raise AssertionError("unreachable")


class RedisGeneration(Generation):
    """The generation kept in Redis, with the database's own generation (`database`) beside it.

    Every bump writes both, so the database's is always exact: while Redis does not answer, this
    process reads the database's instead. The two kinds of value never match ("redis:" and
    "database:" prefixes), so no page kept under one is served under the other. Writes that
    other processes made while this one could not see Redis may be missing from it (they
    bumped the database only): after any failure, the first command that succeeds again gives
    Redis a fresh value before reading it, which makes every page kept before it stale, here and
    everywhere. Each bump writes a fresh random value rather than counting up, so that a Redis
    restarted empty cannot bring back a value that pages were kept under.

    What this cannot do: a process that cannot reach Redis while others can (a partial network
    failure) bumps only the database; the others serve their kept pages until that process
    reaches Redis again, and never longer than the page cache's TTL_SECONDS."""

    settle_seconds = SETTLE_SECONDS

    def __init__(self, link: RedisLink, database: Generation) -> None:
        self.link = link
        self.database = database
        self.key = link.key("page-generation")
        self._unsure = False  # a command failed: Redis may lack writes; renew before trusting it
        self._shared = SharedRead(in_own_thread(self.current), reuse_seconds=self.settle_seconds)

    async def read_now(self) -> str:
        return await self._shared()

    def current(self) -> str:
        if self._unsure:
            self._renew()
        value = None if self._unsure else self.link.run("read the page generation", self._read)
        if value is None:
            self._unsure = True
            return f"database:{self.database.current()}"
        return f"redis:{value}"

    def bump(self) -> None:
        try:
            self.database.bump()
            self._renew()
        finally:  # even failed, it may have bumped
            self._shared.forget()

    def close(self) -> None:
        self.database.close()

    def _read(self, client: Any) -> str:
        # Not a plain GET: from a Redis that answers reads but refuses writes, it would read an
        # unchanged value while every process's bump fails, and pages kept before those writes
        # (an idea hidden since) would be served until TTL_SECONDS. Such a Redis fails this
        # pipeline, and this process reads the database's generation.
        pipe = client.pipeline(transaction=False)
        self.link.refuse_if_read_only(pipe)
        pipe.get(self.key)
        return str(pipe.execute()[1] or "")

    def _renew(self) -> None:
        self._unsure = self.link.run("bump the page generation",
                                     lambda client: client.set(self.key, _fresh())) is None


def for_engine(engine: Engine, redis: RedisLink | None = None) -> Generation:
    """The generation of the database behind `engine`, kept in Redis too when `redis` is given."""
    if redis is not None:
        return RedisGeneration(redis, for_engine(engine))
    if engine.dialect.name == "postgresql":
        return SequenceGeneration(engine)
    database = engine.url.database or ""
    if not database or database == ":memory:":
        return FileGeneration(Path(f"/tmp/reinventons-page-generation-{os.getpid()}"))  # noqa: S108 - one process
    return FileGeneration(Path(database).with_name(Path(database).name + ".page-generation"))
