"""Logs: one line per record on standard error, JSON lines by default (`LOG_FORMAT=json`: what
log collectors read without a parser of their own), or text for a person at a terminal
(`LOG_FORMAT=text`). Each record carries the request id it belongs to (`request_id`, null
outside a request or an outbox message). JSON is written by python-json-logger's orjson
formatter.

Every answer writes a line (the access log, app.observability.access), a page served from
the page cache included, where the line was a third of the answer's cost in process: hence
orjson rather than the standard library's encoder (JSON encoding 22 -> 3 us a line), no
caller, thread or process lookups for each record, which no line shows (`formatter`), and the
access log's own handler, which writes its JSON lines without a record (`AccessHandler`).

A logged exception's traceback is written with its texts made safe (app.observability.errors'
`safe_text`: no query string, no user or password of a URL, no token); what callers log of an
exception goes through `errors.describe` for the same reason."""

import asyncio
import contextlib
import json
import logging
import logging.config
import re
import select
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.orjson import OrjsonFormatter

from app.observability import context, errors

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# The fields of every JSON line, renamed to the names log collectors expect.
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"
RENAMED = {"levelname": "level", "name": "logger"}
ACCESS_LOGGER = "app.access"  # the access log's logger (app.observability.access)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (the current one, or None) to every record that passes the handler
    (the standard library's StreamHandler, `dict_config`: it writes and flushes each line as it
    comes, so several processes sharing standard error never interleave parts of lines)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current()
        return True


class JsonFormatter(OrjsonFormatter):
    """python-json-logger's orjson formatter, gathering a record's fields in one pass.

    Its own `add_fields` looks each field's new name up once per field and runs every attribute
    of the record through a `hasattr` test (`merge_record_extra`); this gives the same line
    (the fields of JSON_FIELDS renamed, then the record's extra attributes in the order given,
    then `time`) with each name renamed once, at construction. Every answer writes a line."""

    def __init__(self) -> None:
        super().__init__(JSON_FIELDS, rename_fields=RENAMED, timestamp="time")  # ISO 8601 in UTC
        self._named = tuple((field, RENAMED.get(field, field)) for field in self._required_fields)

    def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord,
                   message_dict: dict[str, Any]) -> None:
        """The line's fields from `record` (python-json-logger's hook, same result as its own)."""
        attributes = record.__dict__
        for field, name in self._named:
            log_data[name] = attributes.get(field)
        log_data.update(message_dict)  # a dict logged as the message (python-json-logger's feature)
        skip = self._skip_fields
        for key, value in attributes.items():
            if key not in skip and not key.startswith("_"):
                log_data[RENAMED.get(key, key)] = value
        log_data["time"] = datetime.fromtimestamp(record.created, tz=UTC)

    def formatException(self, ei: Any) -> str:  # type: ignore[override]  # noqa: N802 - logging's name
        """A logged exception's traceback, its texts made safe (`errors.safe_text`: an httpx
        error's names the request's full URL, token included)."""
        return errors.safe_text(logging.Formatter.formatException(self, ei))

    def jsonify_log_record(self, log_data: dict[str, Any]) -> str:  # type: ignore[override]
        """The line's JSON: orjson's, or, for what orjson refuses (a lone surrogate in a text,
        which JSON decoded from a network's answer may hold; an integer past 64 bits), the
        standard library's with each such character written as its escape (`\\ud800`). Not
        python-json-logger's own answer to a refusal: the record lost and a traceback of
        several lines written among the JSON lines."""
        try:
            return super().jsonify_log_record(log_data)
        except TypeError:
            return json.dumps(_encodable(log_data), default=self.json_default, ensure_ascii=False)

    def access_line(self, logger: str, request_id: str, message: str, route: str, status: int,
                    duration_ms: float, created: float) -> str:
        """The line `format` writes for the access log's INFO record of `logger` (`message`, with
        `route`, `status` and `duration_ms` as its extra fields, `request_id` as the filter adds
        it, made at `created`, seconds since the epoch), without the record
        (app.observability.access; tests/observability/test_access_line.py compares the two)."""
        return self.jsonify_log_record({
            "level": "INFO", "logger": logger, "message": message, "request_id": request_id, "route": route,
            "status": status, "duration_ms": duration_ms, "time": datetime.fromtimestamp(created, tz=UTC)})


class AccessHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The access log's handler (`dict_config`): the standard StreamHandler, which also writes an
    answer's line without a record (`write_access`: 2-3 us where a record took 12-16) while it
    is configured as `dict_config` configures it for JSON.

    Lines written from the event loop wait for the end of the loop's pass and are written
    together, in writes of at most `select.PIPE_BUF` bytes (4,096 on Linux) cut at line ends,
    counted in the stream's own encoding: one write (a system call) per line was 7% of a loaded
    server's time answering kept pages (py-spy, `bench`), and a pass answers many. A write of at
    most PIPE_BUF bytes to a pipe is never interleaved with another process's (POSIX `write`),
    so the server processes sharing standard error never mix parts of lines (a line longer than
    PIPE_BUF, written alone, was and is beyond that promise). The callback runs before the loop
    waits for the network again; the handler's `flush` and `emit` (a record of the access
    logger; logging's shutdown) and a line written without a loop write what waits first, in
    order. Only a loop closed with the callback still due (never under `asyncio.run` or
    uvicorn, which run more passes before closing) leaves lines waiting until one of those."""

    def __init__(self, stream: Any = None) -> None:
        super().__init__(stream)
        self._waiting: list[str] = []  # lines of this loop's pass, each with its terminator
        self._scheduled_on: asyncio.AbstractEventLoop | None = None  # the loop that will write them

    def write_access(self, request_id: str, message: str, route: str, status: int, duration_ms: float,
                     created: float) -> bool:
        """Write the access line `JsonFormatter.access_line` makes: at the end of the event
        loop's pass when called on one (the class says why), else at once and flushed, as `emit`
        writes a record's. Returns False, having written nothing, when the line would not be
        the same as a record's: another formatter (text), another filter, a level above INFO;
        or, when written at once, when writing failed (the record's way then reports it; a
        failed write at the end of a pass is reported by `handleError`)."""
        formatter = self.formatter
        if (type(formatter) is not JsonFormatter or self.level > logging.INFO or len(self.filters) != 1
                or type(self.filters[0]) is not RequestIdFilter):
            return False
        line = formatter.access_line(ACCESS_LOGGER, request_id, message, route, status, duration_ms, created)
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # a thread without a loop
            loop = None
        with self.lock:  # type: ignore[union-attr]
            if loop is not None:
                self._waiting.append(line + self.terminator)
                if self._scheduled_on is not loop:  # none yet, or one on a loop since closed (tests)
                    self._scheduled_on = loop
                    loop.call_soon(self._write_waiting)
                return True
            self._write_waiting_locked()  # lines a closed loop left (the class's last case) first
            try:
                self._write_flushed(line + self.terminator)
            except Exception:  # noqa: BLE001 - a closed stream: the record's way reports it
                return False
        return True

    def flush(self) -> None:
        """Write the lines waiting, then flush the stream (StreamHandler's)."""
        with self.lock:  # type: ignore[union-attr]
            self._write_waiting_locked()
        super().flush()

    def emit(self, record: logging.LogRecord) -> None:
        """A record (text logs, a filter added, an error of the access logger), after the lines
        waiting, so that the stream keeps the order in which they came."""
        with self.lock:  # type: ignore[union-attr]
            self._write_waiting_locked()
        super().emit(record)

    def _write_waiting(self) -> None:
        """The end-of-pass callback (`write_access`)."""
        with self.lock:  # type: ignore[union-attr]
            self._scheduled_on = None
            self._write_waiting_locked()

    def _write_waiting_locked(self) -> None:
        waiting, self._waiting = self._waiting, []
        if waiting:
            self._write_lines(waiting)

    def _write_lines(self, lines: list[str]) -> None:
        """Write `lines` (each ending with its terminator) in writes of at most PIPE_BUF bytes
        where lines allow (a longer line alone), each flushed. A write that fails is reported
        (`handleError`, with the number of its lines) and the next ones are still tried."""
        for chunk, count in self._chunks(lines):
            try:
                self._write_flushed(chunk)
            except Exception:  # noqa: BLE001 - reported as a record's failed write is, not raised into the loop
                self.handleError(logging.LogRecord(ACCESS_LOGGER, logging.INFO, __file__, 0,
                                                   "%d access lines not written", (count,), None))

    def _chunks(self, lines: list[str]) -> Iterator[tuple[str, int]]:
        """`lines` joined into texts of at most PIPE_BUF bytes once encoded as the stream
        encodes (its encoding and error handler: `\\xe9` is 4 bytes in ASCII with
        backslashreplace), each with its number of lines; a line that is longer, or that the
        stream cannot encode, alone."""
        encoding = getattr(self.stream, "encoding", None) or "utf-8"
        errors = getattr(self.stream, "errors", None) or "strict"
        chunk: list[str] = []
        size = 0
        for line in lines:
            if line.isascii():  # one byte a character in every encoding a log stream has
                length = len(line)
            else:
                try:
                    length = len(line.encode(encoding, errors))
                except (UnicodeError, LookupError):
                    length = select.PIPE_BUF + 1
            if chunk and size + length > select.PIPE_BUF:
                yield "".join(chunk), len(chunk)
                chunk, size = [], 0
            chunk.append(line)
            size += length
        if chunk:
            yield "".join(chunk), len(chunk)

    def _write_flushed(self, text: str) -> None:
        self.stream.write(text)
        # Written: a flush failing now (a full disk) must not send the lines the record's way
        # too, which would write them twice; the next record's flush reports the stream's state.
        with contextlib.suppress(Exception):
            self.stream.flush()


def _encodable(value: Any) -> Any:
    """`value` with every text in it (a dict's keys too) encodable in UTF-8, a lone surrogate
    written as its escape, and its times in ISO 8601, as orjson writes them."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {_encodable(str(key)): _encodable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encodable(item) for item in value]
    if isinstance(value, datetime):
        return value.isoformat()  # as orjson writes it (the line's `time`)
    return value


# What the text format writes as its escape (`\x1b`, `\u2028`): every control character but the
# tab and the line feed (indented: `TextFormatter`), the C1 controls (NEL, a one-character CSI),
# the Unicode line and paragraph separators and the bidirectional overrides and isolates. Each
# either ends a line for some reader (Python's `splitlines`, editors, a terminal's vertical
# tab and form feed), drives a terminal (ESC, CSI: moving the cursor, erasing a line) or
# reorders what it shows.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _escaped(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape").decode("ascii")


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT, one record to a line start: a line break in a record (a logged value: a
    path, a name a visitor typed; a traceback) goes on an indented line, so that no value can
    write a line that reads as a record of its own (a forged access line, a forged error), and
    any other character that ends a line for some reader, drives a terminal or reorders what
    it shows (`_UNSAFE`: a carriage return, ESC, NEL, U+2028...) is written as its escape
    (`\\r`, `\\x1b`, `\\u2028`)."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatException(self, ei: Any) -> str:  # noqa: N802 - logging's name
        """A logged exception's traceback, its texts made safe (`errors.safe_text`)."""
        return errors.safe_text(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        """The record's line(s): every line after the first indented by four spaces."""
        return _UNSAFE.sub(_escaped, super().format(record)).replace("\n", "\n    ")


def formatter(kind: str) -> logging.Formatter:
    """The formatter for `kind`, "json" or "text". Raises ValueError for another kind.

    Called in every process that logs (uvicorn applies the configuration in each server
    process), it also turns off what the logging module gathers for every record and neither
    format shows: the caller's file and line (a walk of the stack), the thread, process and
    multiprocessing names (the logging HOWTO's "Optimization" section). And it sends Python's
    warnings through logging (`logging.captureWarnings`: the `py.warnings` logger, at WARNING):
    printed as they come, a library's warning at import (authlib's, in every server process)
    was a bare text line among the JSON lines a collector reads."""
    logging.captureWarnings(True)
    logging._srcfile = None  # noqa: SLF001 - the HOWTO's documented switch for the caller lookup
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    if kind == "json":
        return JsonFormatter()
    if kind == "text":
        return TextFormatter()
    raise ValueError(f"LOG_FORMAT must be json or text, not {kind!r}")


def resolve(setting: str) -> str:
    """The format for the `LOG_FORMAT` setting: itself when "json" or "text"; when empty, "text"
    if standard error is a terminal (a person reads it), else "json" (a collector does)."""
    if setting:
        return setting
    return "text" if sys.stderr.isatty() else "json"


def dict_config(kind: str, level: str = "INFO") -> dict[str, Any]:
    """The logging configuration (logging.config.dictConfig's schema) sending every record (the
    platform's, uvicorn's, the libraries') to standard error in the `kind` format ("json" or
    "text"), with its request id (`RequestIdFilter`). Given to uvicorn as its `log_config`, it is
    applied again in each server process uvicorn starts; uvicorn's own access log stays off (ours has the route
    and the request id). Raises ValueError for another kind."""
    formatter(kind)  # refuses an unknown kind now, not in a server process
    return {
        "version": 1,
        "disable_existing_loggers": False,
        # Factories named by their import paths, so that the configuration is also JSON (the
        # benchmark gives it to uvicorn as a file: `bench`).
        "formatters": {"main": {"()": "app.observability.logs.formatter", "kind": kind}},
        "filters": {"request_id": {"()": "app.observability.logs.RequestIdFilter"}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr",
                       "formatter": "main", "filters": ["request_id"]},
            # The same, for the access log alone: it writes its lines without a record.
            "access": {"class": "app.observability.logs.AccessHandler", "stream": "ext://sys.stderr",
                       "formatter": "main", "filters": ["request_id"]},
        },
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            ACCESS_LOGGER: {"handlers": ["access"], "propagate": False},
            **{name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")},
            # httpx logs every outgoing request's full URL at INFO: a query string can hold a
            # token (a network's API, an OpenID provider). Their warnings still show.
            **{name: {"level": "WARNING"} for name in ("httpx", "httpcore")},
        },
    }


def configure(kind: str, level: str = "INFO") -> None:
    """Apply `dict_config(kind, level)` to this process (the CLI's commands)."""
    logging.config.dictConfig(dict_config(kind, level))
