"""The access log and the latency histogram: one line and one observation for every answer,
written by the edge (app.edge) once the answer is sent.

The line is the `app.access` logger's INFO record "GET /path 200 1.2ms" with `route`, `status`
and `duration_ms`. Written through the logging module it cost 12-16 us, a third of a kept page's
whole answer (in process): a record made, four layers of handlers and filters, python-json-
logger's formatting. So when the logger is configured as `reinventons serve` configures it
(app.observability.logs.dict_config: its own handler, `logs.AccessHandler`, writing JSON to
standard error), the line is written by that handler directly, the same JSON (tested against
the formatter's) without the record: 2-3 us. Configured any other way (text logs, a test
capturing records, a handler or filter added, the logger propagating to the root's handlers),
the line goes through the logging module as any record."""

import logging
import time

from starlette.types import Scope

from app.observability import context, errors, logs, metrics

access_log = logging.getLogger(logs.ACCESS_LOGGER)


def route_name(scope: Scope) -> str:
    """The name of the route that answered (`idea:detail`), "static" for static files,
    "unmatched" when none did (a 404, or a request refused before routing): a label with a
    bounded number of values, unlike the path."""
    route = scope.get("route")
    name = getattr(route, "name", None)
    if isinstance(name, str) and name:
        return name
    return "static" if str(scope.get("path", "")).startswith("/static/") else "unmatched"


def loggable_path(scope: Scope) -> str:
    """The path, with a secret in it (`{token}`, e.g. an unsubscribe link) masked. Never the
    query string: it can hold one-time tokens."""
    path = str(scope["path"])
    token = (scope.get("path_params") or {}).get("token")
    if isinstance(token, str) and token:
        return path.replace(token, "[token]")
    if scope.get("route") is not None:  # a route without a token (a page-cache hit names its route too)
        return path
    # No route read the path: a request refused before routing (a Host not served, a body too
    # large) or matching none; masked by its shape, as error reports are.
    return errors.mask_path(path)


def record(scope: Scope, request_id: str, status: int, seconds: float) -> None:
    """Count the answer to the request of `scope` (its `status`, `seconds` to answer it) in the
    latency histogram and write its access line, under `request_id`."""
    route = route_name(scope)
    method = scope["method"]
    metrics.observe_request(route, method, status, seconds)
    if not access_log.isEnabledFor(logging.INFO):
        return
    path = loggable_path(scope)
    milliseconds = seconds * 1000
    handlers = access_log.handlers
    # Only its own handler may see the line: a filter on the logger, or a handler of the root's
    # it propagates to (as an operator may configure it), gets it through a record.
    if len(handlers) == 1 and not access_log.filters and not access_log.propagate:
        handler = handlers[0]
        if type(handler) is logs.AccessHandler and handler.write_access(
                request_id, f"{method} {path} {status} {milliseconds:.1f}ms",
                route, status, round(milliseconds, 1), time.time()):
            return
    with context.bound(request_id):  # a kept page's answer binds none (app.edge)
        access_log.info("%s %s %s %.1fms", method, path, status, milliseconds,
                        extra={"route": route, "status": status, "duration_ms": round(milliseconds, 1)})
