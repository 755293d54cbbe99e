"""What the page cache refuses to keep (issue 14): a page holding the visitor's own form token,
wherever the page puts it. The application behind the cache is a stand-in (a fake, named as
such) behind the real security headers middleware, which gives each visitor their seed: what is
tested is the cache's own rule, for markup no template writes yet."""

from typing import Any

from starlette.types import Receive, Scope, Send

from app.pagecache.middleware import PageCacheMiddleware
from app.pagecache.store import PageCache
from app.security import SecurityHeadersMiddleware, csrf_token_for
from tests.pagecache.test_single_flight import FixedGeneration
from tests.support import run_coroutine

SECRET = "a secret key of this deployment, long enough"


class TokenInMetaTag:
    """A fake page giving the visitor's CSRF token to its scripts in a meta tag, not a form field."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        token = csrf_token_for(SECRET, scope["state"]["csrf_seed"])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8")]})
        await send({"type": "http.response.body", "body": f'<meta name="csrf-token" content="{token}">'.encode()})


async def _get(app: Any, seed: str) -> tuple[str, bytes]:
    scope = {"type": "http", "method": "GET", "path": "/calls/budget-2027", "query_string": b"",
             "headers": [(b"host", b"city"), (b"cookie", f"rv_csrf={seed}".encode())]}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return dict(sent[0]["headers"]).get(b"x-page-cache", b"").decode(), sent[1]["body"]


def test_a_page_holding_the_visitors_token_anywhere_is_never_served_to_another() -> None:
    """The cache refused only pages with a `name="csrf_token"` field: a token in a meta tag or a
    data attribute was kept, and every later visitor got the first one's token, with which
    anyone served that page could forge the first visitor's forms."""
    cache = PageCacheMiddleware(SecurityHeadersMiddleware(TokenInMetaTag()),
                                cache=PageCache(generation=FixedGeneration(), max_bytes=1 << 20, https=False,
                                                secret_key=SECRET))
    victim, attacker = "v" * 43, "a" * 43

    async def visits() -> list[tuple[str, bytes]]:
        return [await _get(cache, victim), await _get(cache, attacker), await _get(cache, attacker)]

    answers = run_coroutine(visits())
    assert [result for result, _body in answers] == ["miss", "miss", "miss"]
    assert all(csrf_token_for(SECRET, victim).encode() not in body for _result, body in answers[1:])


class MarkedPage:
    """A fake page answered with the Cache-Control header `cache_control`, as app.web.render marks
    a logged-in view `no-store` (and an anonymous page `no-cache`)."""

    def __init__(self, cache_control: bytes) -> None:
        self.cache_control = cache_control

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"),
                                (b"cache-control", self.cache_control)]})
        await send({"type": "http.response.body", "body": b"<p>Amandine Lejeune</p>"})


def test_a_page_the_application_marks_no_store_or_private_is_never_kept() -> None:
    """The cache decides from the request whether a visitor is signed in; the application marks
    every logged-in view `no-store` from who it found. Should the two ever read a request apart
    again (as with a cookie of another site), the page made as a logged-in view must not be kept
    and served to the next anonymous visitor: a shared cache keeps nothing marked no-store or
    private (RFC 9111, 3)."""
    for marked, kept in ((b"no-store", False), (b"private, max-age=0", False), (b"no-cache", True)):
        cache = PageCacheMiddleware(MarkedPage(marked), cache=PageCache(
            generation=FixedGeneration(), max_bytes=1 << 20, https=False, secret_key=SECRET))

        async def visits() -> list[tuple[str, bytes]]:
            return [await _get(cache, "v" * 43), await _get(cache, "a" * 43)]

        assert [result for result, _body in run_coroutine(visits())] == ["miss", "hit" if kept else "miss"], marked
