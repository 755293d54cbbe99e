"""CSRF, security headers, trusted hosts, body limits, error pages, health check."""

import re

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.account.models import User
from app.main import create_app
from app.security import CSRF_COOKIE, csrf_token_for
from tests.support import WebClient, app_routes, make_settings

FORM = {"email": "eve@example.org", "display_name": "Eve", "password": "une phrase assez longue"}


def no_users(session: Session) -> bool:
    session.expire_all()
    return session.exec(select(User)).first() is None


def test_post_without_csrf_token_is_refused_and_writes_nothing(client: WebClient, session: Session) -> None:
    client.get("/")
    response = client.post("/account/register", data=FORM)
    assert response.status_code == 403
    assert "expiré" in response.text
    assert no_users(session)


def test_forged_csrf_tokens_are_refused(client: WebClient, session: Session) -> None:
    client.get("/")
    forged = [
        "0" * 64,
        csrf_token_for("another-secret", client.cookies[CSRF_COOKIE]),
        csrf_token_for(client.settings.resolved_secret_key, "someone-elses-cookie"),
        client.csrf()[:-1] + ("0" if client.csrf()[-1] != "0" else "1"),
    ]
    for token in forged:
        response = client.post("/account/register", data={**FORM, "csrf_token": token})
        assert response.status_code == 403, token
    # A valid token without the cookie it was made for (a cross-site form) fails too.
    token = client.csrf()
    stranger = WebClient(client.app, base_url="http://testserver")
    assert stranger.post("/account/register", data={**FORM, "csrf_token": token}).status_code == 403
    assert no_users(session)


def test_csrf_header_works_for_scripts(client: WebClient) -> None:
    response = client.post("/account/logout", headers={"X-CSRF-Token": client.csrf()}, follow_redirects=False)
    assert response.status_code == 303


def test_every_unsafe_route_checks_csrf(client: WebClient) -> None:
    """Listed from the router itself, so a new form cannot forget the check."""
    client.get("/")
    checked = 0
    for route_path, methods in app_routes(client.app):
        for method in methods - {"GET", "HEAD", "OPTIONS"}:
            path = re.sub(r"\{[^}]+\}", "1", route_path)
            response = client.request(method, path, data={"x": "1"}, follow_redirects=False)
            assert response.status_code in (403, 404, 405), (method, route_path, response.status_code)
            checked += 1
    assert checked >= 5


def test_security_headers_on_pages_and_errors(client: WebClient) -> None:
    for path, status in (("/", 200), ("/account/login", 200), ("/does-not-exist", 404)):
        response = client.get(path)
        assert response.status_code == status
        csp = response.headers["content-security-policy"]
        script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
        assert "unsafe-inline" not in script_src and "unsafe-eval" not in script_src
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"]


def test_unknown_host_is_refused(client: WebClient) -> None:
    response = client.get("/", headers={"Host": "evil.example"})
    assert response.status_code == 400


def test_oversized_body_gets_413_and_writes_nothing(client: WebClient, session: Session) -> None:
    big = "x" * (client.settings.max_body_bytes + 1)
    response = client.post("/account/register", data={**FORM, "display_name": big, "csrf_token": client.csrf()})
    assert response.status_code == 413
    assert no_users(session)


def test_secure_cookies_when_base_url_is_https(tmp_path, database_url: str) -> None:
    app = create_app(make_settings(tmp_path / "var", database_url, base_url="https://testserver"))
    with WebClient(app, base_url="https://testserver") as web:
        response = web.get("/")
        assert "secure" in response.headers["set-cookie"].lower()
        assert "strict-transport-security" in response.headers


def test_errors_render_in_the_layout_without_a_stack_trace(tmp_path, database_url: str) -> None:
    app: FastAPI = create_app(make_settings(tmp_path / "var", database_url))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    with WebClient(app, base_url="http://testserver", raise_server_exceptions=False) as web:
        response = web.get("/boom")
        assert response.status_code == 500
        assert "secret internals" not in response.text and "Traceback" not in response.text
        assert '<main id="main"' in response.text
        missing = web.get("/nowhere")
        assert missing.status_code == 404 and '<main id="main"' in missing.text
        api_missing = web.get("/api/nowhere")
        assert api_missing.status_code == 404 and api_missing.json()["status"] == 404


def test_health_check(client: WebClient, tmp_path) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    broken = create_app(make_settings(tmp_path / "other", "sqlite:////nonexistent/dir/db.sqlite3"))
    with WebClient(broken, base_url="http://testserver") as web:
        assert web.get("/healthz").json() == {"status": "ok"}  # liveness asks nothing of the database
        ready = web.get("/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable",
                                "checks": {"database": "unavailable", "storage": "ok", "search": "ok",
                                           "redis": "ok"}}  # not configured: nothing to wait for


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_no_state_change_on_get_logout(client: WebClient, method: str) -> None:
    response = client.request(method, "/account/logout", follow_redirects=False)
    assert response.status_code == 405
