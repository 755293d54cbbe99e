"""Parallel requests through a real server never hit "database is locked" nor a 500."""

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import Session, func, select

from app import cookies
from app.account.models import UserSession
from app.account.sessions import start_session
from app.security import CSRF_COOKIE, csrf_token_for
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.support import LiveServer, WebClient, run_coroutine


def test_parallel_logins_and_profile_writes_all_succeed(live_server: LiveServer, session: Session) -> None:
    emails = [make_user(session, email=f"p{i}@example.org").email for i in range(24)]
    secret = live_server.app.state.settings.resolved_secret_key

    def journey(i: int) -> tuple[int, int]:
        seed = f"seed-{i}"
        cookies = {CSRF_COOKIE: seed}
        token = csrf_token_for(secret, seed)
        with httpx.Client(base_url=live_server.url, cookies=cookies, timeout=60) as http:
            login = http.post("/account/login", data={"email": emails[i], "password": DEFAULT_PASSWORD,
                                                      "csrf_token": token})
            profile = http.post("/account", data={"display_name": f"Nom {i}", "language": "en",
                                                  "csrf_token": token})
            return login.status_code, profile.status_code

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(journey, range(24)))
    assert results == [(303, 303)] * 24
    session.expire_all()
    assert session.exec(select(func.count()).select_from(UserSession)).one() == 24



def test_a_hundred_logged_in_pages_at_once_all_answer(client: WebClient, session: Session) -> None:
    """More requests than the connection pool holds (18 on SQLite, 30 on PostgreSQL), each
    keeping its connection across its trips to the thread pool: they wait for a session on the
    event loop (app.db.get_session). Before, the 40 threads all waited in the pool for a
    connection held by requests waiting for a thread: nothing answered until the pool's 30 s
    timeout, then errors."""
    readers = [make_user(session, email=f"r{i}@example.org") for i in range(100)]
    session.commit()
    with client.db.transaction() as writing:
        tokens = [start_session(writing, reader, days=1) for reader in readers]
    name = cookies.SESSION.name(client.settings.is_https)

    async def pages() -> list[int]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            answers = await asyncio.gather(*[http.get("/supports/mine", headers={"Cookie": f"{name}={token}"})
                                             for token in tokens])
        return [answer.status_code for answer in answers]

    started = time.monotonic()
    assert run_coroutine(pages()) == [200] * 100
    assert time.monotonic() - started < 25
