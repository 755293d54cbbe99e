"""Fixtures for the browser tests: the platform as real processes, and headless Chromium.

- `server` (session): `reinventons serve` and `reinventons worker` as subprocesses on a free
  loopback port, a fresh migrated database (an SQLite file, or the PostgreSQL database
  `<REINVENTONS_TEST_DATABASE_URL's name>_e2e`, `..._gw0_e2e` under pytest-xdist, dropped and
  created here so the unit tests' truncation never touches it) and a real SMTP server
  (aiosmtpd) that receives the e-mails.
- `browser` (session): Debian's Chromium driven by Playwright (never a downloaded browser).
- `context` / `page` (function): a fresh browser profile per test, base URL set, French
  Accept-Language, recording what each page loads for `check_page`.
- `new_page()` (function): another profile, for journeys with two people (a citizen and a
  moderator) at the same time.

Pages saved by `check_page` are validated by the W3C validator once, at the end
(`test_zz_html_validator.py`, or at session teardown when that test is not selected).
Without Chromium the tests skip locally and fail in CI (CI=true).
"""

import json
import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import demo, migrate
from app.db import Database
from tests.e2e import harness
from tests.e2e.harness import E2EServer
from tests.e2e.long_words import seed_long_words
from tests.support import SmtpSink, free_port, make_settings, worker_database_url
from tests.support_oidc import FULL_SCOPES, Provider, running_provider
from tests.support_oidc import KEY as OIDC_KEY

VALIDATED: set[str] = set()
RAN_HERE: set[str] = set()  # browser tests this process ran
FAILED = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Browser tests run after the fast tests, and the W3C validator, which checks every page
    # the other browser tests saved, runs last of all. Under pytest-xdist they all run in this
    # order in one worker (tests/conftest.py, BrowserTestsTogether): they share its server, and
    # the validator reads the pages saved in its process.
    here = str(Path(__file__).parent)
    browser = [item for item in items if str(item.path).startswith(here)]
    validator = [item for item in browser if "test_zz_html_validator" in item.nodeid]
    browser = [item for item in browser if item not in validator]
    chosen = set(browser) | set(validator)
    items[:] = [item for item in items if item not in chosen] + browser + validator


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    item.stash.setdefault(FAILED, False)
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    if report.when == "teardown":
        RAN_HERE.add(item.nodeid)
    return report


def browser_tests_ran_elsewhere(session: pytest.Session, validator: pytest.Item) -> list[str]:
    """The browser tests of this run that this process did not run: the validator only sees the
    pages saved here, so a run that split them across pytest-xdist workers would check nothing."""
    here = str(Path(__file__).parent)
    return [item.nodeid for item in session.items
            if str(item.path).startswith(here) and item is not validator and item.nodeid not in RAN_HERE]


def _requirements_or_skip() -> None:
    missing = []
    if not shutil.which("chromium"):
        missing.append("chromium (apt-get install chromium)")
    if not harness.AXE_JS.exists():
        missing.append("node_modules/axe-core (npm ci)")
    if not missing:
        return
    reason = "browser tests need " + ", ".join(missing) + ": run scripts/setup"
    if harness.in_ci():
        pytest.fail(reason)
    pytest.skip(reason)


def _e2e_database(tmp: Path, suffix: str = "e2e") -> str:
    base = worker_database_url(os.environ.get("REINVENTONS_TEST_DATABASE_URL", ""))
    if not base:
        return f"sqlite:///{tmp / f'{suffix}.sqlite3'}"
    parsed = make_url(base)
    name = f"{parsed.database}_{suffix}"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False)


