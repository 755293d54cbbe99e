"""The pages kept: what a request's key is, whether a page is kept for it under the current
generation (and answering with it), and which answers may be kept (app.pagecache explains why
this is correct).

A request has a key only if it is a GET of a page (not /static/, /media/, /api/...) without a
body, a session, a flash message or a sign-in in progress. Its key is the host, path, query
string, Accept-Language and the cookies that change a page (all but the CSRF seed, which no
anonymous page shows; the random order's seed only for `sort=random`). An answer is kept only if
it is a 200 HTML page that holds no CSRF token (no token field, nor the visitor's token
anywhere), is not marked no-store or private (every logged-in view is) and sets no cookie but a
first visitor's CSRF seed; that cookie is not kept with it: each first visitor served a kept page
gets a seed of their own, as the application would give (a seed shared between visitors would
let one forge the other's forms).

Two callers answer from it: the edge (app.edge), first thing for every GET, and the cache
middleware (`middleware.py`), which makes the pages the edge did not find and keeps them."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import cookie_parser
from starlette.types import Message, Scope, Send

from app import clock, cookies
from app.observability import metrics
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

Key = tuple[str, ...]
# Where the edge leaves what it looked up for a GET it found no kept page for, on the request's
# scope: (key, cookies, generation), so that the middleware making the page neither reads the
# generation again (a trip to the thread pool on PostgreSQL) nor looks up the page again.
LOOKED_UP = "pagecache.looked_up"
# In a request's scope: the error the edge's read of the generation raised (app.edge), raised
# again by the middleware rather than read a second time (a read that timed out would wait
# its timeout again before the error page).
GENERATION_FAILED = "pagecache.generation_failed"


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


class PageCache:
    """The pages this process keeps for anonymous visitors, at most `max_bytes` of them (0: none),
    each under the generation of `generation` it was made under. `https`: whether cookies carry
    the `__Host-` prefix (their names); `secret_key`: to recognise a visitor's form token in a
    page (`keep`)."""

    def __init__(self, *, generation: Generation, max_bytes: int, https: bool, secret_key: str) -> None:
        self.generation = generation
        self.max_bytes = max_bytes
        self.https = https
        self.secret_key = secret_key
        # Pages under the generation they were made under; a page takes at most an eighth of the
        # bound, so that one huge page cannot empty the cache of every other.
        self.entries: BoundedLRU[str, Entry] = BoundedLRU(max_bytes)
        self.private = {spec.name(https) for spec in (cookies.SESSION, cookies.FLASH, cookies.OIDC_ATTEMPT)}
        self.csrf_seed = cookies.CSRF_SEED.name(https)
        self.csrf_seed_prefix = f"{self.csrf_seed}=".encode()
        self.shuffle_seed = cookies.SHUFFLE_SEED.name(https)

    def key(self, scope: Scope) -> tuple[Key, dict[str, str]] | None:
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
            elif name in (b"authorization", b"content-length", b"transfer-encoding"):
                # Signed in another way, or a GET with a body: the application answers these
                # (the body's limit among others), never a kept page.
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

    async def serve(self, scope: Scope, send: Send, key: Key, generation: str, jar: dict[str, str],
                    extra_headers: tuple[tuple[bytes, bytes], ...] = ()) -> Entry | None:
        """Answer from the page kept under `key` if it was made under `generation` less than
        TTL_SECONDS ago and the clock has not changed it since (`Entry.until`), with
        `extra_headers` after its own; returns the entry served, None when there is none.
        `jar`: the request's cookies (`key`): a visitor without a usable CSRF seed is given one.
        The route that made the page goes on `scope`: it names the hit's access line and latency."""
        found = self.entries.get(key)
        if found is None or found[0] != generation:
            return None
        entry = found[1]
        now = clock.seconds()
        if now - entry.stored_at >= TTL_SECONDS or now >= entry.until:
            return None
        metrics.PAGE_CACHE_HIT.inc()
        scope["route"] = entry.route
        headers: Sequence[tuple[bytes, bytes]] = entry.hit_headers
        if extra_headers:
            headers = [*headers, *extra_headers]
        if not usable_csrf_seed(jar.get(self.csrf_seed, "")):
            headers = [*headers, (b"set-cookie", cookies.CSRF_SEED.header(new_csrf_seed(), https=self.https))]
        await send({"type": "http.response.start", "status": entry.status, "headers": headers})
        await send({"type": "http.response.body", "body": entry.body})
        return entry

    def keep(self, scope: Scope, key: Key, generation: str, start: Message, body: bytes, until: float) -> None:
        """Keep the answer `start` + `body` made for `key` under `generation`, if it may be kept
        (the module's rules), until app.clock time `until` at most."""
        headers = [(k.lower(), v) for k, v in start.get("headers", [])
                   if not (k.lower() == b"set-cookie" and v.startswith(self.csrf_seed_prefix))]
        content_type = next((v for k, v in headers if k == b"content-type"), b"")
        if (start.get("status") != 200 or not content_type.startswith(b"text/html")
                or any(k == b"set-cookie" for k, _v in headers) or _CSRF_FIELD in body
                or len(body) > self.max_bytes // 8 or self._holds_token(scope, body)
                or _not_shared(headers)):
            return
        self.entries.put(key, generation,
                         Entry(clock.seconds(), until, 200, headers, body, scope.get("route")), len(body))

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
