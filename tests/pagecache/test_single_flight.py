"""The page cache makes a page once per process however many visitors ask for it at the same
moment (issue 14): those arriving while it is being made wait and are served what it kept, so
that a page made stale by a write does not cost one making per waiting visitor. The application
behind the cache here is a stand-in that counts how often it is asked (a fake, named as such):
what is tested is the middleware's own rule."""

import asyncio
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

from app.pagecache.generation import Generation
from app.pagecache.middleware import PageCacheMiddleware
from app.pagecache.store import PageCache
from tests.support import run_coroutine


class FixedGeneration(Generation):
    """A generation no write changes, unless the test bumps it."""

    def __init__(self) -> None:
        self.value = 1

    def current(self) -> str:
        return str(self.value)

    def bump(self) -> None:
        self.value += 1


class CountingPage:
    """A fake application: answers an HTML page after `delay` seconds, counting the requests it
    answers; `cookie` makes the answer one the cache must not keep; `fail` makes it raise."""

    def __init__(self, delay: float = 0.05, cookie: bool = False, fail: bool = False) -> None:
        self.delay, self.cookie, self.fail = delay, cookie, fail
        self.made = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.made += 1
        number = self.made
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("the page could not be made")
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        if self.cookie:
            headers.append((b"set-cookie", b"flash=1"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": f"<p>page made {number}</p>".encode()})


def _scope(path: str = "/calls/budget-2027") -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [(b"host", b"city")]}


async def _get(cache: PageCacheMiddleware, path: str = "/calls/budget-2027") -> tuple[str, bytes]:
    """(what the cache did, body) of one anonymous GET."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    await cache(_scope(path), receive, send)
    result = dict(sent[0]["headers"]).get(b"x-page-cache", b"").decode()
    return result, b"".join(m.get("body", b"") for m in sent[1:])


def _cache(app: Any, generation: Generation | None = None) -> PageCacheMiddleware:
    return PageCacheMiddleware(app, cache=PageCache(generation=generation or FixedGeneration(), max_bytes=1 << 20,
                                                    https=False, secret_key="a secret key"))


def test_thirty_two_visitors_at_once_get_one_page_made_once() -> None:
    page = CountingPage()
    cache = _cache(page)

    async def visitors() -> list[tuple[str, bytes]]:
        return await asyncio.gather(*(_get(cache) for _ in range(32)))

    answers = run_coroutine(visitors())
    assert page.made == 1
    assert sorted(r for r, _ in answers) == ["hit"] * 31 + ["miss"]
    assert {body for _, body in answers} == {b"<p>page made 1</p>"}
    assert cache.making == {}


def test_other_pages_and_a_newer_generation_are_made_apart() -> None:
    page = CountingPage()
    generation = FixedGeneration()
    cache = _cache(page, generation)

    async def visitors() -> None:
        first = [asyncio.ensure_future(_get(cache)) for _ in range(3)]
        await asyncio.sleep(0.01)  # the first is making the page under generation 1, two wait for it
        generation.bump()  # a write: who comes now must not be served the page made before it
        later = [_get(cache) for _ in range(3)]
        elsewhere = [_get(cache, "/calls/parcs") for _ in range(3)]
        await asyncio.gather(*first, *later, *elsewhere)

    run_coroutine(visitors())
    assert page.made == 3  # once per page and generation


@pytest.mark.parametrize("kind", ["not kept", "failed"])
def test_when_the_page_made_is_not_kept_each_waiting_visitor_gets_one_of_their_own(kind: str) -> None:
    page = CountingPage(cookie=kind == "not kept", fail=kind == "failed")
    cache = _cache(page)

    async def visitors() -> list[Any]:
        return await asyncio.gather(*(_get(cache) for _ in range(5)), return_exceptions=True)

    answers = run_coroutine(visitors())
    assert page.made == 5
    if kind == "not kept":
        assert sorted(body for _, body in answers) == [f"<p>page made {n}</p>".encode() for n in range(1, 6)]
    else:
        assert all(isinstance(a, RuntimeError) for a in answers)
    assert cache.making == {}
