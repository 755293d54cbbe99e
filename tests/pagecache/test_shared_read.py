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


def test_a_read_begun_less_than_the_reuse_time_before_a_request_answers_it() -> None:
    """With `reuse_seconds` (app.pagecache.settle): a request takes the value of a read that
    began less than that before it arrived, done or under way; one that began longer ago, or
    before this process's last bump (`forget`), is never taken."""
    remote = Remote()
    remote.release.set()
    shared = SharedRead(in_own_thread(remote.read), reuse_seconds=0.3)

    async def scenario() -> list[tuple[str, int]]:
        seen = []
        seen.append((await shared(), remote.reads))  # read 1
        remote.value = 2  # bumped by another process: this one may not know it for 0.3 s
        seen.append((await shared(), remote.reads))  # read 1 reused
        await asyncio.sleep(0.35)
        seen.append((await shared(), remote.reads))  # read 1 too old: read 2
        remote.value = 3
        shared.forget()  # bumped by this process: known at once
        seen.append((await shared(), remote.reads))  # read 3
        return seen

    assert run_coroutine(scenario()) == [("1", 1), ("1", 1), ("2", 2), ("3", 3)]


def test_a_request_joins_a_read_under_way_only_if_it_began_within_the_reuse_time() -> None:
    remote = Remote()
    shared = SharedRead(in_own_thread(remote.read), reuse_seconds=0.3)

    async def scenario() -> tuple[list[str], int, list[str], int]:
        first = asyncio.ensure_future(shared())
        await _wait_for(remote.started)
        joining = [asyncio.ensure_future(shared()) for _ in range(10)]  # within 0.3 s: the same read
        remote.release.set()
        early = [await first, *await asyncio.gather(*joining)]
        early_reads = remote.reads

        remote.release.clear()
        remote.started.clear()
        await asyncio.sleep(0.35)  # read 1 is too old now
        second = asyncio.ensure_future(shared())
        await _wait_for(remote.started)  # read 2 under way
        remote.value = 2
        shared.forget()  # a bump of this process's own, after read 2 began
        remote.started.clear()
        after_bump = [asyncio.ensure_future(shared()) for _ in range(10)]
        await asyncio.sleep(0.05)
        remote.release.set()
        return early, early_reads, [await second, *await asyncio.gather(*after_bump)], remote.reads

    early, early_reads, late, reads = run_coroutine(scenario())
    assert early == ["1"] * 11 and early_reads == 1
    assert late == ["1"] + ["2"] * 10  # not the read under way when this process bumped
    assert reads == 3


def test_requests_arriving_together_after_a_read_that_failed_at_once_are_all_answered() -> None:
    """A read failing within the reuse time (a connection refused while the server restarts),
    then several requests in one turn of the loop: the first starts a read, the others share
    it. (They joined the failed read's list, answered already, and waited for ever.)"""
    calls = []

    async def read() -> str:
        calls.append(1)
        await asyncio.sleep(0.001)
        if len(calls) == 1:
            raise ConnectionError("the database is restarting")
        return "2"

    shared = SharedRead(read, reuse_seconds=0.3)

    async def scenario() -> list[object]:
        await asyncio.gather(shared(), return_exceptions=True)
        return list(await asyncio.gather(*(asyncio.wait_for(shared(), 2) for _ in range(5)),
                                         return_exceptions=True))

    assert run_coroutine(scenario()) == ["2"] * 5 and len(calls) == 2


def test_a_read_under_way_for_longer_than_the_reuse_time_is_not_joined() -> None:
    remote = Remote()
    shared = SharedRead(in_own_thread(remote.read), reuse_seconds=0.2)

    async def scenario() -> tuple[str, str, int]:
        first = asyncio.ensure_future(shared())
        await _wait_for(remote.started)  # read 1 at the server: value 1
        await asyncio.sleep(0.25)  # still under way, and too old now
        remote.value = 2  # another process's write, its answer gone 0.2 s after its bump
        remote.started.clear()
        later = asyncio.ensure_future(shared())
        await asyncio.sleep(0.05)
        remote.release.set()
        return await first, await later, remote.reads

    assert run_coroutine(scenario()) == ("1", "2", 2)
