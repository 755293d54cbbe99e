"""Errors reported to Sentry when a DSN is set (issue 14, observability), with nothing personal
or secret in them. No Sentry server can run here: a fake ingestion endpoint (a local HTTP
server that keeps the envelopes the real sentry-sdk sends) stands in for it, named as such."""

import gzip
import http.server
import json
import secrets
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI

from app.main import create_app
from app.observability.errors import scrub
from tests.support import WebClient, app_routes, make_settings


class _FakeSentryIngest(http.server.BaseHTTPRequestHandler):
    """A fake: keeps each envelope POSTed to /api/<project>/envelope/ and answers 200."""

    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli  # type: ignore[import-not-found]
            body = brotli.decompress(body)
        type(self).received.append(body)
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def ingest() -> Iterator[tuple[str, list[bytes]]]:
    _FakeSentryIngest.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FakeSentryIngest)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://publickey@127.0.0.1:{server.server_port}/1", _FakeSentryIngest.received
    finally:
        sentry_sdk.init(dsn=None)  # the SDK is process-wide: later tests report nothing
        server.shutdown()


def _events(received: list[bytes]) -> list[dict[str, object]]:
    events = []
    for envelope in received:
        lines = envelope.split(b"\n")
        for header, item in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                events.append(json.loads(item))
    return events


def test_an_error_is_reported_without_cookies_query_strings_forms_or_tokens(
        tmp_path: Path, database_url: str, ingest: tuple[str, list[bytes]]) -> None:
    dsn, received = ingest
    app: FastAPI = create_app(make_settings(tmp_path / "var", database_url, sentry_dsn=dsn,
                                            sentry_environment="test",
                                            forwarded_allow_ips="testclient"))  # the test client is the proxy

    @app.post("/boom")
    def boom() -> None:
        raise RuntimeError("the worker's disk is full")

    with WebClient(app, base_url="http://testserver", raise_server_exceptions=False) as web:
        web.get("/")  # a session cookie and the CSRF seed
        # Made now, so that the event's source lines (this file's code) cannot hold them.
        token, password, api_key = (secrets.token_hex(8) for _ in range(3))
        answer = web.post(f"/boom?token={token}", data={"csrf_token": web.csrf(), "password": password},
                          headers={"X-Request-ID": "boom-request-0001", "Authorization": f"Bearer {api_key}"})
        assert answer.status_code == 500 and "disk is full" not in answer.text
    sentry_sdk.flush(timeout=5)
    deadline = time.monotonic() + 5
    while not _events(received) and time.monotonic() < deadline:
        time.sleep(0.05)
    events = _events(received)
    assert len(events) == 1
    event = events[0]
    assert "RuntimeError" in json.dumps(event["exception"]) and "disk is full" in json.dumps(event["exception"])
    assert event["environment"] == "test" and event["tags"]["request_id"] == "boom-request-0001"  # type: ignore[index]
    sent = json.dumps(event)
    for secret in (token, password, api_key, web.csrf(), *web.cookies.values()):
        assert secret not in sent, secret
    request = event["request"]
    assert isinstance(request, dict) and "cookies" not in request and "data" not in request
    assert not any(k.lower() in ("cookie", "authorization", "x-csrf-token") for k in request.get("headers", {}))


def test_nothing_is_reported_without_a_dsn(tmp_path: Path, database_url: str) -> None:
    sentry_sdk.init(dsn=None)
    create_app(make_settings(tmp_path / "var", database_url))
    assert sentry_sdk.get_client().transport is None  # nowhere to send anything


def test_every_path_carrying_a_token_is_masked_in_reported_errors(tmp_path: Path, database_url: str) -> None:
    app = create_app(make_settings(tmp_path / "var", database_url))
    token_paths = sorted({path for path, _methods in app_routes(app) if "{token}" in path})
    assert len(token_paths) >= 4  # unsubscribe links of notifications and of the newsletter, its confirmation
    for path in token_paths:
        secret = secrets.token_urlsafe(24)
        url = "https://participation.example.be" + path.replace("{token}", secret) + "?x=1"
        event = scrub({"request": {"url": url}}, {})
        assert secret not in json.dumps(event), path
        assert event["request"]["url"] == "https://participation.example.be" + path.replace("{token}", "[token]")
    kept = scrub({"request": {"url": "https://participation.example.be/ideas/42"}}, {})
    assert kept["request"]["url"] == "https://participation.example.be/ideas/42"


