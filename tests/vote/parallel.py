"""Parallel requests through the live server: each thread has its own browser (cookie jar); the
set-up of the tests of row locks."""

import secrets
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import httpx
import pytest
from sqlmodel import Session

from app.account.models import User
from app.account.sessions import SESSION_COOKIE, start_session
from app.call.models import Call
from app.idea.models import Idea
from app.security import CSRF_COOKIE, csrf_token_for
from tests.factories import make_call, make_idea, make_user
from tests.support import LiveServer, WebClient

T = TypeVar("T")


def session_token(session: Session, user: User) -> str:
    token = start_session(session, user, days=1)
    session.commit()
    return token


def browser(live_server: LiveServer, token: str, *, json: bool = True) -> httpx.Client:
    """A logged-in client with its own CSRF cookie, sending the token as a script would."""
    seed = secrets.token_urlsafe(16)
    secret = live_server.app.state.settings.resolved_secret_key
    headers = {"X-CSRF-Token": csrf_token_for(secret, seed)}
    if json:
        headers["Accept"] = "application/json"
    return httpx.Client(base_url=live_server.url, cookies={SESSION_COOKIE: token, CSRF_COOKIE: seed},
                        headers=headers, timeout=60, follow_redirects=False)


def in_parallel(count: int, job: Callable[[int], T]) -> list[T]:
    """Run `job(i)` in `count` threads released together by a barrier."""
    barrier = threading.Barrier(count)

    def run(i: int) -> T:
        barrier.wait(timeout=30)
        return job(i)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def voting_with_row_locks(client: WebClient, session: Session) -> tuple[Call, Idea, User]:
    """For the tests of PostgreSQL's row locks (skipped on SQLite, which lets one writer in at
    a time: no row locks to order): a call open for supports, one of its ideas and a voter,
    flushed (not committed)."""
    if client.db.is_sqlite:
        pytest.skip("SQLite lets one writer in at a time: no row locks to order")
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    return call, idea, voter


def signed_in_voter(client: WebClient, session: Session) -> tuple[int, int, str]:
    """A call open for supports, one of its ideas and a voter signed in on `client`, committed:
    (the idea's id, the voter's id, the CSRF token `client` sends)."""
    call = make_call(session, phase="voting")
    idea = make_idea(session, call)
    voter = make_user(session)
    session.commit()
    assert voter.id is not None and idea.id is not None
    client.login_as(voter)
    return idea.id, voter.id, client.csrf()
