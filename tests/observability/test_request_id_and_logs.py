"""The request id and the logs (issue 14, observability): every answer names its request id,
a trusted proxy's well-formed id is kept and anything else replaced (an id sent by anyone
else too); log lines are JSON with the id;
the outbox message a request queues carries the id into the worker's log lines about it."""

import io
import json
import logging
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlmodel import Session, select

from app.main import create_app
from app.observability import context, logs
from app.outbox.models import OutboxMessage
from app.settings import Settings
from tests.factories import make_call
from tests.support import WebClient, make_settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The test client's peer name ("testclient") is the trusted reverse proxy here."""
    return make_settings(tmp_path / "var", database_url, forwarded_allow_ips="testclient")


def _production_handler(out: io.StringIO, kind: str = "json") -> logging.Handler:
    """The handler `logs.dict_config` configures, writing to `out`."""
    config = logs.dict_config(kind)["handlers"]["stderr"]
    assert config["class"] == "logging.StreamHandler" and config["filters"] == ["request_id"]
    handler = logging.StreamHandler(out)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.formatter(kind))
    return handler


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the root logger writes, through the production handler and formatter (JSON lines)."""
    out = io.StringIO()
    handler = _production_handler(out)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _records(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_each_answer_names_its_request_id_and_keeps_a_proxys(client: WebClient) -> None:
    made = client.get("/").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert client.get("/").headers["x-request-id"] != made  # one per request
    assert client.get("/", headers={"X-Request-ID": "nginx-7f3a9c2e"}).headers["x-request-id"] == "nginx-7f3a9c2e"
    # An error page names it too: it is what a person reporting a problem can quote.
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/no-such-page").headers["x-request-id"])


def test_an_id_sent_by_a_visitor_rather_than_the_proxy_is_replaced(tmp_path: Path, database_url: str) -> None:
    # The proxy is 10.0.0.5; the test client's requests come from elsewhere, as a visitor's
    # reaching the server directly would: their id could be another request's, forged.
    behind_proxy = make_settings(tmp_path / "var", database_url, forwarded_allow_ips="10.0.0.5")
    with WebClient(create_app(behind_proxy), base_url="http://testserver") as visitor:
        answered = visitor.get("/", headers={"X-Request-ID": "nginx-7f3a9c2e"})
    assert answered.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["x-request-id"])


@pytest.mark.parametrize("sent", ["short", "x" * 65, "evil\u2028id-123456", "<script>alert(1)</script>",
                                  "id with spaces 1234"])
def test_an_id_that_is_not_one_is_replaced(client: WebClient, sent: str) -> None:
    answered = client.get("/", headers={"X-Request-ID": sent.encode("utf-8")})
    assert re.fullmatch(r"[0-9a-f]{32}", answered.headers["x-request-id"])


def test_log_lines_are_json_with_the_request_id_and_never_the_query_string(
        client: WebClient, json_lines: io.StringIO) -> None:
    answered = client.get("/search?q=école&token=s3cr3t-one-time", headers={"X-Request-ID": "req-0123456789"})
    assert answered.status_code == 200
    access = [r for r in _records(json_lines) if r["logger"] == "app.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-0123456789" and line["level"] == "INFO"
    assert line["route"] == "search:results" and line["status"] == 200 and isinstance(line["duration_ms"], float)
    assert str(line["message"]).startswith("GET /search 200 ")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00", str(line["time"]))
    # The server's lines (the test client's own httpx line aside: production keeps httpx at WARNING).
    server = "\n".join(json.dumps(r) for r in _records(json_lines) if not str(r["logger"]).startswith("httpx"))
    assert "s3cr3t" not in server and "cole" not in server


def test_the_worker_logs_a_message_with_the_id_of_the_request_that_queued_it(
        client: WebClient, session: Session, json_lines: io.StringIO) -> None:
    answered = client.submit("/account/register", {"email": "ines@example.org", "display_name": "Inès",
                                                   "password": "un mot de passe très long"},
                             headers={"X-Request-ID": "register-42-abcdef"})
    assert answered.status_code in (200, 303), answered.text
    message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == "email")).one()
    assert message.request_id == "register-42-abcdef"
    logging.getLogger("app.outbox.service").info("before the worker")  # outside any request: no id
    client.run_worker()  # the e-mail is written to the data folder: "done in N ms", with the id
    lines = _records(json_lines)
    assert any(r["message"] == "before the worker" and r["request_id"] is None for r in lines)
    about = [r for r in lines if f"outbox message {message.id} " in str(r["message"])]
    assert about and all(r["request_id"] == "register-42-abcdef" for r in about), about


def test_log_formats() -> None:
    assert logs.resolve("text") == "text" and logs.resolve("json") == "json"
    assert logs.dict_config("json")["loggers"]["httpx"] == {"level": "WARNING"}  # its INFO lines hold URLs
    # JSON too: the benchmark hands it to uvicorn as a file, so that its servers log as production's.
    assert json.loads(json.dumps(logs.dict_config("json"))) == logs.dict_config("json")
    with pytest.raises(ValueError, match="json or text"):
        logs.dict_config("xml")
    record = logging.LogRecord("app.x", logging.WARNING, __file__, 1, "Liège: %s", ("ok",), None)
    record.request_id = "abc12345"
    assert json.loads(logs.formatter("json").format(record))["message"] == "Liège: ok"
    assert logs.formatter("text").format(record).endswith("WARNING app.x [abc12345]: Liège: ok")


class _Flushes(io.StringIO):
    """A stream that notes what it held at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


