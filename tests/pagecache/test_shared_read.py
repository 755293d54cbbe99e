"""Reads of the page generation shared by the requests arriving while one is under way
(app.pagecache.shared_read): never a read that began before a request arrived, so a visitor
who received a write's answer never gets a page made before it; one read for a whole batch."""

import asyncio
import threading

import pytest
from anyio import to_thread
from starlette.concurrency import run_in_threadpool

from app.pagecache.shared_read import SharedRead, in_own_thread
from tests.support import run_coroutine


class Remote:
    """A generation on another server, whose reads the test holds until it lets them go."""

    def __init__(self) -> None:
        self.value = 1
        self.reads = 0
        self.started = threading.Event()
        self.release = threading.Event()
        self.fail = False

    def read(self) -> str:
        self.reads += 1
        seen = self.value  # what the server answers: the value when the read reaches it
        self.started.set()
        self.release.wait(5)
        if self.fail:
            raise ConnectionError("the database went away")
        return str(seen)


async def _wait_for(event: threading.Event) -> None:
    for _ in range(500):
        if event.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the read never started")


def test_a_request_arriving_during_a_read_is_answered_by_a_read_that_began_after_it() -> None:
    remote = Remote()
    shared = SharedRead(in_own_thread(remote.read))

    async def scenario() -> tuple[str, list[str], int]:
        first = asyncio.ensure_future(shared())
        await _wait_for(remote.started)  # read 1 is at the server: it saw value 1
        remote.value = 2  # a write commits and bumps; its author then asks for pages
        remote.started.clear()
        later = [asyncio.ensure_future(shared()) for _ in range(30)]
        await asyncio.sleep(0.05)
        remote.release.set()
        return await first, list(await asyncio.gather(*later)), remote.reads

    first, later, reads = run_coroutine(scenario())
    assert first == "1"
    assert later == ["2"] * 30  # not the value of the read under way when they arrived
    assert reads == 2  # the thirty shared one read


def test_a_failed_read_fails_those_sharing_it_and_the_next_request_reads_again() -> None:
    remote = Remote()
    remote.fail = True
    remote.release.set()
    shared = SharedRead(in_own_thread(remote.read))

    async def scenario() -> str:
        failures = await asyncio.gather(shared(), shared(), return_exceptions=True)
        assert all(isinstance(failure, ConnectionError) for failure in failures)
        remote.fail = False
        return await shared()

    assert run_coroutine(scenario()) == "1"


def test_a_visitor_leaving_does_not_cancel_the_read_the_others_wait_for() -> None:
    remote = Remote()
    shared = SharedRead(in_own_thread(remote.read))

    async def scenario() -> str:
        leaving = asyncio.ensure_future(shared())
        staying = asyncio.ensure_future(shared())
        await _wait_for(remote.started)
        leaving.cancel()
        remote.release.set()
        with pytest.raises(asyncio.CancelledError):
            await leaving
        return await staying

    assert run_coroutine(scenario()) == "1"


def test_a_cached_page_does_not_wait_behind_slow_pages_for_its_generation() -> None:
    """Every thread of the routes' pool busy with a slow page: the generation is still read."""
    remote = Remote()
    remote.release.set()
    shared = SharedRead(in_own_thread(remote.read))
    slow_pages_done = threading.Event()

    async def scenario() -> str:
        busy = [asyncio.ensure_future(run_in_threadpool(slow_pages_done.wait, 5))
                for _ in range(int(to_thread.current_default_thread_limiter().total_tokens))]
        await asyncio.sleep(0.1)
        try:
            return await asyncio.wait_for(shared(), 2)
        finally:
            slow_pages_done.set()
            await asyncio.gather(*busy)

    assert run_coroutine(scenario()) == "1"
