"""A worker process killed with SIGKILL in the middle of a delivery, after the network took the
post and before the worker could record it, then started again: the post is there once, and
the delivery is recorded as sent. Against the FAKE Graph API (no idempotency key there: the
restarted worker must find the post rather than post it again) and a real worker process."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlmodel import Session, select

from app.announce.models import Delivery, DeliveryStatus
from app.settings import Settings
from tests.announce.fake_networks import graph_api
from tests.announce.helpers import add_channel
from tests.announce.test_delivery import _publish
from tests.factories import make_call

ROOT = Path(__file__).resolve().parents[2]


def _worker(tmp_path: Path, database_url: str, settings: Settings) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REINVENTONS_")}
    env.update(REINVENTONS_DATA_DIR=str(settings.data_dir), REINVENTONS_DATABASE_URL=database_url,
               REINVENTONS_SECRET_KEY=settings.resolved_secret_key, REINVENTONS_OUTBOX_LEASE_SECONDS="2")
    return subprocess.Popen([sys.executable, "-m", "app.cli", "worker"], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait(condition, what: str, process: subprocess.Popen[str], seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_a_worker_killed_after_the_network_took_the_post_never_posts_it_twice(
        tmp_path: Path, database_url: str, settings: Settings, session: Session) -> None:
    with graph_api() as graph:
        add_channel(session, settings, "facebook", "Page", secrets={"page_access_token": graph.token},
                    config={"page_id": "1234567890", "language": "fr", "graph_url": graph.url})
        _publish(session, settings, make_call(session, phase="results"))
        graph.hang_after_work = 30  # the post is made; the answer never comes before the kill
        first = _worker(tmp_path, database_url, settings)
        try:
            _wait(lambda: graph.posts, "the first worker never posted", first)
        finally:
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        [row] = session.exec(select(Delivery)).all()
        session.refresh(row)
        assert row.status == DeliveryStatus.pending and row.attempts == 1  # the attempt was counted first

        second = _worker(tmp_path, database_url, settings)
        try:
            def sent() -> bool:
                session.expire_all()
                return session.exec(select(Delivery)).one().status == DeliveryStatus.sent
            _wait(sent, "the restarted worker never recorded the delivery", second)
        finally:
            second.terminate()
            output, _ = second.communicate(timeout=20)
        assert len(graph.posts) == 1, graph.posts
        row = session.exec(select(Delivery)).one()
        assert row.remote_id == graph.posts[0]["id"] and row.attempts == 2
        assert "already on the network" in output, output


def _lines(process: subprocess.Popen[str]) -> list[str]:
    """What `process` prints, line by line, collected by a thread as it comes."""
    lines: list[str] = []

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _said(lines: list[str], text: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not any(text in line for line in lines):
        assert process.poll() is None or any(text in line for line in lines), "".join(lines)
        assert time.monotonic() < deadline, f"never said {text!r}: {''.join(lines)}"
        time.sleep(0.1)


def test_on_sqlite_a_second_worker_waits_for_the_first(tmp_path: Path, database_url: str,
                                                       settings: Settings) -> None:
    """Two workers never share a SQLite database: the second says so and waits, then takes
    over when the first stops. (PostgreSQL workers share the queue: FOR UPDATE SKIP LOCKED.)"""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL workers share the queue (FOR UPDATE SKIP LOCKED); the lock is SQLite's")
    first = _worker(tmp_path, database_url, settings)
    second = None
    try:
        first_lines = _lines(first)
        _said(first_lines, "worker started", first)
        second = _worker(tmp_path, database_url, settings)
        second_lines = _lines(second)
        _said(second_lines, "another worker runs on this SQLite database", second)
        assert not any("worker started" in line for line in second_lines)
        first.terminate()
        first.wait(timeout=30)
        _said(second_lines, "worker started", second)
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
