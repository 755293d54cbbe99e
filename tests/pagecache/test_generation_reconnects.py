"""The page generation on PostgreSQL outlives its connections: after the server closed them (a
restart, a failover), the next read and bump run on new ones instead of failing, one request per
dead pooled connection, and a write that committed is not answered 500 because its bump failed."""

import time

import psycopg
import pytest
from sqlalchemy import text

from app.db import Database
from app.pagecache.generation import SequenceGeneration
from app.settings import Settings
from tests.support import run_coroutine


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


def test_the_page_caches_reads_go_on_after_the_server_closed_their_connection(db: Database) -> None:
    generation = db.generation
    if not isinstance(generation, SequenceGeneration):
        pytest.skip("the generation is a sequence on PostgreSQL only")
    before = run_coroutine(generation.read_now())  # the requests' reads: a connection of their own
    assert generation._own is not None  # noqa: SLF001 - the connection the server is to close
    pid = generation._own.dbapi_connection.info.backend_pid  # type: ignore[union-attr]  # noqa: SLF001
    with db.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    generation.bump()
    after = run_coroutine(generation.read_now())  # on the dead connection: AdminShutdown, then a new one
    assert after != before and after == generation.current()
    assert run_coroutine(generation.read_now()) == after


def test_a_disposed_database_leaves_none_of_the_generations_connections_open(settings: Settings) -> None:
    """Each application made and disposed (a restarted worker, every test) closed its page
    generation's connections too: the page cache's reader keeps one outside the pool, which
    disposing the pool does not close."""
    database = Database.from_settings(settings)
    generation = database.generation
    if not isinstance(generation, SequenceGeneration):
        database.dispose()
        pytest.skip("the generation is a sequence on PostgreSQL only")
    run_coroutine(generation.read_now())
    generation.bump()
    pids = {generation._own.dbapi_connection.info.backend_pid}  # type: ignore[union-attr]  # noqa: SLF001
    with generation.engine.connect() as pooled:
        pids.add(pooled.connection.dbapi_connection.info.backend_pid)  # type: ignore[union-attr]
    database.dispose()

    # A server process ends a moment after its client closed the connection: waited for, up to 10 s.
    with psycopg.connect(settings.resolved_database_url.replace("+psycopg", ""), autocommit=True) as admin:
        deadline = time.monotonic() + 10
        while True:
            alive = admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (list(pids),)).fetchone()
            if alive == (0,) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert alive == (0,)



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
    assert generation._own is None  # noqa: SLF001
    assert run_coroutine(generation.read_now()) == value == generation.current()