@contextmanager
def running_server(tmp: Path, *, port: int | None = None, suffix: str = "e2e", seed: bool = True,
                   **overrides: Any) -> Iterator[E2EServer]:
    """The platform as real processes on `port` (a free one by default), filled with the demo
    data when `seed`. `overrides` are settings (e.g. `oidc_providers`), also handed to the
    processes as REINVENTONS_* variables; `suffix` names the database (a module with a server of
    its own passes another one, so that the session's server keeps its database)."""
    _requirements_or_skip()
    database_url = _e2e_database(tmp, suffix)
    migrate.upgrade(database_url)
    port = port or free_port()
    smtp = SmtpSink()
    smtp.start()
    settings = make_settings(tmp / "var", database_url, base_url=f"http://127.0.0.1:{port}", smtp_url=smtp.url,
                             registrations_per_hour=100_000, **overrides)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REINVENTONS_")}
    env.update({
        "REINVENTONS_DATA_DIR": str(settings.data_dir),
        "REINVENTONS_DATABASE_URL": database_url,
        "REINVENTONS_SECRET_KEY": settings.secret_key,
        "REINVENTONS_BASE_URL": settings.base_url,
        "REINVENTONS_SMTP_URL": smtp.url,
        # Every test registers from 127.0.0.1: the per-address limit has its own unit tests.
        "REINVENTONS_REGISTRATIONS_PER_HOUR": "100000",
        "PYTHONUNBUFFERED": "1",
    })
    env.update({f"REINVENTONS_{name.upper()}": value if isinstance(value, str) else json.dumps(value)
                for name, value in overrides.items()})
    harness.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log_path = harness.ARTIFACTS / f"e2e-server-{port}.log"
    db = Database.from_settings(settings)
    if seed:
        # A lived-in site, as `reinventons demo` fills it: calls in every phase, ideas with photos,
        # votes and comments, so every page is checked with real content. Journeys make their own data.
        demo.seed(db, settings)
        # And long unbroken words on every kind of page, for the phone layout checks (issue 10).
        with db.session(write=True) as s:
            seed_long_words(s)
    processes = harness.start_processes(env, port, log_path)
    try:
        yield E2EServer(url=f"http://127.0.0.1:{port}", settings=settings, smtp=smtp, db=db,
                        processes=processes, log_path=log_path)
    finally:
        harness.stop_processes(processes)
        db.dispose()
        smtp.stop()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EServer]:
    with running_server(tmp_path_factory.mktemp("e2e")) as running:
        yield running


@pytest.fixture(scope="session")
def oidc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[E2EServer, Provider]]:
    """A second platform, with sign-in at a real OpenID provider (tests/support_oidc.py: the
    npm package oidc-provider, its accounts `alice` and `bruno`) configured as "Test ID"; no
    demo data. Yields the server and the provider."""
    _requirements_or_skip()
    port = free_port()
    with running_provider(OIDC_KEY, "Test ID", FULL_SCOPES, f"http://127.0.0.1:{port}") as provider, running_server(
            tmp_path_factory.mktemp("e2e-oidc"), suffix="e2e_oidc", port=port, seed=False,
            oidc_providers=[provider.setting()]) as running:
        yield running, provider


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[Playwright]:
    _requirements_or_skip()
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright_driver: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium
    browser = playwright_driver.chromium.launch(executable_path=chromium, args=harness.CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser, server: E2EServer) -> Iterator[Callable[..., BrowserContext]]:
    """Makes fresh browser profiles (French by default), closed after the test."""
    made: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        options.setdefault("base_url", server.url)
        options.setdefault("viewport", harness.DESKTOP)
        options.setdefault("locale", "fr-BE")
        context = harness.instrument(browser.new_context(**options))  # type: ignore[arg-type]
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    return new_context()


@pytest.fixture
def page(context: BrowserContext, request: pytest.FixtureRequest) -> Iterator[Page]:
    page = context.new_page()
    yield page
    if request.node.stash.get(FAILED, False) and not page.is_closed():
        where = harness.ARTIFACTS / "failures"
        where.mkdir(parents=True, exist_ok=True)
        stem = request.node.name.replace("/", "_")[:120]
        page.screenshot(path=str(where / f"{stem}.png"), full_page=True)
        (where / f"{stem}.html").write_text(page.content(), encoding="utf-8")


@pytest.fixture
def new_page(new_context: Callable[..., BrowserContext]) -> Callable[..., Page]:
    """Another person's browser: `moderator_page = new_page()` (options go to the context)."""

    def make(**options: object) -> Page:
        return new_context(**options).new_page()

    return make


def validate_saved_pages() -> dict[str, list[str]]:
    """Runs vnu.jar once over every page saved and not yet validated."""
    pending = {key: path for key, path in harness.SAVED_HTML.items() if key not in VALIDATED}
    VALIDATED.update(pending)
    return harness.validate_html(sorted(pending.values()))


@pytest.fixture(scope="session", autouse=True)
def _validate_leftovers_at_the_end() -> Iterator[None]:
    yield
    try:
        if harness.SAVED_HTML.keys() - VALIDATED:
            errors = validate_saved_pages()
            if errors:
                pytest.fail("W3C validator errors:\n" + harness.html_errors_report(errors))
    finally:
        shutil.rmtree(harness.VALIDATION_DIR, ignore_errors=True)
