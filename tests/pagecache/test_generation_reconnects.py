"""The page generation on PostgreSQL outlives its connections: after the server closed them (a
restart, a failover), the next read and bump run on new ones instead of failing, one request per
dead pooled connection, and a write that committed is not answered 500 because its bump failed."""

import asyncio

import pytest
from sqlalchemy import text

from app.db import Database
from app.pagecache.generation import SequenceGeneration


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
    before = asyncio.run(generation.read_now())  # the requests' reads: a connection of their own
    assert generation._own is not None  # noqa: SLF001 - the connection the server is to close
    pid = generation._own.dbapi_connection.info.backend_pid  # type: ignore[union-attr]  # noqa: SLF001
    with db.engine.connect() as admin:
        admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    generation.bump()
    after = asyncio.run(generation.read_now())  # on the dead connection: AdminShutdown, then a new one
    assert after != before and after == generation.current()
    assert asyncio.run(generation.read_now()) == after
