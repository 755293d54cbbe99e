"""The page generation on PostgreSQL outlives its connections: after the server closed them (a
restart, a failover), the next read and bump run on new ones instead of failing, one request per
dead pooled connection, and a write that committed is not answered 500 because its bump failed."""

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlmodel import Session

from app.db import Database
from app.main import create_app
from app.pagecache.generation import SequenceGeneration
from app.pagecache.loop_reads import LoopConnections
from app.settings import Settings
from tests.factories import make_call
from tests.support import WebClient, run_coroutine


def test_reads_and_bumps_go_on_after_the_server_closed_every_connection(db: Database) -> None:
    generation = db.generation
    if not isinstance(generation, SequenceGeneration):
        pytest.skip("the generation is a sequence on PostgreSQL only")
    lent = [generation.engine.raw_connection() for _ in range(3)]  # three connections in its pool
    pids = [c.driver_connection.execute("SELECT pg_backend_pid()").fetchone()[0] for c in lent]  # type: ignore[union-attr]
    for connection in lent:
        connection.close()
    before = generation.current()
    with db.engine.connect() as admin:
        for pid in pids:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    generation.bump()  # on a dead connection before: AdminShutdown
    after = generation.current()
    assert after != before
    assert generation.current() == after


def _terminate(db: Database, pids: list[int]) -> None:
    with db.engine.connect() as admin:
        for pid in pids:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def test_the_page_caches_reads_go_on_after_the_server_closed_their_connection(db: Database) -> None:
    generation = db.generation
    if not isinstance(generation, SequenceGeneration):
        pytest.skip("the generation is a sequence on PostgreSQL only")

    async def scenario() -> tuple[str, str, str, list[int], list[int]]:
        before = await generation.read_now()  # the requests' reads: this loop's own connection
        pids = generation.loop_reads.backend_pids()
        _terminate(db, pids)  # the server closes it (a restart, a failover)
        generation.bump()
        after = await generation.read_now()  # on the dead connection: AdminShutdown, then a new one
        again = await generation.read_now()
        return before, after, again, pids, generation.loop_reads.backend_pids()

    before, after, again, old_pids, new_pids = run_coroutine(scenario())
    assert len(old_pids) == 1 and len(new_pids) == 1 and old_pids != new_pids
    assert after != before and after == generation.current() == again


def test_a_loop_reads_on_one_connection_of_its_own(db: Database) -> None:
    """Each read of a loop on the same connection (no connection opened per read), and each
    loop on its own (a socket is watched by one loop)."""
    generation = db.generation
    if not isinstance(generation, SequenceGeneration):
        pytest.skip("the generation is a sequence on PostgreSQL only")
    generation.loop_reads.close()

    async def reads() -> list[int]:
        pids = []
        for _ in range(5):
            await generation.read_now()
            pids.extend(generation.loop_reads.backend_pids())
        return pids

    first = run_coroutine(reads())
    assert len(set(first)) == 1
    second = run_coroutine(reads())  # another loop: its own connection
    assert len(set(second)) == 1 and second[0] != first[0]
    # The ended loop's connection is not left open (closed by the next loop's first read, or
    # when the ended loop is collected, whichever comes first).
    assert first[0] not in generation.loop_reads.backend_pids()
    assert _ended(db.engine.url.render_as_string(hide_password=False), [first[0]])


def _ended(url: str, pids: list[int]) -> bool:
    """Whether the server processes `pids` of the database at `url` (SQLAlchemy's form) have
    ended, waited for up to 10 s (a server process ends a moment after its client closed the
    connection)."""
    deadline = time.monotonic() + 10
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as admin:
        while True:
            alive = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)).fetchone()
            if alive == (0,) or time.monotonic() > deadline:
                return alive == (0,)
            time.sleep(0.05)


def test_a_close_from_another_thread_waits_for_the_read_under_way(db: Database) -> None:
    """The database disposed (closing the loops' connections, from its own thread) while a
    loop's read waits for its answer: that read is answered on its connection, closed right
    after it, and no connection is left open. (Closed under the read, the read failed and was
    made again on a new connection, which the disposal then left open.)"""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the loops' connections are PostgreSQL's")
    # A read that waits at the server (a third of a second) for the close to come meanwhile.
    reads = LoopConnections(db.engine.dialect.create_connect_args(db.engine.url), "SELECT 1 FROM pg_sleep(0.3)")

    async def scenario() -> tuple[str, list[int], list[int]]:
        await reads.read()
        before = reads.backend_pids()
        reading = asyncio.ensure_future(reads.read())
        await asyncio.sleep(0.1)  # the read is at the server
        closing = threading.Thread(target=reads.close)
        closing.start()
        value = await asyncio.wait_for(reading, 5)
        closing.join()
        return value, before, reads.backend_pids()

    value, before, after = run_coroutine(scenario())
    assert value == "(1,)"
    assert len(before) == 1 and after == []