def test_the_production_handler_writes_each_line_with_its_id_at_once_and_keeps_filters() -> None:
    out = _Flushes()
    handler = _production_handler(out)
    logger = logging.getLogger("app.tests.handler")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with context.bound("abc12345"):
            logger.warning("one %s", "line")
        logger.warning("outside")
        handler.addFilter(lambda record: "secret" not in record.getMessage())
        logger.warning("a secret")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = _records(out)
    assert [(r["message"], r["request_id"]) for r in lines] == [("one line", "abc12345"), ("outside", None)]
    assert len(out.flushed) == 2 and out.flushed[0].count("\n") == 1  # each line flushed as written


def test_a_head_request_logs_its_route_and_masks_the_token_in_its_path(
        client: WebClient, session: Session, json_lines: io.StringIO) -> None:
    """HEAD goes on as GET on a copy of the request (app.head): the route and the token found
    on the copy must reach the access log, or an uptime monitor's or a link preview's HEAD of a
    confirmation link writes its one-time token in clear, and every HEAD is counted "unmatched"."""
    call = make_call(session)
    session.commit()
    for method in ("GET", "HEAD"):
        assert client.request(method, "/newsletter/confirm/s3cr3t-one-time-token").status_code < 500
        assert client.request(method, f"/calls/{call.slug}").status_code == 200  # a miss, then a page-cache hit
        assert client.request(method, f"/calls/{call.slug}").status_code == 200
    access = [(r["message"].split(" ")[:2], r["route"]) for r in _records(json_lines)  # type: ignore[union-attr]
              if r["logger"] == "app.access"]
    page = f"/calls/{call.slug}"
    assert access == [(["GET", "/newsletter/confirm/[token]"], "newsletter:confirm_form"),
                      (["GET", page], "call:detail"), (["GET", page], "call:detail"),
                      (["HEAD", "/newsletter/confirm/[token]"], "newsletter:confirm_form"),
                      (["HEAD", page], "call:detail"), (["HEAD", page], "call:detail")]
    server = [r for r in _records(json_lines) if not str(r["logger"]).startswith("httpx")]  # the test client's aside
    assert "s3cr3t" not in json.dumps(server)


def test_an_unexpected_error_names_its_request_id_in_its_log_line_and_its_answer(
        tmp_path: Path, database_url: str, json_lines: io.StringIO) -> None:
    """The 500 page is made by Starlette's outermost layer, inside the edge: the
    traceback's line must still carry the request's id, and the page's answer name it, or the
    id a person quotes from the page leads to the access line and never to the traceback."""
    app = create_app(make_settings(tmp_path / "var", database_url, forwarded_allow_ips="testclient"))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("the worker's disk is full")

    with WebClient(app, base_url="http://testserver", raise_server_exceptions=False) as web:
        answer = web.get("/boom", headers={"X-Request-ID": "boom-request-0001"})
    assert answer.status_code == 500 and answer.headers.get("x-request-id") == "boom-request-0001"
    lines = [r for r in _records(json_lines) if r["logger"] in ("app.access", "app.errors")]
    assert [(r["logger"], r["request_id"]) for r in lines] == [("app.errors", "boom-request-0001"),
                                                                ("app.access", "boom-request-0001")]