def test_an_httpx_error_is_reported_with_its_host_and_status_but_no_secret_of_its_url(
        tmp_path: Path, database_url: str, ingest: tuple[str, list[bytes]]) -> None:
    """An unforeseen httpx error (a provider answering 401) names the request's full URL in its
    text: the report keeps the status, the host and the path, not the password or the token."""
    dsn, received = ingest
    app: FastAPI = create_app(make_settings(tmp_path / "var", database_url, sentry_dsn=dsn))
    secret = secrets.token_urlsafe(16)  # made now: no source line of the event holds it

    @app.get("/boom")
    def boom() -> None:
        url = f"https://city:{secret}@idp.example.be/unsubscribe/{secret}?access_token={secret}"
        httpx.Response(401, request=httpx.Request("GET", url)).raise_for_status()

    with WebClient(app, base_url="http://testserver", raise_server_exceptions=False) as web:
        assert web.get("/boom").status_code == 500
    sentry_sdk.flush(timeout=5)
    deadline = time.monotonic() + 5
    while not _events(received) and time.monotonic() < deadline:
        time.sleep(0.05)
    [event] = _events(received)
    reported = json.dumps(event["exception"])
    assert "401 Unauthorized" in reported and "https://[credentials]@idp.example.be/unsubscribe/[token]" in reported
    assert secret not in json.dumps(event)


@pytest.mark.parametrize(("said", "reported"), [
    ("Client error '401 Unauthorized' for url 'https://u:SECRET@api.example.net/v2/me?token=SECRET#t=SECRET'",
     "Client error '401 Unauthorized' for url 'https://[credentials]@api.example.net/v2/me'"),
    ("smtp://mailer:p@ss:SECRET@mail.example.be:587 refused", "smtp://[credentials]@mail.example.be:587 refused"),
    ("Max retries exceeded with url: /indexes/ideas/search?key=SECRET",
     "Max retries exceeded with url: /indexes/ideas/search"),
    ("GET https://x.be/unsubscribe/SECRET/one-click", "GET https://x.be/unsubscribe/[token]/one-click"),
    ("sent Authorization: Bearer SECRET.part", "sent Authorization: [hidden]"),
    ("bearer SECRET refused", "bearer [hidden] refused"),
    ('body {"access_token": "SECRET", "n": 1}', 'body {"access_token": "[hidden]", "n": 1}'),
    ("host=db password=SECRET user=x", "host=db password=[hidden] user=x"),
])
def test_an_exceptions_text_is_reported_without_the_secrets_it_quotes(said: str, reported: str) -> None:
    """What an exception's text may quote of a request (a URL's query string, fragment, user and
    password, a token path; an Authorization value, a named secret) is masked, and the rest kept
    (a profile's "@" in a path, a token named in words)."""
    kept = " - https://mastodon.example/@city/1129 gone, the token was refused: HTTP 401 from hooks.example.be"
    said, reported = said + kept, reported + kept
    event = scrub({"exception": {"values": [{"type": "Error", "value": said}]},
                   "logentry": {"message": "failed: %s", "params": [said], "formatted": f"failed: {said}"}}, {})
    assert event["exception"]["values"][0]["value"] == reported
    assert event["logentry"] == {"message": "failed: %s", "params": [reported], "formatted": f"failed: {reported}"}


def test_a_long_text_from_a_remote_server_is_made_safe_without_hanging_the_worker() -> None:
    """`safe_text`'s patterns were quadratic in a run of name or scheme characters: 8 KB of
    "a-a-a-..." took 6 s and 32 KB two minutes, in the worker, for an error text a remote server
    chose. Run in a child process given a minute (minutes before; milliseconds now): a bound,
    not a measure of speed."""
    code = ("from app.observability.errors import safe_text\n"
            "texts = ['a-' * 32768, 'a.' * 32768, 'a-token' * 9000, 'bearer ' * 9000, 'http://' * 9000]\n"
            "assert [safe_text(t) for t in texts[:2]] == texts[:2]\n"
            "for text in texts[2:]:\n"
            "    safe_text(text)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], timeout=60,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