def test_a_disposed_database_leaves_none_of_the_generations_connections_open(settings: Settings) -> None:
    """Each application made and disposed (a restarted worker, every test) closed its page
    generation's connections too: the page cache's reader keeps one outside the pool, which
    disposing the pool does not close."""
    database = Database.from_settings(settings)
    generation = database.generation
    if not isinstance(generation, SequenceGeneration):
        database.dispose()
        pytest.skip("the generation is a sequence on PostgreSQL only")

    async def read_and_keep_the_loop() -> list[int]:
        await generation.read_now()
        return generation.loop_reads.backend_pids()

    # The loop ended by now: its connection is closed by the disposal, not by a loop's next read.
    pids = set(run_coroutine(read_and_keep_the_loop()))
    assert len(pids) == 1
    generation.bump()
    with generation.engine.connect() as pooled:
        pids.add(pooled.connection.dbapi_connection.info.backend_pid)  # type: ignore[union-attr]
    database.dispose()

    assert _ended(settings.resolved_database_url, list(pids))


def test_a_read_while_or_after_the_database_is_disposed_is_answered(settings: Settings) -> None:
    """The generation is shared by every Database on its URL in the process: one disposed (a
    test's application, a shutdown) lets its connections go, and the next read, from another
    application or a request still running, is answered on a new one."""
    database = Database.from_settings(settings)
    generation = database.generation
    if not isinstance(generation, SequenceGeneration):
        database.dispose()
        pytest.skip("the generation is a sequence on PostgreSQL only")
    value = run_coroutine(generation.read_now())
    database.dispose()
    assert generation.loop_reads.backend_pids() == []
    assert run_coroutine(generation.read_now()) == value == generation.current()


def _loop_reads(db: Database, statement: str, **options: float) -> LoopConnections:
    """Loop reads of `statement` on the test's database, of their own (not the generation's)."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the loops' connections are PostgreSQL's")
    return LoopConnections(db.engine.dialect.create_connect_args(db.engine.url), statement, **options)


def _opened(monkeypatch: pytest.MonkeyPatch, then: Callable[[], object] = lambda: None) -> list[int]:
    """The server process of each connection psycopg opens from now on (AsyncConnection.connect),
    in order; `then` is called as each is opened, before connect returns it."""
    pids: list[int] = []
    connect = psycopg.AsyncConnection.connect

    async def recorded(*args: Any, **kwargs: Any) -> psycopg.AsyncConnection[Any]:
        connection = await connect(*args, **kwargs)
        pids.append(connection.info.backend_pid)
        then()
        return connection

    monkeypatch.setattr(psycopg.AsyncConnection, "connect", recorded)
    return pids


def test_a_query_the_server_refuses_is_raised_on_the_one_connection(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lasting error of the query on a connection that works (a relation missing, a grant
    revoked) is raised to each read, every read on the one connection, which reads again once
    the error is gone. (Each failed read closed its connection and the next read opened one: a
    connection, a server process, per read against the server for as long as the error lasted.)"""
    reads = _loop_reads(db, "SELECT 1 FROM no_such_relation")
    opened = _opened(monkeypatch)

    async def scenario() -> tuple[list[list[int]], str, list[int]]:
        pids = []
        for _ in range(4):
            with pytest.raises(psycopg.errors.UndefinedTable):
                await reads.read()
            pids.append(reads.backend_pids())
        reads.statement = "SELECT 1"  # the error is gone (the relation made, the grant given back)
        return pids, await reads.read(), reads.backend_pids()

    try:
        pids, value, after = run_coroutine(scenario())
    finally:
        reads.close()
    assert len(opened) == 1
    assert pids == [opened] * 4 and after == opened and value == "(1,)"


