"""PostgreSQL: a transaction that only read is ended by COMMIT (app.prepared_statements), so that
psycopg keeps the statements it prepared; anything else is still rolled back, whatever it is
led by. The statements stay prepared as a request's do: ended by SQLAlchemy's rollback (what
`Session.close()` runs), on one of the application's pooled connections."""

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError, OperationalError

from app.db import Database, make_engine
from app.prepared_statements import only_reads

PAGE_READ = text("SELECT count(*) FROM deployment_fact WHERE name = :name")


@pytest.fixture
def connection(db: Database) -> Iterator[Connection]:
    if db.is_sqlite:
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    with db.engine.connect() as conn:
        yield conn


def _prepared(conn: Connection) -> list[str]:
    """The statements prepared on this connection's server session, read outside a transaction
    of the test's (committed at once, so that reading them does not change what is measured)."""
    rows = conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars().all()
    conn.commit()
    return [str(r) for r in rows]


def test_a_read_transaction_rolled_back_keeps_its_statements_prepared(connection: Connection) -> None:
    # psycopg prepares a statement at its fifth run on a connection; each run here is a request
    # of its own, ended as a request ends it.
    for _ in range(8):
        assert connection.execute(PAGE_READ, {"name": "nothing"}).scalar() == 0
        connection.rollback()
    assert any("deployment_fact" in s for s in _prepared(connection)), "every rollback forgot the page's statement"


def test_a_search_transactions_settings_end_with_it(connection: Connection) -> None:
    connection.exec_driver_sql("SET LOCAL enable_hashjoin = off")
    assert connection.exec_driver_sql("SHOW enable_hashjoin").scalar() == "off"
    connection.rollback()  # ended by COMMIT: SET LOCAL ends with the transaction all the same
    assert connection.exec_driver_sql("SHOW enable_hashjoin").scalar() == "on"
    connection.rollback()


@pytest.mark.parametrize("write", [
    "INSERT INTO deployment_fact (name, value, updated_at) VALUES ('rolled-back', 'x', now())",
    "/* a tracer's comment */ INSERT INTO deployment_fact (name, value, updated_at) VALUES ('rolled-back', 'x', now())",
    "-- a line comment\nINSERT INTO deployment_fact (name, value, updated_at) VALUES ('rolled-back', 'x', now())",
    "WITH made AS (INSERT INTO deployment_fact (name, value, updated_at) VALUES ('rolled-back', 'x', now()) "
    "RETURNING name) SELECT name FROM made",
    "CREATE TABLE rolled_back (name text)",
    "SET enable_hashjoin = off",  # a session's setting, not the transaction's: undone by ROLLBACK only
])
def test_a_transaction_that_did_more_than_read_is_still_rolled_back(connection: Connection, write: str) -> None:
    assert connection.execute(PAGE_READ, {"name": "rolled-back"}).scalar() == 0  # a read first
    connection.exec_driver_sql(write)
    connection.rollback()
    assert connection.execute(PAGE_READ, {"name": "rolled-back"}).scalar() == 0
    assert connection.exec_driver_sql("SELECT to_regclass('rolled_back')").scalar() is None
    assert connection.exec_driver_sql("SHOW enable_hashjoin").scalar() == "on"
    connection.rollback()


def test_a_failed_read_transaction_is_rolled_back_and_the_connection_goes_on(connection: Connection) -> None:
    connection.execute(PAGE_READ, {"name": "x"})
    with pytest.raises(Exception, match="division by zero"):
        connection.exec_driver_sql("SELECT 1 / 0")
    connection.rollback()
    assert connection.execute(PAGE_READ, {"name": "x"}).scalar() == 0
    connection.rollback()