def test_an_unexpected_error_on_a_token_path_logs_the_token_masked(
        tmp_path: Path, database_url: str, json_lines: io.StringIO) -> None:
    """The traceback's line names the path as the access line does: the secret of a token path
    (an unsubscribe or confirmation link) masked, not in clear in the error log."""
    app = create_app(make_settings(tmp_path / "var", database_url))
    secret = "s3cr3t-one-time-token-0001"

    @app.get("/unsubscribe/{token}/boom")
    def boom(token: str) -> None:
        raise RuntimeError("the worker's disk is full")

    with WebClient(app, base_url="http://testserver", raise_server_exceptions=False) as web:
        answer = web.get(f"/unsubscribe/{secret}/boom")
    assert answer.status_code == 500
    # The server's lines (the test client's own httpx line names the address it asked for).
    server = [r for r in _records(json_lines) if r["logger"].startswith(("app", "uvicorn"))]
    assert server and not [r for r in server if secret in str(r)]
    errors = [r for r in server if r["logger"] == "app.errors"]
    assert len(errors) == 1 and "/unsubscribe/[token]/boom" in errors[0]["message"]


def test_a_token_path_refused_before_routing_is_masked_in_the_log_line(
        client: WebClient, json_lines: io.StringIO) -> None:
    """No route has read the `{token}` of a request refused before routing (a Host not served,
    a body too large): its access line still masks the token, as error reports do."""
    refused = client.get("/newsletter/confirm/s3cr3t-one-time-token", headers={"Host": "elsewhere.example"})
    too_large = client.post("/notifications/unsubscribe/s3cr3t-one-time-token/one-click",
                            content=b"x" * (64 * 1024 * 1024))
    assert refused.status_code == 400 and too_large.status_code == 413
    access = [str(r["message"]) for r in _records(json_lines) if r["logger"] == "app.access"]
    assert [line.split(" ")[1] for line in access] == ["/newsletter/confirm/[token]",
                                                       "/notifications/unsubscribe/[token]/one-click"]


def test_the_500_page_carries_the_security_headers_of_every_page(tmp_path: Path, database_url: str) -> None:
    """Starlette makes the 500 page in its outermost layer, outside the security headers'
    middleware: it must carry them all the same (no framing of an error page, no sniffing)."""
    app = create_app(make_settings(tmp_path / "var", database_url))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("the worker's disk is full")

    with WebClient(app, base_url="http://testserver", raise_server_exceptions=False) as web:
        page = web.get("/")
        answer = web.get("/boom")
    assert answer.status_code == 500
    for name in ("content-security-policy", "x-content-type-options", "referrer-policy", "x-frame-options",
                 "permissions-policy", "cross-origin-opener-policy"):
        assert answer.headers.get(name) == page.headers[name], name
    assert answer.headers["x-frame-options"] == "DENY" and answer.headers["x-content-type-options"] == "nosniff"


def test_a_line_break_in_a_logged_value_cannot_forge_a_text_line() -> None:
    """In the text format a record's first line starts at the start of a line: a value logged
    with a line break in it (a path, a name typed by a visitor) cannot write a line that reads
    as a record of its own, nor go back over the line with a carriage return."""
    out = io.StringIO()
    handler = _production_handler(out, "text")
    logger = logging.getLogger("app.tests.forge")
    logger.addHandler(handler)
    logger.propagate = False
    forged = "/x\n2026-12-01 03:00:00,000 INFO app.access [abc12345]: GET /admin 200\rGET"
    try:
        logger.warning("not found: %s", forged)
        logger.warning("next")
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    written = out.getvalue()
    records = [line for line in written.split("\n") if line and not line.startswith(" ")]
    assert len(records) == 2 and records[1].endswith("WARNING app.tests.forge [None]: next")
    assert "\r" not in written and "INFO app.access [abc12345]: GET /admin 200\\rGET" in written


