"""The page cache's middleware, in FastAPI's stack (app.main): makes the pages the edge
(app.edge) found no kept page for, and keeps them (`app.pagecache.store` says which requests and
answers it takes). Each answer says what the cache did in `X-Page-Cache` (hit, miss, bypass), and
Prometheus counts it."""

import asyncio
import contextlib

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import metrics
from app.pagecache import expiry, tracking
from app.pagecache.store import GENERATION_FAILED, LOOKED_UP, Key, PageCache

# How long a request waits for another request of this process making the same page (`_answer`)
# before making it itself: longer than any page takes to make, short of a visitor giving up.
WAIT_SECONDS = 10.0


class PageCacheMiddleware:
    """Makes anonymous visitors' pages once per generation and keeps them in `cache`."""

    def __init__(self, app: ASGIApp, *, cache: PageCache) -> None:
        self.app = app
        self.cache = cache
        # The pages being made now, by key and generation: set when the maker is done.
        self.making: dict[tuple[Key, str], asyncio.Event] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        looked_up = scope.pop(LOOKED_UP, None) if scope["type"] == "http" else None
        if looked_up is not None:  # by the edge, which found no page kept, just before
            key, jar, generation = looked_up
        else:  # a HEAD, which the edge leaves to the application, or a request it has no key for
            found = self.cache.key(scope)
            if found is None:
                if scope["type"] == "http":
                    metrics.PAGE_CACHE_BYPASS.inc()
                await self.app(scope, receive, self._tagged(send, b"bypass"))
                return
            key, jar = found
            failed = scope.pop(GENERATION_FAILED, None)
            if failed is not None:  # the edge's read, just before: not read again (app.edge)
                raise failed
            generation = await self.cache.generation.read_now()
            # What follows (the generation for the routes, the clock's watch) only matters to a
            # page made here.
            if await self._serve_kept(scope, send, key, generation, jar):
                return
        token = tracking.REQUEST_GENERATION.set(generation)
        watch = expiry.watch()
        try:
            await self._answer(scope, receive, send, key, generation, watch, jar)
        finally:
            watch.close()
            tracking.REQUEST_GENERATION.reset(token)

    async def _serve_kept(self, scope: Scope, send: Send, key: Key, generation: str, jar: dict[str, str]) -> bool:
        return await self.cache.serve(scope, send, key, generation, jar) is not None

    async def _answer(self, scope: Scope, receive: Receive, send: Send, key: Key,
                      generation: str, watch: expiry.Watch, jar: dict[str, str]) -> None:
        """Answer a request that found no page kept: made here, or by another request of this
        process making it now."""
        # One request of this process makes a page at a time; the others asking for it under
        # the same generation wait for it and are served what it kept. Without this, a page
        # made stale by a write is made again by every request arriving meanwhile: 32 visitors
        # of a home page that takes 2 s to make (100,000 ideas) held 32 database connections
        # for a minute, and the pool's timeout answered the next ones with errors.
        making = self.making.get((key, generation))
        if making is not None:
            with contextlib.suppress(TimeoutError):  # then made here
                await asyncio.wait_for(making.wait(), WAIT_SECONDS)
            if await self._serve_kept(scope, send, key, generation, jar):
                return
            await self._make(scope, receive, send, key, generation, watch)  # not kept (not cacheable), or too slow
            return
        making = self.making[(key, generation)] = asyncio.Event()
        try:
            await self._make(scope, receive, send, key, generation, watch)
        finally:
            making.set()
            del self.making[(key, generation)]

    async def _make(self, scope: Scope, receive: Receive, send: Send, key: Key,
                    generation: str, watch: expiry.Watch) -> None:
        """Answer through the application, keeping the page if it may be kept (`PageCache.keep`)."""
        metrics.PAGE_CACHE_MISS.inc()
        start: Message = {}
        parts: list[bytes] = []

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                message = {**message, "headers": [*message.get("headers", []), (b"x-page-cache", b"miss")]}
            elif message["type"] == "http.response.body":
                parts.append(message.get("body", b""))
                if not message.get("more_body", False):
                    self.cache.keep(scope, key, generation, start, b"".join(parts), watch.until)
            await send(message)

        await self.app(scope, receive, keep)

    @staticmethod
    def _tagged(send: Send, result: bytes) -> Send:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-page-cache", result)]}
            await send(message)
        return tagged