def test_a_close_while_a_loop_connects_leaves_its_connection_closed(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The database disposed (from its own thread) while a loop's first connection is being
    opened: the read is answered on it, and it is closed right after, as a connection the close
    found reading. (The close did not see it yet, and it was kept open for good.)"""
    reads = _loop_reads(db, "SELECT pg_backend_pid()")

    def close_from_another_thread() -> None:
        closing = threading.Thread(target=reads.close)
        closing.start()
        closing.join()

    opened = _opened(monkeypatch, then=close_from_another_thread)

    async def scenario() -> tuple[str, list[int], bool]:
        # Looked at while the loop runs: once it has ended, collecting it closes what it held.
        value = await reads.read()
        url = db.engine.url.render_as_string(hide_password=False)
        return value, reads.backend_pids(), await asyncio.to_thread(_ended, url, opened)

    value, kept, ended = run_coroutine(scenario())
    assert len(opened) == 1 and value == f"({opened[0]},)"
    assert kept == [] and ended


def test_a_read_the_server_holds_gives_up_at_its_timeout_and_the_next_reads_anew(db: Database) -> None:
    """The sequence locked (a migration altering it holds it until it commits): the read raises
    TimeoutError at its timeout, which the callers take as any failed read (app.edge, then the
    middleware: the 500 page, never a page kept under an older generation), and its connection
    is closed; the next read, once the lock is gone, is answered on a new one. (A read waited as
    long as the server: every cacheable GET waiting on the generation with it.)"""
    reads = _loop_reads(db, "SELECT last_value, is_called FROM page_generation", read_timeout=0.3)
    url = db.engine.url.render_as_string(hide_password=False)

    async def scenario() -> tuple[list[int], float, list[int], str, list[int], bool]:
        await reads.read()
        first = reads.backend_pids()
        with psycopg.connect(url.replace("+psycopg", "")) as locker:
            locker.execute("ALTER SEQUENCE page_generation RENAME TO page_generation_held")  # ACCESS EXCLUSIVE
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reads.read(), 5)  # the test's bound, should the read have none
            waited = time.monotonic() - started
            during = reads.backend_pids()
            locker.rollback()
        value = await reads.read()
        # The server process waited for the lock, then found its client gone.
        return first, waited, during, value, reads.backend_pids(), await asyncio.to_thread(_ended, url, first)

    try:
        first, waited, during, value, after, ended = run_coroutine(scenario())
    finally:
        reads.close()
    assert len(first) == 1 and 0.3 <= waited < 1.5 and during == []
    assert value.startswith("(") and len(after) == 1 and after != first and ended


def test_reads_given_up_behind_a_lock_leave_no_server_process_waiting_on_it(db: Database) -> None:
    """A read given up closes its connection; its server process must not go on waiting for the
    lock, or there would be one more at each timeout of each process's loop, and a sequence
    locked for minutes would use up the server's connections. (psycopg sends a cancel request
    when a read is cancelled.)"""
    reads = _loop_reads(db, "SELECT last_value, is_called FROM page_generation", read_timeout=0.3)
    url = db.engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    waiting = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
               "AND query LIKE '%FROM page_generation%' AND pid <> pg_backend_pid()")

    async def given_up(times: int) -> int:
        failures = 0
        for _ in range(times):
            with contextlib.suppress(TimeoutError):
                await reads.read()
                continue
            failures += 1
        return failures

    with psycopg.connect(url) as locker, psycopg.connect(url, autocommit=True) as watcher:
        locker.execute("ALTER SEQUENCE page_generation RENAME TO page_generation_held")  # ACCESS EXCLUSIVE
        try:
            failures = run_coroutine(given_up(3))
            # The lock still held: psycopg's cancel request reaches the server on its own
            # connection, so a loaded machine may take a moment (one was still waiting after
            # 0.5 s in a full suite on 2 busy cores). A process that lingers waits for as long
            # as the lock is held, well past these 5 s.
            deadline = time.monotonic() + 5
            left = watcher.execute(waiting).fetchone()
            while left != (0,) and time.monotonic() < deadline:
                time.sleep(0.1)
                left = watcher.execute(waiting).fetchone()
        finally:
            locker.rollback()
            reads.close()
    assert failures == 3 and left == (0,)


def test_a_server_that_never_answers_is_given_up_at_the_timeout() -> None:
    """A server that takes the connection and never answers (black-holed, stopped): the read,
    connecting included, raises TimeoutError at its timeout, not after the system's TCP timeouts."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # connections are taken by the kernel and never answered
        port = silent.getsockname()[1]
        reads = LoopConnections(((), {"host": "127.0.0.1", "port": port, "dbname": "none", "user": "none"}),
                                "SELECT 1", read_timeout=0.3)

        async def read() -> float:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(reads.read(), 5)
            return time.monotonic() - started

        assert 0.3 <= run_coroutine(read()) < 1.5
        assert reads.backend_pids() == []


def test_a_kept_page_is_not_served_while_the_generation_cannot_be_read_in_time(
        settings: Settings, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sequence locked while a page is kept: its visitors get the 500 page once the edge's
    read times out (not read a second time by the stack: twice the wait), neither the kept page
    (a write may have bumped the generation meanwhile) nor a wait as long as the lock; once the
    lock is gone, the page again."""
    call = make_call(session, title="Budget participatif 2027")
    session.commit()
    path = f"/calls/{call.slug}"
    with WebClient(create_app(settings), base_url="http://testserver", raise_server_exceptions=False) as web:
        generation = web.db.generation
        if not isinstance(generation, SequenceGeneration):
            pytest.skip("the generation is a sequence on PostgreSQL only")
        monkeypatch.setattr(generation.loop_reads, "read_timeout", 1.0)
        while web.get(path).headers.get("x-page-cache") != "hit":
            pass
        url = settings.resolved_database_url.replace("+psycopg", "")
        with psycopg.connect(url) as locker, ThreadPoolExecutor(max_workers=1) as asking:
            locker.execute("ALTER SEQUENCE page_generation RENAME TO page_generation_held")  # ACCESS EXCLUSIVE
            time.sleep(2 * generation.settle_seconds)  # no read begun before the lock is reused now
            started = time.monotonic()
            asked = asking.submit(web.get, path)
            try:
                locked = asked.result(timeout=5)  # should the reads have no timeout of their own
            finally:
                waited = time.monotonic() - started
                locker.rollback()
        again = web.get(path)
    assert locked.status_code == 500 and "Budget participatif 2027" not in locked.text
    assert 1.0 <= waited < 1.9  # one read's timeout
    assert again.status_code == 200 and again.headers["x-page-cache"] == "hit"
