"""The page cache: an ASGI middleware keeping whole answers to anonymous GETs, per process, in
a bounded LRU (app.pagecache explains why it is correct).

A request is looked up only if it is a GET of a page (not /static/, /media/, /api/...) without a
session, a flash message or a sign-in in progress. Its key is the host, path, query string,
Accept-Language and the cookies that change a page (all but the CSRF seed, which no anonymous
page shows; the random order's seed only for `sort=random`). An answer is kept only if it is a
200 HTML page that holds no CSRF token (no token field, nor the visitor's token anywhere), is
not marked no-store or private (every logged-in view is) and sets no cookie but a first
visitor's CSRF seed; that cookie is not kept with it: each first visitor served from the cache
gets a seed of their own, as the application would give (a seed shared between visitors would
let one forge the other's forms). Each answer says what the cache did in `X-Page-Cache` (hit,
miss, bypass), and Prometheus counts it."""

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import clock, cookies
from app.observability import metrics
from app.pagecache import expiry, tracking
from app.pagecache.generation import Generation
from app.pagecache.lru import BoundedLRU
from app.security import csrf_token_for, new_csrf_seed, usable_csrf_seed

TTL_SECONDS = 30  # at most: for what the clock changes that no code notes (app.pagecache.expiry)
# Paths never cached: files, the open-data API and feeds (cached by their own headers), probes,
# and pages that are personal or a step of a form.
BYPASS_PREFIXES = ("/static/", "/media/", "/api/", "/healthz", "/readyz", "/metrics", "/account", "/login",
                   "/logout", "/register", "/moderation", "/admin", "/notifications", "/me", "/unsubscribe",
                   "/newsletter", "/sw.js", "/manifest")
_CSRF_FIELD = b'name="csrf_token"'
# How long a request waits for another request of this process making the same page (`_answer`)
# before making it itself: longer than any page takes to make, short of a visitor giving up.
WAIT_SECONDS = 10.0


@dataclass
class Entry:
    """A page kept, under the generation it was made under (its stamp in the store)."""

    stored_at: float  # app.clock time, in seconds
    until: float  # app.clock time when what it shows changes by the clock alone (app.pagecache.expiry)
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    route: Any  # the route that made it, for the logs and the latency histogram of each hit
    # `headers` and `X-Page-Cache: hit`, as each hit sends them (a tuple: shared by every hit,
    # no layer on the way out can change it).
    hit_headers: tuple[tuple[bytes, bytes], ...] = ()

    def __post_init__(self) -> None:
        self.hit_headers = (*self.headers, (b"x-page-cache", b"hit"))


