"""Applying Alembic migrations from the application (CLI, demo, tests), once per database even
when several instances start together."""

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, make_url, pool, text

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# PostgreSQL advisory lock key taken while migrating: any constant unique to this application
# (the bytes of "reinvent" as a signed 64-bit integer).
ADVISORY_LOCK_KEY = int.from_bytes(b"reinvent", "big", signed=True)


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on a "%" in a password.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision id of the code (e.g. "0024")."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None  # the project has migrations
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision a database is at, or None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


@contextlib.contextmanager
def _sqlite_file_lock(database_url: str) -> Iterator[None]:
    """An exclusive lock on a file next to the SQLite database, held by one process at a time
    (`flock(2)`; released by the kernel if the process dies). An in-memory database needs none."""
    database = make_url(database_url).database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def migration_lock(database_url: str) -> Iterator[Connection]:
    """Hold the database's migration lock; yields a connection for reading its revision.

    PostgreSQL: a session-level advisory lock (`pg_advisory_lock`, released by the server if the
    connection drops), so instances on several machines wait for each other. SQLite: a file lock,
    since only processes of one machine can share a SQLite file."""
    engine = create_engine(database_url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
                connection.commit()
                try:
                    yield connection
                finally:
                    connection.rollback()
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
                    connection.commit()
            else:
                with _sqlite_file_lock(database_url):
                    yield connection
    finally:
        engine.dispose()


def upgrade(database_url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Migrate the database to `revision` under the migration lock.

    When several instances start together against one database, the first one to take the lock
    migrates; the others wait, then find the database already at the revision and do nothing.
    Returns (revision before, revision after); equal when there was nothing to do."""
    with migration_lock(database_url) as connection:
        before = current_revision(connection)
        connection.rollback()  # read in its own transaction: Alembic uses its own connection
        command.upgrade(alembic_config(database_url), revision)
        after = current_revision(connection)
    return before, after
