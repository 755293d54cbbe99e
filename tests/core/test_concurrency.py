"""Parallel writes through a real server never hit "database is locked" nor a 500."""

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import Session, func, select

from app.account.models import UserSession
from app.security import CSRF_COOKIE, csrf_token_for
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.support import LiveServer


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