class PageCacheMiddleware:
    """Serves anonymous visitors' pages from memory while nothing was written since."""

    def __init__(self, app: ASGIApp, *, generation: Generation, max_bytes: int, https: bool,
                 secret_key: str) -> None:
        self.app = app
        self.secret_key = secret_key  # to know the visitor's form token in a page (`_store`)
        self.generation = generation
        self.max_bytes = max_bytes
        self.https = https
        # Pages under the generation they were made under; a page takes at most an eighth of the
        # bound, so that one huge page cannot empty the cache of every other.
        self.entries: BoundedLRU[str, Entry] = BoundedLRU(max_bytes)
        # The pages being made now, by key and generation: set when the maker is done.
        self.making: dict[tuple[tuple[str, ...], str], asyncio.Event] = {}
        self.private = {spec.name(https) for spec in (cookies.SESSION, cookies.FLASH, cookies.OIDC_ATTEMPT)}
        self.csrf_seed = cookies.CSRF_SEED.name(https)
        self.csrf_seed_prefix = f"{self.csrf_seed}=".encode()
        self.shuffle_seed = cookies.SHUFFLE_SEED.name(https)

    def _key(self, scope: Scope) -> tuple[tuple[str, ...], dict[str, str]] | None:
        """The cache key of a request and its cookies by name, or None when it must not be cached."""
        if scope["type"] != "http" or scope["method"] != "GET" or self.max_bytes <= 0:
            return None
        path: str = scope["path"]
        if path.startswith(BYPASS_PREFIXES):
            return None
        # Read as the application reads them (Starlette's `Headers`, `Request.cookies`: the first
        # of a repeated header, names as the server gave them), so that the page kept is made
        # from what the key says; in one pass, not a `Headers` lookup for each (one that misses
        # raises and catches a KeyError: five lookups were a tenth of a hit).
        host = language = cookie = None
        for name, value in scope["headers"]:
            if name == b"host":
                host = value if host is None else host
            elif name == b"cookie":
                cookie = value if cookie is None else cookie
            elif name == b"accept-language":
                language = value if language is None else language
            elif name == b"authorization":
                return None
        query = scope.get("query_string", b"").decode("latin-1")
        kept = []
        jar = cookie_parser(cookie.decode("latin-1")) if cookie else {}
        # Whether the route may order by the seed, read as it reads its parameters (decoded:
        # `sort=rand%6Fm` and `so%72t=random` are the random order too); any `sort` of them
        # (the route takes the last), so that no page depending on the seed is kept without it.
        shuffled = self.shuffle_seed in jar and "random" in QueryParams(query).getlist("sort")
        for name in sorted(jar):
            if name in self.private:
                return None
            if name == self.csrf_seed or (name == self.shuffle_seed and not shuffled):
                continue
            kept.append(f"{name}={jar[name]}")
        return (_text(host), path, query, _text(language), ";".join(kept)), jar

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._key(scope)
        if found is None:
            if scope["type"] == "http":
                metrics.PAGE_CACHE_BYPASS.inc()
            await self.app(scope, receive, self._tagged(send, b"bypass"))
            return
        key, jar = found
        generation = await self.generation.read_now()
        # A hit first: what follows (the generation for the routes, the clock's watch) only
        # matters to a page made here.
        if await self._serve_kept(scope, send, key, generation, jar):
            return
        token = tracking.REQUEST_GENERATION.set(generation)
        watch = expiry.watch()
        try:
            await self._answer(scope, receive, send, key, generation, watch, jar)
        finally:
            watch.close()
            tracking.REQUEST_GENERATION.reset(token)

    async def _answer(self, scope: Scope, receive: Receive, send: Send, key: tuple[str, ...],
                      generation: str, watch: expiry.Watch, jar: dict[str, str]) -> None:
        """Answer a request that found no page kept (`_serve_kept`): made here, or by another
        request of this process making it now."""
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

    async def _serve_kept(self, scope: Scope, send: Send, key: tuple[str, ...], generation: str,
                          jar: dict[str, str]) -> bool:
        """Answer from the page kept under `key` if it was made under `generation` less than
        TTL_SECONDS ago and the clock has not changed it since (`Entry.until`); False when there
        is none. `jar`: the request's cookies (`_key`)."""
        found = self.entries.get(key)
        if found is None or found[0] != generation:
            return False
        entry = found[1]
        now = clock.utcnow().timestamp()
        if now - entry.stored_at >= TTL_SECONDS or now >= entry.until:
            return False
        metrics.PAGE_CACHE_HIT.inc()
        scope["route"] = entry.route  # the route that made the page names its hits too
        headers: Sequence[tuple[bytes, bytes]] = entry.hit_headers
        if not usable_csrf_seed(jar.get(self.csrf_seed, "")):
            headers = [*headers, (b"set-cookie", cookies.CSRF_SEED.header(new_csrf_seed(), https=self.https))]
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})
        return True

    async def _make(self, scope: Scope, receive: Receive, send: Send, key: tuple[str, ...],
                    generation: str, watch: expiry.Watch) -> None:
        """Answer through the application, keeping the page if it may be kept (`_store`)."""
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
                    self._store(scope, key, generation, start, b"".join(parts), watch.until)
            await send(message)

        await self.app(scope, receive, keep)

    @staticmethod
    def _tagged(send: Send, result: bytes) -> Send:
        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-page-cache", result)]}
            await send(message)
        return tagged

    def _store(self, scope: Scope, key: tuple[str, ...], generation: str, start: Message, body: bytes,
               until: float) -> None:
        headers = [(k.lower(), v) for k, v in start.get("headers", [])
                   if not (k.lower() == b"set-cookie" and v.startswith(self.csrf_seed_prefix))]
        content_type = next((v for k, v in headers if k == b"content-type"), b"")
        if (start.get("status") != 200 or not content_type.startswith(b"text/html")
                or any(k == b"set-cookie" for k, _v in headers) or _CSRF_FIELD in body
                or len(body) > self.max_bytes // 8 or self._holds_token(scope, body)
                or _not_shared(headers)):
            return
        self.entries.put(key, generation,
                         Entry(clock.utcnow().timestamp(), until, 200, headers, body, scope.get("route")), len(body))

    def _holds_token(self, scope: Scope, body: bytes) -> bool:
        """Whether the page holds the visitor's own form token anywhere: not only in a
        `csrf_token` field (refused above) but in a meta tag or a data attribute a script reads.
        Kept, it would be served to everyone after, who could then forge this visitor's forms.
        The seed is the one the application signed the page's token with (app.security)."""
        seed = scope.get("state", {}).get("csrf_seed")
        return bool(seed) and csrf_token_for(self.secret_key, seed).encode() in body


def _text(header: bytes | None) -> str:
    """A header's value as Starlette's `Headers` gives it ("" when absent)."""
    return header.decode("latin-1") if header is not None else ""


def _not_shared(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the answer forbids shared caches to keep it (Cache-Control `no-store` or
    `private`, RFC 9111 section 3). app.web.render marks every logged-in view `no-store` from the
    person it found: the cache decides from the request whether a visitor is signed in, and
    should the two ever read a request apart again (as with a cookie of another site: the
    application found a session, the cache none), the logged-in view is still not kept for the
    next anonymous visitor."""
    for name, value in headers:
        if name == b"cache-control":
            directives = {part.split(b"=", 1)[0].strip().lower() for part in value.split(b",")}
            if b"no-store" in directives or b"private" in directives:
                return True
    return False
