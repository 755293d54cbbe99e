"""A write's answer leaves `settle_seconds` after its bump of the page generation at the
earliest (app.pagecache.settle), where other processes may answer from a read begun that long
before a request: a visitor who received the answer is then answered from a read that sees it."""

import threading
import time

import pytest
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from app.edge import Edge
from app.pagecache import settle
from app.pagecache.generation import SETTLE_SECONDS
from app.pagecache.store import PageCache
from tests.factories import make_call, make_idea, make_user
from tests.support import WebClient, run_coroutine


def _scope() -> Scope:
    return {"type": "http", "method": "POST", "path": "/x", "raw_path": b"/x", "query_string": b"",
            "headers": [], "client": ("127.0.0.1", 5000), "server": ("testserver", 80), "scheme": "http"}


async def _receive() -> dict[str, object]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _answer_times(bump_seconds: float | None) -> tuple[float, float]:
    """(when the inner application's bump noted its settling, when the answer's first message
    reached the server), for one request through the edge; no bump when `bump_seconds` is None."""
    noted: list[float] = [0.0]
    sent: list[float] = []

    async def inner(scope: Scope, receive: Receive, send: Send) -> None:
        def work() -> None:  # a route's work, in the thread pool as FastAPI runs it
            if bump_seconds is not None:
                settle.settled(bump_seconds)
            noted[0] = time.monotonic()

        await run_in_threadpool(work)
        await send({"type": "http.response.start", "status": 303, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def server_send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            sent.append(time.monotonic())

    edge = Edge(inner, cache=PageCache(max_bytes=1024 * 1024, https=False, secret_key="k" * 32, generation=None))  # type: ignore[arg-type]
    run_coroutine(edge(_scope(), _receive, server_send))  # type: ignore[arg-type]
    return noted[0], sent[0]


def test_an_answer_leaves_the_settling_time_after_its_bump_and_not_sooner() -> None:
    noted, sent = _answer_times(0.2)
    assert sent - noted >= 0.19  # the bump noted 0.2 s from its own time, just before `noted`
    noted, sent = _answer_times(None)
    assert sent - noted < 0.15  # no bump: not held


def test_a_bump_outside_any_request_is_not_held() -> None:
    """The worker's and the commands' bumps: nobody is answered, so nothing waits."""
    started = time.monotonic()
    done = threading.Event()

    def bump_elsewhere() -> None:
        settle.settled(5.0)
        done.set()

    threading.Thread(target=bump_elsewhere).start()
    assert done.wait(2) and time.monotonic() - started < 2


def test_a_support_is_answered_no_sooner_than_the_settling_time_after_its_bump(
        client: WebClient, session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    generation = client.db.generation
    if not generation.settle_seconds:
        pytest.skip("each process reads this generation (SQLite's file) for itself: no settling")
    assert generation.settle_seconds == SETTLE_SECONDS
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    client.login_as(voter)
    url, token = f"/ideas/{idea.id}/vote", client.csrf()
    bumped: list[float] = []
    bump = type(generation).bump

    def timed_bump(self: object) -> None:
        bump(self)  # type: ignore[arg-type]
        bumped.append(time.monotonic())

    monkeypatch.setattr(type(generation), "bump", timed_bump)
    answer = client.post(url, data={"csrf_token": token}, follow_redirects=False)
    answered = time.monotonic()
    assert answer.status_code == 303 and len(bumped) == 1
    assert answered - bumped[0] >= SETTLE_SECONDS