def test_no_character_of_a_requested_path_starts_a_line_or_drives_the_terminal_in_the_text_format(
        client: WebClient) -> None:
    """The access line writes the path decoded (`%1B` is an escape character): in the text format
    no character of it may end the line for a reader that splits lines on more than the line
    feed (a vertical tab, a form feed, NEL, the Unicode line and paragraph separators: Python's
    `splitlines`, editors) nor reach a terminal as a control sequence (ESC, CSI) or reorder
    what it shows (bidirectional overrides). Each is written as its escape, as `\\r` is."""
    out = io.StringIO()
    handler = _production_handler(out, "text")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        answer = client.get("/calls/x%1B%5B2K%0B%0C%1C%1D%1E%C2%85%C2%9B%E2%80%A8%E2%80%A9%E2%80%AEINFO%7F")
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert answer.status_code == 404
    written = out.getvalue()
    access = [line for line in written.splitlines() if " app.access " in line]
    assert len(access) == 1 and len(written.splitlines()) == written.count("\n")
    assert access[0].endswith("GET /calls/x\\x1b[2K\\x0b\\x0c\\x1c\\x1d\\x1e\\x85\\x9b\\u2028\\u2029\\u202eINFO\\x7f"
                              " 404" + access[0].rsplit(" 404", 1)[1])
    assert not any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in written.replace("\n", ""))


def test_a_value_orjson_refuses_still_writes_one_json_line() -> None:
    """A lone surrogate (JSON decoded from a network's answer may hold one: "\\ud800") or an
    integer past 64 bits in a record: the line is still one valid JSON line with the record,
    the surrogate written as its escape, not a lost record and a traceback among the lines."""
    out = io.StringIO()
    logger = logging.getLogger("app.tests.surrogate")
    handler = _production_handler(out)
    # Not through the root logger: pytest's capture there would carry the surrogate into the
    # test's report, which pytest-xdist's workers cannot send (their channel takes UTF-8 only).
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("mention not read: %s", "caf\u00e9 \ud800", extra={"n": 2**70})
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    assert record["message"] == "mention not read: caf\u00e9 \\ud800" and record["n"] == 2**70
    assert record["level"] == "WARNING" and datetime.fromisoformat(record["time"]).tzinfo is not None
    assert "T" in record["time"]  # ISO 8601, as every other line's


def _refused(url: str) -> None:
    """What httpx raises for a 401 answer to `url`: its text names the full URL."""
    httpx.Response(401, request=httpx.Request("GET", url)).raise_for_status()


def test_the_traceback_of_an_unforeseen_httpx_error_keeps_the_host_but_no_token_or_password(
        tmp_path: Path, database_url: str, json_lines: io.StringIO) -> None:
    """A route whose call to another service fails unforeseen (an OpenID provider answering 401
    to a URL with a key in its query and a password in its address): the error's line and its
    traceback name the status, the host and the path, and no secret of the URL."""
    app = create_app(make_settings(tmp_path / "var", database_url))
    secret = secrets.token_urlsafe(16)  # made now: no source line in the traceback holds it

    @app.get("/boom")
    def boom() -> None:
        _refused(f"https://city:{secret}@idp.example.be/userinfo?access_token={secret}")

    with WebClient(app, base_url="http://testserver", raise_server_exceptions=False) as web:
        assert web.get("/boom").status_code == 500
    [error] = [r for r in _records(json_lines) if r["logger"] == "app.errors"]
    traceback = str(error["exc_info"])
    assert "HTTPStatusError" in traceback and "401 Unauthorized" in traceback
    assert "https://[credentials]@idp.example.be/userinfo" in traceback
    assert secret not in json_lines.getvalue()


def test_a_logged_traceback_in_the_text_format_holds_no_token_of_a_url() -> None:
    secret = secrets.token_urlsafe(16)
    try:
        _refused(f"https://hooks.example.be/notify/{secret[:4]}?key={secret}")
    except httpx.HTTPStatusError:
        record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "delivery failed", None, sys.exc_info())
    record.request_id = None
    line = logs.formatter("text").format(record)
    assert secret not in line and f"https://hooks.example.be/notify/{secret[:4]}'" in line


def test_a_library_warning_at_start_is_a_json_line_like_any_record() -> None:
    """A server process configures logging, then imports the application: every line it writes
    to standard error is JSON, a library's warning at import included (authlib warned about its
    httpx module in a bare text line of its own, in every server process)."""
    program = ("import warnings; from app.observability import logs; logs.configure('json'); "
               "import app.main; warnings.warn('a library changes', DeprecationWarning, stacklevel=1)")
    ran = subprocess.run([sys.executable, "-W", "default", "-c", program], capture_output=True, text=True,
                         timeout=120, check=True)
    lines = ran.stderr.splitlines()
    records = [json.loads(line) for line in lines]  # raises on a line that is not JSON
    assert any(r["logger"] == "py.warnings" and "a library changes" in r["message"] for r in records)
