"""SQLite's write turn is shared by every process writing to one database file (app.db): a
second application on the same file waits for it, and no way out of a writing request (done,
refused, failed, cancelled while waiting) leaves it taken."""

import asyncio
import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import Session

from app import writer_lock as lock_module
from app.db import Database
from app.settings import Settings
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient, run_coroutine

pytestmark = pytest.mark.skipif(os.environ.get("REINVENTONS_TEST_DATABASE_URL", "") != "",
                                reason="the writer lock file is SQLite's")

ENOUGH = 30  # seconds: only a lock left taken forever makes a wait reach it


@contextmanager
def other_process_lock(db: Database) -> Iterator[int]:
    """The writer lock taken as another process would: a descriptor of its own on the file."""
    assert db.writer_file_lock is not None
    fd = os.open(db.writer_file_lock.path, os.O_RDWR | os.O_CREAT)
    try:
        yield fd
    finally:
        os.close(fd)


def is_free(db: Database) -> bool:
    with other_process_lock(db) as fd:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True


def test_the_write_turn_excludes_another_application_on_the_same_file(db: Database, settings: Settings) -> None:
    second = Database.from_settings(settings)
    order: list[str] = []

    async def scenario() -> None:
        async def later() -> None:
            async with second.writing():
                order.append("second in")

        async with db.writing():
            assert not is_free(db)
            waiting = asyncio.create_task(later())
            # The second application's waiting thread is given time to be wrongly let in.
            await asyncio.get_running_loop().run_in_executor(None, threading.Event().wait, 0.2)
            order.append("first out")
        await asyncio.wait_for(waiting, ENOUGH)

    try:
        run_coroutine(scenario())
    finally:
        second.dispose()
    assert order == ["first out", "second in"]
    assert is_free(db)


def test_the_write_turn_is_released_on_an_error(db: Database) -> None:
    async def scenario() -> None:
        async with db.writing():
            raise RuntimeError("the route failed")

    with pytest.raises(RuntimeError):
        run_coroutine(scenario())
    assert is_free(db)


def test_a_request_cancelled_while_waiting_leaves_the_turn_free(db: Database, settings: Settings,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The waiting thread cannot be interrupted: it gets the lock after its coroutine is gone,
    and must give it back, or every writer of every process would wait forever."""
    in_flock = threading.Event()
    take = lock_module._take

    def observed_take(fd: int, attempt: lock_module._Attempt) -> None:
        in_flock.set()
        take(fd, attempt)

    monkeypatch.setattr(lock_module, "_take", observed_take)
    second = Database.from_settings(settings)

    async def scenario() -> None:
        async def enter() -> None:
            async with db.writing():
                await asyncio.Event().wait()  # pragma: no cover - never let in before the cancel

        with other_process_lock(db) as fd:
            fcntl.flock(fd, fcntl.LOCK_EX)
            waiting = asyncio.create_task(enter())
            assert await asyncio.get_running_loop().run_in_executor(None, in_flock.wait, ENOUGH)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
        # The other process is gone: the abandoned wait takes the lock, then must release it;
        # the next request of this process holds it for itself, not for a moment in passing.
        async with asyncio.timeout(ENOUGH):
            async with db.writing():
                assert not is_free(db)
        async with asyncio.timeout(ENOUGH):
            async with second.writing():
                pass

    try:
        run_coroutine(scenario())
    finally:
        second.dispose()
    assert is_free(db)


def test_writing_requests_give_the_turn_back_whatever_their_answer(client: WebClient, session: Session,
                                                                   db: Database) -> None:
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    session.commit()
    client.login_as(make_user(session))

    assert client.submit(f"/ideas/{idea.id}/vote").status_code == 303
    assert is_free(db)
    assert client.submit(f"/ideas/{idea.id}/vote", headers={"Accept": "application/json"}).status_code == 409
    assert is_free(db)
    assert client.post(f"/ideas/{idea.id}/vote", data={"csrf_token": "forged"}).status_code == 403
    assert is_free(db)
    assert client.submit("/ideas/999999/vote").status_code == 404
    assert is_free(db)
