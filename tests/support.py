"""Test helpers: a browser-like client, a real SMTP server, a live server, the outbox worker."""

import asyncio
import email
import io
import json
import os
import re
import socket
import threading
import time
import zipfile
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from email.message import Message
from pathlib import Path
from typing import Any

import uvicorn
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import delete, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError

from app import cookies
from app.account.models import User
from app.account.sessions import start_session
from app.db import Database
from app.main import create_app
from app.outbox import service as outbox
from app.outbox import worker
from app.security import csrf_token_for
from app.settings import Settings

LINK_RE = re.compile(r"https?://\S+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def worker_database_url(url: str) -> str:
    """The PostgreSQL database of this pytest-xdist worker: the given name plus the worker's id
    (`test` -> `test_gw0`), so that workers never truncate each other's tables, and runs given
    different names never share a database. Without xdist (or on SQLite), the URL as given."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


def make_settings(data_dir: Path, database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": "test-secret-key-not-for-production",
        "base_url": "http://testserver",
        # REINVENTONS_MEILI_URL in the environment is for the contract suite against a real
        # Meilisearch (tests/search/test_contract.py); other tests use the database's index.
        "meili_url": "",
        # A loaded CI machine can take seconds to answer a local server; the tests that mean to
        # time Meilisearch out set their own limit.
        "meili_timeout_ms": 10_000,
        # Likewise REINVENTONS_S3_*: the tests against the real S3 gateway give their own.
        "s3_endpoint_url": "",
        # Likewise REINVENTONS_REDIS_URL: the tests of Redis (tests/core/test_redis.py) give their own.
        "redis_url": "",
    }
    values.update(overrides)
    return Settings(**values)


class WebClient(TestClient):
    """A TestClient that behaves like a browser filling forms: it sends the CSRF token."""

    app: FastAPI

    @property
    def settings(self) -> Settings:
        return self.app.state.settings

    @property
    def db(self) -> Database:
        return self.app.state.db

    def csrf(self) -> str:
        name = cookies.CSRF_SEED.name(self.settings.is_https)
        if name not in self.cookies:
            self.get("/offline")
        return csrf_token_for(self.settings.resolved_secret_key, self.cookies[name])

    def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Response:
        """POST a form as the site's own pages would, CSRF token included."""
        payload = dict(data or {})
        payload.setdefault("csrf_token", self.csrf())
        kwargs.setdefault("follow_redirects", False)
        return self.post(url, data=payload, **kwargs)

    def login_as(self, user: User) -> "WebClient":
        """Log in without the form (the login form has its own tests)."""
        with self.db.transaction() as session:
            token = start_session(session, user, days=1)
        self.cookies.set(cookies.SESSION.name(self.settings.is_https), token)
        return self

    def run_worker(self) -> int:
        """Carry out every due outbox message, as `reinventons worker` would."""
        total = 0
        while handled := outbox.run_pending(self.db, worker.handlers(self.settings, self.db)):
            total += handled
        return total


class SmtpSink:
    """Collects what a real SMTP server (aiosmtpd) on loopback receives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        # Set to an SMTP reply such as "451 4.3.0 Try again later" to refuse mail for a while.
        self.refuse_with: str | None = None
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        if self.refuse_with:
            return self.refuse_with
        message = email.message_from_bytes(envelope.content)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if address in m["X-Envelope-To"]]

    def last_to(self, address: str) -> Message:
        found = self.to(address)
        assert found, f"no e-mail was delivered to {address}"
        return found[-1]


def body_of(message: Message) -> str:
    """The text/plain part of an e-mail (every e-mail also has an HTML alternative)."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError(f"no text part in {message['Subject']!r}")


def exported_data(content: bytes) -> Any:
    """The `data.json` of a data export (the ZIP that POST /account/export answers)."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return json.loads(archive.read("data.json"))


def links_in(message: Message) -> list[str]:
    return LINK_RE.findall(body_of(message))


class LiveServer:
    """The application served by uvicorn on a loopback port, in a background thread."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.port = int(settings.base_url.rsplit(":", 1)[1])
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning",
                                # The application applies the proxy headers itself (app.main).
                                access_log=False, limit_concurrency=500, proxy_headers=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("live server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def app_routes(app: FastAPI) -> list[tuple[str, set[str]]]:
    """Every (path, methods) the app answers, including routes of included routers.

    FastAPI nests included routers (`_IncludedRouter`); walk them through their public-ish
    `effective_route_contexts()` so a route added anywhere is listed here.
    """
    found: list[tuple[str, set[str]]] = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                methods = set(getattr(ctx.original_route, "methods", None) or ())
                found.append((ctx.path or getattr(ctx.original_route, "path", ""), methods))
        elif getattr(route, "methods", None):
            found.append((route.path, set(route.methods)))  # type: ignore[attr-defined]
    return found


@contextmanager
def counting(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run on `engine` within the block, as a list filled as they run."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@contextmanager
def recording(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    """The SQL statements run on `engine` within the block with their parameters, as a list of
    (statement, parameters) filled as they run: to read a statement's plan (`sqlite_plan`)."""
    seen: list[tuple[str, Any]] = []

    def note(_conn: object, _cursor: object, statement: str, parameters: Any, *_args: object) -> None:
        seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def sqlite_plan(session: Any, statement: str, parameters: Any) -> str:
    """SQLite's plan of `statement` run with `parameters` (as `recording` saw them), its steps
    joined by " | " ("SEARCH idea USING INDEX ix_idea_status (status=?) | ...")."""
    plan = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
    return " | ".join(row[-1] for row in plan)


def run_coroutine(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """`asyncio.run(coroutine)` in a thread of its own, and its result. In the test's thread it
    fails once a test before it in the same worker left an event loop running there (the
    browser tests' Playwright does, for the whole session)."""
    with ThreadPoolExecutor(max_workers=1) as thread:
        return thread.submit(asyncio.run, coroutine).result()


def delete_account_row(session: Any, user_id: int) -> bool:
    """Delete a person's row by hand in a savepoint, as no path of the platform does (it
    anonymises): the foreign keys then cascade or set NULL. False, and nothing changed, when a
    foreign key without such an action refuses it. For the tests of what triggers keep."""
    try:
        with session.begin_nested():
            session.execute(delete(User).where(User.id == user_id))  # type: ignore[arg-type]
    except IntegrityError:
        return False
    return True
