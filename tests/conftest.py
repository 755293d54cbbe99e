"""Fixtures: a migrated real database per test (SQLite, or PostgreSQL when
REINVENTONS_TEST_DATABASE_URL is set), the app, a browser-like client, a real SMTP server.

Every test starts from an empty, fully migrated database: a copy of a migrated SQLite file,
or PostgreSQL tables truncated. Tests may commit freely, and parallel-request tests see
real transactions and locks.

Under pytest-xdist (`scripts/test` runs `-n auto`) each worker has its own databases: SQLite files
in its own temporary folder, and on PostgreSQL the database named by
REINVENTONS_TEST_DATABASE_URL with the worker's id appended (`test` -> `test_gw0`, `test_gw1`).
"""

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session
from xdist.scheduler import LoadGroupScheduling

from app import migrate
from app.db import Database
from app.main import create_app
from app.models import metadata
from app.observability import logs
from app.settings import Settings
from tests.support import LiveServer, SmtpSink, WebClient, free_port, make_settings, worker_database_url


class BrowserTestsTogether(LoadGroupScheduling):
    """`--dist loadgroup`, with every browser test (tests/e2e/) in one group: one worker runs
    them in their collected order, sharing one server, and ends with the W3C validator over the
    pages saved in its process. xdist hands out the largest group first, so they start at once
    while the other workers share the fast tests.

    The group is named here rather than by `xdist_group` marks, which pytest-xdist 3.8 ignores
    under pytest 9.2 (pytest-dev/pytest-xdist#1386)."""

    def _split_scope(self, nodeid: str) -> str:
        return "e2e" if nodeid.startswith("tests/e2e/") else super()._split_scope(nodeid)


def pytest_xdist_make_scheduler(config: Config, log: object) -> LoadGroupScheduling | None:
    """pytest-xdist hook (on the controller): how tests are spread over the workers."""
    if config.getvalue("dist") != "loadgroup":
        return None
    return BrowserTestsTogether(config, log)  # type: ignore[arg-type]


TEST_DATABASE_URL = worker_database_url(os.environ.get("REINVENTONS_TEST_DATABASE_URL", ""))


@pytest.fixture(autouse=True)
def _logging_put_back() -> Iterator[None]:
    """Logging as it was before the test, for the loggers `logs.dict_config` configures: a test
    running a command in process (app.cli.main configures logging as every command does) left
    the access log writing to its own handler, not propagating, and the next tests of its
    process reading the lines at the root's handlers found none."""
    names = ["", *logs.dict_config("json")["loggers"]]
    saved = [(logger, logger.handlers[:], logger.level, logger.propagate, logger.disabled)
             for logger in map(logging.getLogger, names)]
    yield
    logging.captureWarnings(False)  # as tests start: logs.formatter sends warnings through logging
    for logger, handlers, level, propagate, disabled in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate, logger.disabled = propagate, disabled


def _reset_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": parsed.database}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrated once per run with Alembic: a PostgreSQL URL, or a template SQLite file path."""
    if TEST_DATABASE_URL:
        _reset_postgres(TEST_DATABASE_URL)
        migrate.upgrade(TEST_DATABASE_URL)
        return TEST_DATABASE_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return str(path)


@pytest.fixture
def database_url(migrated_database: str, tmp_path: Path) -> str:
    if TEST_DATABASE_URL:
        engine = create_engine(TEST_DATABASE_URL)
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            # Emptying the tables is a write every page and value kept by a process must not
            # outlive (app.pagecache): the ids start again at 1, and the cards, regions and
            # values kept under the old generation would be served as this test's.
            conn.execute(text("SELECT nextval('page_generation')"))
        engine.dispose()
        return TEST_DATABASE_URL
    path = tmp_path / "test.sqlite3"
    shutil.copyfile(migrated_database, path)
    return f"sqlite:///{path}"


@pytest.fixture
def empty_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own, empty (not the suite's migrated one): a SQLite file, or a
    PostgreSQL database named after this worker's (`test_gw0_empty`), dropped afterwards."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    parsed = make_url(TEST_DATABASE_URL)
    name = f"{parsed.database}_empty"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "var", database_url)


@pytest.fixture
def client(settings: Settings) -> Iterator[WebClient]:
    app = create_app(settings)
    with WebClient(app, base_url="http://testserver") as web:
        yield web


@pytest.fixture
def db(client: WebClient) -> Database:
    return client.db


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session for arranging and checking data. Each statement commits at once, so the app
    sees what a test arranged and a test sees what the app wrote (after `expire_all()`)."""
    with db.autocommit_session() as s:
        yield s


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def mail_client(tmp_path: Path, database_url: str, smtp: SmtpSink) -> Iterator[WebClient]:
    """A client whose platform sends e-mail to the real SMTP server `smtp`."""
    app = create_app(make_settings(tmp_path / "var", database_url, smtp_url=smtp.url))
    with WebClient(app, base_url="http://testserver") as web:
        yield web


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """The platform served by uvicorn on loopback, for tests that need parallel requests."""
    port = free_port()
    server = LiveServer(make_settings(tmp_path / "var", database_url, base_url=f"http://127.0.0.1:{port}"))
    server.start()
    yield server
    server.stop()
