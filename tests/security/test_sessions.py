"""Sessions and single-use links: they end when they must, and racing them breaks nothing."""

from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlmodel import Session, select

from app.account import service as account_service
from app.account.models import User
from app.account.service import TokenPurpose
from app.security import CSRF_COOKIE, csrf_token_for
from tests.factories import make_user
from tests.support import LiveServer


def test_one_reset_link_sent_twice_at_once_changes_the_password_once(live_server: LiveServer,
                                                                     session: Session) -> None:
    user = make_user(session, email="pressee@example.org")
    token = account_service._issue_token(session, user, TokenPurpose.reset, account_service.RESET_TTL)
    session.commit()
    secret = live_server.app.state.settings.resolved_secret_key

    def reset(i: int) -> int:
        seed = f"seed-{i}"
        with httpx.Client(base_url=live_server.url, cookies={CSRF_COOKIE: seed}, timeout=60) as http:
            return http.post("/account/password/reset", data={
                "token": token, "password": f"nouveau mot de passe numéro {i}",
                "csrf_token": csrf_token_for(secret, seed)}).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = sorted(pool.map(reset, range(6)))
    # One wins; the others are told the link was used, never a 500.
    assert statuses == [303] + [422] * 5


def test_parallel_wrong_passwords_cannot_outrun_the_login_limit(live_server: LiveServer, session: Session) -> None:
    """Twenty guesses sent at once for one account: only the limit's five are tried, the rest
    get 429 (on PostgreSQL, parallel requests used to count the same hits and all pass)."""
    make_user(session, email="cible@example.org")
    session.commit()
    secret = live_server.app.state.settings.resolved_secret_key

    def guess(i: int) -> int:
        seed = f"seed-{i}"
        with httpx.Client(base_url=live_server.url, cookies={CSRF_COOKIE: seed}, timeout=60) as http:
            return http.post("/account/login", data={
                "email": "cible@example.org", "password": f"mauvais mot de passe {i}",
                "csrf_token": csrf_token_for(secret, seed)}).status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = sorted(pool.map(guess, range(20)))
    assert statuses == [422] * 5 + [429] * 15


def test_one_address_registered_twice_at_once_makes_one_account(live_server: LiveServer, session: Session) -> None:
    secret = live_server.app.state.settings.resolved_secret_key

    def register(i: int) -> int:
        seed = f"seed-{i}"
        with httpx.Client(base_url=live_server.url, cookies={CSRF_COOKIE: seed}, timeout=60,
                          headers={"X-Forwarded-For": f"10.0.0.{i}"}) as http:
            return http.post("/account/register", data={
                "email": "double@example.org", "display_name": f"Double {i}",
                "password": "un mot de passe assez long", "csrf_token": csrf_token_for(secret, seed)}).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(register, range(4)))
    assert statuses == [200, 422, 422, 422]
    assert len(session.exec(select(User).where(User.email == "double@example.org")).all()) == 1
