"""The edge: what every request meets first, before FastAPI's stack (the ASGI application the
server runs, `app.main.Platform.__call__`).

For every HTTP request it takes the campaign tags and click identifiers out of the query string
(app.campaign_params), makes or accepts the request id (app.observability.context; the
`X-Request-ID` of a proxy in `FORWARDED_ALLOW_IPS` only), answers it in `X-Request-ID`, and once
the answer is sent observes the latency histogram and writes the access line
(app.observability.access). A GET for which the page cache holds a page under the current
generation is answered here, from memory; every other request goes on through the stack, in
which the request id is bound for its logs and outbox messages, and its answer is held until
the generation's bump has settled when it wrote (app.pagecache.settle).

Why a kept page is answered here, not in the page cache's middleware deep in the stack: the
layers in front of it (Starlette's error page, the proxy headers, the host check, HEAD, the
request id's binding) cost a kept page's answer more than the cache itself. In process a kept
page's answer took 45-50 us there and takes 18 us here (the access line written without a log
record included: app.observability.access); with `bench` (SQLite, small, paired runs) a call's
list went from 24-26% to 41-54% of the bare server's rate. None of those layers changes a kept
page's answer:
- the host check: a page is kept under its request's first Host header (`PageCache.key`),
  which the host check let through to make it; a Host it refuses or redirects has no page;
- the proxy headers change the scheme and the client's address, which neither a key nor a kept
  page reads;
- HEAD goes the long way (app.head), its answer is a GET's without the body;
- a request with a body, a session or a sign-in in progress has no key;
- Starlette's error page: a hit raises nothing of the application's, and a generation that
  cannot be read is left to the stack to read again and answer (its error page, its report).
"""

import time
from collections.abc import Awaitable, Callable

from starlette.types import Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.campaign_params import without_campaign_params
from app.observability import access, context
from app.pagecache import settle
from app.pagecache.store import GENERATION_FAILED, LOOKED_UP, PageCache

ASGICall = Callable[[Scope, Receive, Send], Awaitable[None]]


class Edge:
    """The edge in front of `inner` (FastAPI's own `__call__`), answering kept pages from
    `cache`; `trusted_proxies`: the peers whose `X-Request-ID` is kept (uvicorn's syntax:
    addresses, networks, "*"), from anyone else it could forge another request's id in the logs."""

    def __init__(self, inner: ASGICall, *, cache: PageCache, trusted_proxies: str = "127.0.0.1") -> None:
        self.inner = inner
        self.cache = cache
        # uvicorn's own reading of the list, so that this and the proxy headers never disagree.
        self.trusted = ProxyHeadersMiddleware(inner, trusted_hosts=trusted_proxies).trusted_hosts  # type: ignore[arg-type]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        started = time.perf_counter()
        query = scope.get("query_string", b"")
        if query:  # before anything reads it: the page cache's key, the access line, the route
            scope["query_string"] = without_campaign_params(query)
        sent = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                peer = scope.get("client")
                if peer and peer[0] in self.trusted:
                    sent = value.decode("latin-1")
                break
        request_id = context.accept_or_new(sent)
        id_header = (b"x-request-id", request_id.encode())
        status = 500
        try:
            if scope["method"] == "GET":
                found = self.cache.key(scope)
                generation = await self._generation(scope) if found is not None else None
                if found is not None and generation is not None:
                    key, jar = found
                    entry = await self.cache.serve(scope, send, key, generation, jar, (id_header,))
                    if entry is not None:
                        status = entry.status
                        return
                    scope[LOOKED_UP] = (key, jar, generation)  # for the middleware making it

            not_before, answering = settle.answering()

            async def send_with_id(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    message["headers"] = [*message.get("headers", ()), id_header]
                    await settle.hold_answer(not_before)  # after a bump: app.pagecache.settle
                await send(message)

            # Bound around FastAPI's whole stack, Sentry's middleware in it included: an error
            # it reports is tagged with the id (app.observability.errors.scrub).
            try:
                with context.bound(request_id):
                    await self.inner(scope, receive, send_with_id)
            finally:
                settle.done(answering)
        finally:
            access.record(scope, request_id, status, time.perf_counter() - started)

    async def _generation(self, scope: Scope) -> str | None:
        """The page generation now; None when it cannot be read (PostgreSQL, Redis and its
        fallback, the file out of reach), the error left on `scope` for the stack's page cache
        to raise (`GENERATION_FAILED`): answered there, as every other error, with the 500 page
        with the request id and the security headers, logged with the id, reported to Sentry;
        raised here, it got the server's bare 500 and none of those. Not read a second time
        there: a read that timed out would have kept the visitor waiting twice as long."""
        try:
            return await self.cache.generation.read_now()
        except Exception as failed:  # noqa: BLE001 - answered by the stack (above)
            scope[GENERATION_FAILED] = failed
            return None
