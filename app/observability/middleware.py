"""One ASGI middleware, outermost, for what every request leaves behind: its request id (bound
for the request's logs and outbox messages, and answered in `X-Request-ID`), the access log
line and the latency histogram by route."""

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.observability import context, errors, metrics

access_log = logging.getLogger("app.access")


SCOPE_KEY = "request_id"  # the request's id on its ASGI scope (`RequestMiddleware`)


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


class RequestMiddleware:
    """Binds the request id, logs method, route, path, status and duration once the answer is
    sent, and observes the duration in `metrics.REQUEST_SECONDS`. An `X-Request-ID` is kept
    only from a peer in `trusted_proxies` (uvicorn's syntax: addresses, networks, "*"): from
    anyone else it could forge another request's id in the logs."""

    def __init__(self, app: ASGIApp, trusted_proxies: str = "127.0.0.1") -> None:
        self.app = app
        # uvicorn's own reading of the list, so that this and the proxy headers never disagree.
        self.trusted = ProxyHeadersMiddleware(app, trusted_hosts=trusted_proxies).trusted_hosts  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        sent = None
        if peer and peer[0] in self.trusted:
            for name, value in scope["headers"]:
                if name == b"x-request-id":
                    sent = value.decode("latin-1")
                    break
        request_id = context.accept_or_new(sent)
        # Also on the scope: an unexpected error's 500 page is made by Starlette's outermost
        # layer, after this one has unbound the id (app.handlers.unexpected_error).
        scope[SCOPE_KEY] = request_id
        id_header = (b"x-request-id", request_id.encode())
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), id_header]
            await send(message)

        # Sentry's own middleware, outside this one, reports what escapes the application:
        # the id goes on its scope for this request, not only in a context variable reset by then.
        errors.tag_request(request_id)
        with context.bound(request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                seconds = time.perf_counter() - started
                route = route_name(scope)
                metrics.observe_request(route, scope["method"], status, seconds)
                access_log.info("%s %s %s %.1fms", scope["method"], loggable_path(scope), status, seconds * 1000,
                                extra={"route": route, "status": status, "duration_ms": round(seconds * 1000, 1)})
