"""Logs: one line per record on standard error, JSON lines by default (`LOG_FORMAT=json`: what
log collectors read without a parser of their own), or text for a person at a terminal
(`LOG_FORMAT=text`). Each record carries the request id it belongs to (`request_id`, null
outside a request or an outbox message). JSON is written by python-json-logger's orjson
formatter.

Every answer writes a line (the access log, app.observability.middleware), a page served from
the page cache included, where the line was a third of the answer's cost in process: hence
orjson rather than the standard library's encoder (JSON encoding 22 -> 3 us a line), and no
caller, thread or process lookups for each record, which no line shows (`formatter`)."""

import logging
import logging.config
import sys
from typing import Any

from pythonjsonlogger.orjson import OrjsonFormatter

from app.observability import context

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
# The fields of every JSON line, renamed to the names log collectors expect.
JSON_FIELDS = "%(levelname)s %(name)s %(message)s %(request_id)s"
RENAMED = {"levelname": "level", "name": "logger"}


class RequestIdFilter(logging.Filter):
    """Adds `request_id` (the current one, or None) to every record that passes the handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = context.current()
        return True


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler of every process's records: a StreamHandler (standard error unless given
    another stream) that adds `request_id` itself, as RequestIdFilter does, and writes and
    flushes each line under one acquisition of its lock. The standard one runs its filters
    through a loop of `hasattr` calls and takes the lock again to flush: 1 to 2 us of each
    access-log line, measured in process on a page-cache hit. Filters added to it still
    apply; each line is still flushed as it is written (several processes share the stream,
    and a line must not wait in a buffer for the next)."""

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        record.request_id = context.current()
        if self.filters:
            passed = self.filter(record)
            if not passed:
                return False
            if isinstance(passed, logging.LogRecord):  # Python 3.12: a filter may give another record
                record = passed
        with self.lock:  # type: ignore[union-attr]
            try:
                self.stream.write(self.format(record) + self.terminator)
                self.stream.flush()
            except RecursionError:  # as logging.StreamHandler.emit: see bpo-36272
                raise
            except Exception:  # noqa: BLE001 - logging's own convention: report and go on
                self.handleError(record)
        return True


def formatter(kind: str) -> logging.Formatter:
    """The formatter for `kind`, "json" or "text". Raises ValueError for another kind.

    Called in every process that logs (uvicorn applies the configuration in each server
    process), it also turns off what the logging module gathers for every record and neither
    format shows: the caller's file and line (a walk of the stack), the thread, process and
    multiprocessing names (the logging HOWTO's "Optimization" section)."""
    logging._srcfile = None  # noqa: SLF001 - the HOWTO's documented switch for the caller lookup
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    if kind == "json":
        return OrjsonFormatter(JSON_FIELDS, rename_fields=RENAMED, timestamp="time")  # ISO 8601 in UTC, first
    if kind == "text":
        return logging.Formatter(TEXT_FORMAT)
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
    "text"), with its request id (`StderrHandler`). Given to uvicorn as its `log_config`, it is
    applied again in each server process uvicorn starts; uvicorn's own access log stays off (ours has the route
    and the request id). Raises ValueError for another kind."""
    formatter(kind)  # refuses an unknown kind now, not in a server process
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": {"()": formatter, "kind": kind}},
        "handlers": {"stderr": {"class": "app.observability.logs.StderrHandler", "stream": "ext://sys.stderr",
                                "formatter": "main"}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            **{name: {"handlers": [], "propagate": True} for name in ("uvicorn", "uvicorn.error")},
            # httpx logs every outgoing request's full URL at INFO: a query string can hold a
            # token (a network's API, an OpenID provider). Their warnings still show.
            **{name: {"level": "WARNING"} for name in ("httpx", "httpcore")},
        },
    }


def configure(kind: str, level: str = "INFO") -> None:
    """Apply `dict_config(kind, level)` to this process (the CLI's commands)."""
    logging.config.dictConfig(dict_config(kind, level))
