"""The access line as `reinventons serve` writes it (app.observability.access): written by the
access log's own handler without a log record, it must be the line the JSON formatter writes for
the record, carry the answer's request id, and give way to the record wherever logging is
configured otherwise (text, a filter added)."""

import io
import json
import logging
import logging.config
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session

from app.main import create_app
from app.observability import context, logs
from tests.factories import make_call
from tests.support import WebClient, make_settings


def _record(message: str, route: str, status: int, duration_ms: float, request_id: str) -> logging.LogRecord:
    record = logging.getLogger(logs.ACCESS_LOGGER).makeRecord(
        logs.ACCESS_LOGGER, logging.INFO, "", 0, message, (), None,
        extra={"route": route, "status": status, "duration_ms": duration_ms})
    record.request_id = request_id
    return record


@pytest.mark.parametrize("path", ["/calls/budget-2027", "/calls/caf\u00e9 \"quoted\"", "/calls/\ud800lone"])
def test_the_line_without_a_record_is_the_formatters_line(path: str) -> None:
    """Byte for byte, a lone surrogate (what orjson refuses: the standard library's way) included."""
    formatter = logs.JsonFormatter()
    record = _record(f"GET {path} 200 1.2ms", "call:detail", 200, 1.2, "0123456789abcdef0123456789abcdef")
    assert formatter.access_line(logs.ACCESS_LOGGER, "0123456789abcdef0123456789abcdef", f"GET {path} 200 1.2ms",
                                 "call:detail", 200, 1.2, record.created) == formatter.format(record)


@pytest.fixture
def configured(request: pytest.FixtureRequest) -> Iterator[tuple[io.StringIO, io.StringIO]]:
    """Logging as `logs.dict_config(kind)` configures it, its two handlers writing to (root's
    stream, the access log's stream) instead of standard error; put back afterwards."""
    kind = getattr(request, "param", "json")
    root, access = logging.getLogger(), logging.getLogger(logs.ACCESS_LOGGER)
    saved = (root.handlers[:], root.level, access.handlers[:], access.propagate, access.level)
    logging.config.dictConfig(logs.dict_config(kind))
    streams = io.StringIO(), io.StringIO()
    root.handlers[0].setStream(streams[0])  # type: ignore[attr-defined]
    access.handlers[0].setStream(streams[1])  # type: ignore[attr-defined]
    try:
        yield streams
    finally:
        root.handlers[:], access.handlers[:] = saved[0], saved[2]
        root.setLevel(saved[1])
        access.propagate, access.level = saved[3], saved[4]


def _served_as_configured() -> None:
    """The access log's handlers as `dict_config` leaves them: its own alone. pytest's log
    capture adds its handler to every logger that does not propagate (the access log) as each
    test's call begins, which turns the line without a record off (`access.record`)."""
    access = logging.getLogger(logs.ACCESS_LOGGER)
    access.handlers[:] = [h for h in access.handlers if type(h) is logs.AccessHandler]


def _web(tmp_path: Path, database_url: str) -> WebClient:
    return WebClient(create_app(make_settings(tmp_path / "var", database_url, forwarded_allow_ips="testclient")),
                     base_url="http://testserver")


def test_each_answer_writes_one_json_line_with_its_request_id(
        tmp_path: Path, database_url: str, session: Session, configured: tuple[io.StringIO, io.StringIO]) -> None:
    call = make_call(session)
    session.commit()
    _served_as_configured()
    with _web(tmp_path, database_url) as web:
        answers = [web.get(f"/calls/{call.slug}", headers={"X-Request-ID": f"proxy-id-000{n}"}) for n in range(3)]
        missing = web.get("/calls/no-such-call")
    assert [a.headers["x-page-cache"] for a in answers] == ["miss", "hit", "hit"]
    lines = [json.loads(line) for line in configured[1].getvalue().splitlines()]
    assert [(r["logger"], r["level"], r["request_id"], r["route"], r["status"]) for r in lines] == [
        *(("app.access", "INFO", f"proxy-id-000{n}", "call:detail", 200) for n in range(3)),
        ("app.access", "INFO", missing.headers["x-request-id"], "call:detail", 404)]
    assert all(r["message"].startswith(f"GET /calls/{call.slug} 200 ") for r in lines[:3])
    assert list(lines[0]) == ["level", "logger", "message", "request_id", "route", "status", "duration_ms", "time"]
    assert "app.access" not in configured[0].getvalue()  # written once, by its own handler


@pytest.mark.parametrize("configured", ["text"], indirect=True)
def test_text_logs_write_the_access_line_as_any_record(
        tmp_path: Path, database_url: str, session: Session, configured: tuple[io.StringIO, io.StringIO]) -> None:
    call = make_call(session)
    session.commit()
    with _web(tmp_path, database_url) as web:
        answer = web.get(f"/calls/{call.slug}")
    [line] = configured[1].getvalue().splitlines()
    assert f"INFO app.access [{answer.headers['x-request-id']}]: GET /calls/{call.slug} 200 " in line


def test_a_filter_added_to_the_access_handler_sees_every_line(
        tmp_path: Path, database_url: str, session: Session, configured: tuple[io.StringIO, io.StringIO]) -> None:
    """An operator's filter (dropping the probes' lines, say) is obeyed: the line then goes
    through the record, which the filter judges."""
    call = make_call(session)
    session.commit()
    _served_as_configured()
    handler = logging.getLogger(logs.ACCESS_LOGGER).handlers[0]
    handler.addFilter(lambda record: "/healthz" not in record.getMessage())
    with _web(tmp_path, database_url) as web:
        web.get("/healthz")
        web.get(f"/calls/{call.slug}")
    lines = [json.loads(line) for line in configured[1].getvalue().splitlines()]
    assert [r["route"] for r in lines] == ["call:detail"]


def test_request_ids_differ_across_a_fork() -> None:
    """A server forking its workers after import (gunicorn's preload) must not give two
    processes the same ids."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child writes one id and leaves at once
        os.write(write, context.accept_or_new(None).encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    mine = {context.accept_or_new(None) for _ in range(3)}
    assert len(child) == 32 and len(mine) == 3 and all(child[:16] != m[:16] for m in mine)


def test_an_access_log_propagating_to_the_root_still_writes_its_line_there(
        tmp_path: Path, database_url: str, session: Session, configured: tuple[io.StringIO, io.StringIO]) -> None:
    """An operator who lets the access log propagate (to a root handler shipping every line
    somewhere) gets each line there too, as any record of a propagating logger: written by the
    access handler alone, the root never saw it."""
    call = make_call(session)
    session.commit()
    _served_as_configured()
    logging.getLogger(logs.ACCESS_LOGGER).propagate = True
    with _web(tmp_path, database_url) as web:
        answers = [web.get(f"/calls/{call.slug}") for _ in range(2)]
    ids = [a.headers["x-request-id"] for a in answers]
    for stream in configured:
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        assert [(r["request_id"], r["route"]) for r in lines if r["logger"] == "app.access"] == [
            (i, "call:detail") for i in ids]
