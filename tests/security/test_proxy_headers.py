"""The reverse proxy's headers (REINVENTONS_FORWARDED_ALLOW_IPS): X-Forwarded-For and
X-Forwarded-Proto are believed from a trusted proxy only. From anyone else, a visitor could
pick the address the per-address limits count, or the scheme of the links made for them."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.main import create_app
from tests.support import WebClient, make_settings

PASSWORD = "un mot de passe très long"


def _client(tmp_path: Path, database_url: str, trusted: str) -> WebClient:
    settings = make_settings(tmp_path / f"var-{trusted}", database_url, forwarded_allow_ips=trusted,
                             registrations_per_hour=1)
    return WebClient(create_app(settings), base_url="http://testserver")


@pytest.fixture
def direct(tmp_path: Path, database_url: str) -> Iterator[WebClient]:
    """A visitor reaching the server directly: the test client's peer ("testclient") is not the proxy."""
    with _client(tmp_path, database_url, "10.0.0.5") as web:
        yield web


@pytest.fixture
def proxied(tmp_path: Path, database_url: str) -> Iterator[WebClient]:
    """Requests through the trusted proxy: here the test client's peer is the proxy."""
    with _client(tmp_path, database_url, "testclient") as web:
        yield web


def _register(web: WebClient, n: int, forwarded_for: str) -> int:
    return web.submit("/account/register", {"email": f"p{n}@example.org", "display_name": f"Personne {n}",
                                            "password": PASSWORD},
                      headers={"X-Forwarded-For": forwarded_for}).status_code


def test_a_direct_visitor_cannot_choose_the_address_the_registration_limit_counts(direct: WebClient) -> None:
    assert _register(direct, 1, "192.0.2.1") in (200, 303)
    assert _register(direct, 2, "192.0.2.2") == 429  # the same visitor, whatever address they claim


def test_behind_the_trusted_proxy_each_visitors_address_is_counted_apart(proxied: WebClient) -> None:
    assert _register(proxied, 1, "192.0.2.1") in (200, 303)
    assert _register(proxied, 2, "192.0.2.2") in (200, 303)
    assert _register(proxied, 3, "192.0.2.2") == 429


def test_a_direct_visitor_cannot_choose_the_scheme(direct: WebClient, proxied: WebClient) -> None:
    forged = direct.get("/calls/", headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert forged.status_code in (307, 308) and forged.headers["location"].startswith("http://")
    through_proxy = proxied.get("/calls/", headers={"X-Forwarded-Proto": "https"}, follow_redirects=False)
    assert through_proxy.headers["location"].startswith("https://")
