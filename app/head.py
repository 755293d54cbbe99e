"""HEAD answered as GET without its body (RFC 9110, section 9.3.2: "The HEAD method is
identical to GET except that the server MUST NOT send content in the response"; section 9.1:
all general-purpose servers MUST support GET and HEAD).

FastAPI routes declared with `@router.get` answer HEAD with 405, so uptime monitors, link
checkers and the previews of some social networks, which ask HEAD first, took every page of the
platform for broken. Rather than declaring HEAD on some 200 routes (and forgetting the next
one), this middleware hands the application a copy of the request as GET, so that HEAD sees
exactly what GET sees (status, redirects, 404 of a hidden idea, the page cache's kept page),
and drops the body on the way out. Headers stay those of GET, Content-Length included, as the
RFC allows. Routes that have no GET (a POST-only form) still answer 405.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGetMiddleware:
    """ASGI middleware: a HEAD request goes on as GET (a copy of the scope: the outer access log
    still says HEAD) and every body chunk of the answer is sent empty."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            elif message["type"] in ("http.response.pathsend", "http.response.zerocopysend"):
                # A server that sends files itself (ASGI extensions) would send this one whole.
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_headers_only)
        finally:
            # What routing found on the copy, for the layers outside that read the request's
            # scope (app.edge, app.observability.access): its route names the access log line and the
            # latency histogram, and its `{token}` is masked in the line only if known there.
            for name in ("route", "path_params"):
                if name in as_get:
                    scope[name] = as_get[name]