def test_what_counts_as_only_reading() -> None:
    for read in ("SELECT 1", "  select 1", "/* c */ SELECT 1", "SHOW enable_hashjoin",
                 "SET LOCAL plan_cache_mode = force_custom_plan",
                 "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off;",
                 "SET LOCAL enable_hashjoin TO DEFAULT"):
        assert only_reads(read), read
    for other in ("INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t",
                  "WITH x AS (DELETE FROM t) SELECT 1", "SET enable_hashjoin = off",
                  "CREATE TABLE t (a int)", "SELECTED", "TRUNCATE t", "LOCK TABLE t",
                  "CALL f()", "DO $$ BEGIN END $$", "RESET work_mem",
                  # found by a review: read-looking statements whose effect a COMMIT keeps
                  "SET local.custom = 'x'", "SELECT 1; INSERT INTO t VALUES (1)",
                  "SET LOCAL enable_hashjoin = off; SET enable_mergejoin = off", "SELECT 1 AS a INTO t",
                  "SELECT set_config('enable_hashjoin', 'off', false)", "SELECT pg_notify('c', 'x')",
                  "SELECT 'a;b'"):
        assert not only_reads(other), other


@pytest.mark.parametrize("effect, undone", [
    ("SELECT set_config('enable_hashjoin', 'off', false)", "SHOW enable_hashjoin"),
    ("SET local.custom = 'x'", "SELECT coalesce(current_setting('local.custom', true), '')"),
    ("SELECT 1 AS a INTO rolled_back", "SELECT to_regclass('rolled_back')::text"),
])
def test_a_read_whose_effect_a_commit_would_keep_is_rolled_back(connection: Connection, effect: str,
                                                                 undone: str) -> None:
    before = connection.exec_driver_sql(undone).scalar()
    connection.rollback()
    connection.exec_driver_sql(effect)
    connection.rollback()
    assert connection.exec_driver_sql(undone).scalar() == before
    connection.rollback()


def test_a_column_changed_under_a_kept_statement_fails_one_read_not_every_one_after(db: Database) -> None:
    """A rolling deploy: a migration changes a column's type under an old process whose
    connections keep the statement prepared; PostgreSQL refuses to run it. The connection is
    replaced: the next read answers. An engine of its own, so that its pool has that one
    connection (the application's could lend another one, where the statement was never
    prepared)."""
    if db.is_sqlite:
        pytest.skip("psycopg's prepared statements: PostgreSQL only")
    engine = make_engine(db.engine.url.render_as_string(hide_password=False))
    read = text("SELECT id, name FROM changed_under_reads WHERE id = :id")
    try:
        with engine.connect() as setup:
            setup.exec_driver_sql("CREATE TABLE changed_under_reads (id int, name varchar(10))")
            setup.exec_driver_sql("INSERT INTO changed_under_reads VALUES (1, 'banc')")
            setup.commit()
        with engine.connect() as conn:
            for _ in range(8):
                assert conn.execute(read, {"id": 1}).all() == [(1, "banc")]
                conn.rollback()
            setup_again = engine.connect()
            setup_again.exec_driver_sql("ALTER TABLE changed_under_reads ALTER COLUMN name TYPE varchar(40)")
            setup_again.commit()
            setup_again.close()
            with pytest.raises(DBAPIError, match="cached plan must not change result type") as raised:
                conn.execute(read, {"id": 1})
            assert raised.value.connection_invalidated
        with engine.connect() as conn:
            assert conn.execute(read, {"id": 1}).all() == [(1, "banc")]
    finally:
        with engine.connect() as cleanup:
            cleanup.exec_driver_sql("DROP TABLE IF EXISTS changed_under_reads")
            cleanup.commit()
        engine.dispose()


def test_a_read_whose_connection_the_server_closed_ends_as_before(db: Database, connection: Connection) -> None:
    """A restart or failover under a read: the error is the lost connection's, and the pool goes on."""
    with pytest.raises(OperationalError):
        connection.exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
    connection.rollback()  # what closing the request's session runs
    with db.engine.connect() as other:
        assert other.execute(PAGE_READ, {"name": "x"}).scalar() == 0
