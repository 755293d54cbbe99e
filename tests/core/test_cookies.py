"""Every cookie the platform sets (issue 10, defect 22): under https, named with the `__Host-`
prefix, Secure, Path=/, no Domain, SameSite=Lax and HttpOnly; and the site still works with them
(login, forms, language, flash messages, logout)."""

from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from httpx import Response
from sqlmodel import Session

from app.account.models import User
from app.main import create_app
from tests.factories import DEFAULT_PASSWORD, make_call, make_idea, make_user
from tests.support import WebClient, make_settings

HTTPS_BASE = "https://participation.example.be"
EXPECTED = {"rv_session", "rv_csrf", "rv_flash", "rv_lang", "rv_seed"}


@pytest.fixture
def https_client(tmp_path: Path, database_url: str) -> Iterator[WebClient]:
    app = create_app(make_settings(tmp_path / "var", database_url, base_url=HTTPS_BASE))
    with WebClient(app, base_url=HTTPS_BASE) as web:
        yield web


class CookieLog:
    """Every Set-Cookie header the platform sent, parsed."""

    def __init__(self) -> None:
        self.seen: dict[str, list[tuple[str, str]]] = {}  # name -> [(raw header, value)]

    def record(self, response: Response) -> Response:
        for raw in response.headers.get_list("set-cookie"):
            name = raw.split("=", 1)[0]
            self.seen.setdefault(name, []).append((raw, raw.split("=", 1)[1].split(";", 1)[0]))
        return response


def _attributes(raw: str) -> dict[str, str]:
    parts = [p.strip() for p in raw.split(";")][1:]
    return {k.lower(): v for k, _sep, v in (p.partition("=") for p in parts)}


def test_every_cookie_is_host_prefixed_secure_and_http_only_under_https(
        https_client: WebClient, session: Session) -> None:
    call = make_call(session, phase="voting")
    make_idea(session, call)
    user: User = make_user(session, email="ines@example.org", display_name="Inès")
    session.commit()
    log = CookieLog()
    client = https_client

    log.record(client.get("/?lang=en"))  # CSRF seed and language
    log.record(client.get(f"/calls/{call.slug}?sort=random"))  # the shuffle seed
    login = log.record(client.submit("/account/login", {"email": "ines@example.org", "password": DEFAULT_PASSWORD}))
    assert login.status_code == 303
    home = log.record(client.get("/"))  # the flash is shown, then deleted
    assert "Inès" in home.text, "the __Host- session cookie must log the person in"
    assert "Welcome, Inès!" in home.text
    saved = log.record(client.submit("/account", {"display_name": "Inès B.", "language": "nl"}))
    assert saved.status_code == 303, "the form's CSRF token must match the __Host- seed cookie"
    session.expire_all()
    assert session.get(User, user.id).display_name == "Inès B."  # type: ignore[union-attr]
    logout = log.record(client.submit("/account/logout"))
    assert logout.status_code == 303
    assert "Inès" not in log.record(client.get("/")).text

    names = set(log.seen)
    assert {n.removeprefix("__Host-") for n in names} == EXPECTED, names
    for name, sent in log.seen.items():
        assert name.startswith("__Host-"), name
        for raw, _value in sent:
            attrs = _attributes(raw)
            assert "secure" in attrs, raw
            assert attrs.get("path") == "/", raw
            assert "domain" not in attrs, raw
            assert attrs.get("samesite", "").lower() == "lax", raw
            assert "httponly" in attrs, raw
    # Logging out really removes the session: an empty value, expired, with the same attributes.
    removal = [raw for raw, value in log.seen["__Host-rv_session"] if value in ("", '""')]
    assert removal and "max-age=0" in removal[-1].lower()


def test_over_plain_http_the_names_are_bare_and_not_secure(client: WebClient) -> None:
    response = client.get("/?lang=de")
    cookies = SimpleCookie()
    for raw in response.headers.get_list("set-cookie"):
        cookies.load(raw)
        assert "secure" not in raw.lower() and "httponly" in raw.lower(), raw
    assert set(cookies) == {"rv_csrf", "rv_lang"}
