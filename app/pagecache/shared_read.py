"""One read of the page generation for every request that arrives while it is being read, on
PostgreSQL and Redis, where each read is a round trip to another server.

Every cacheable request reads the generation first (app.pagecache.middleware). Read once per
request (by a blocking call on the event loop, at first), each read blocked the process for the
round trip (about 35 us) and cost the database server a query: at 32 visitors at once on a
2-core machine, PostgreSQL's share of the CPU for those reads was as large as the cached
answers' own.

Why a shared read is exact: a read that *starts* after a request arrived sees every bump
committed before that request arrived, and a writer bumps before its answer leaves
(app.pagecache.tracking). So a visitor who received a write's answer and then asks for a page
is answered from a read that sees the write. A request arriving while a read is under way
therefore does not take that read's value (it may have started before the write's bump): it
waits for the next read, started as soon as that one ends, and shared by every request that
arrived in between. Under load, one read serves a whole batch of requests; alone, a request
costs one read.

A read is a coroutine: on PostgreSQL a query on the event loop's own connection
(app.pagecache.loop_reads); for Redis, whose client blocks, a call in a thread of the reader's
own (`in_own_thread`), not the thread pool the routes run in: with the pool busy with slow
pages, a cached page would have waited behind them for its generation."""

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass


@dataclass
class _Reads:
    """The reads of one event loop: the one under way and the one its latecomers wait for."""

    running: "asyncio.Future[str] | None" = None
    next: "asyncio.Future[str] | None" = None
    task: "asyncio.Task[None] | None" = None  # the loop keeps only a weak reference to a task


def in_own_thread(read: Callable[[], str]) -> Callable[[], Awaitable[str]]:
    """`read` (a blocking call) as a coroutine function that runs it in a thread of its own.
    One read at a time per event loop (`SharedRead`): one thread is enough for a process's few
    loops."""
    thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="page-generation")

    async def in_thread() -> str:
        return await asyncio.get_running_loop().run_in_executor(thread, read)

    return in_thread


class SharedRead:
    """`await SharedRead(read)()`: the value of `await read()` from a read that started after
    this call; concurrent callers on one event loop share reads. Raises what `read` raises, to
    every caller sharing that read."""

    def __init__(self, read: Callable[[], Awaitable[str]]) -> None:
        self.read = read
        # Per event loop: futures belong to one (each test's application runs its own).
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Reads] = weakref.WeakKeyDictionary()

    async def __call__(self) -> str:
        loop = asyncio.get_running_loop()
        reads = self._loops.get(loop)
        if reads is None:
            reads = self._loops[loop] = _Reads()
        if reads.running is None:
            waited = reads.running = loop.create_future()
            reads.task = loop.create_task(self._run(reads, waited))
        else:
            if reads.next is None:
                reads.next = loop.create_future()
            waited = reads.next
        # Shielded: a visitor leaving must not cancel the read the others wait for.
        return await asyncio.shield(waited)

    async def _run(self, reads: _Reads, answer: "asyncio.Future[str]") -> None:
        while True:
            try:
                value = await self.read()
                answer.set_result(value)
            except BaseException as failed:  # noqa: BLE001 - handed to every caller sharing it
                answer.set_exception(failed)
                if isinstance(failed, asyncio.CancelledError):
                    reads.running = reads.next = None
                    raise
            # Those who arrived during this read are answered by a new one, started now.
            if reads.next is None:
                reads.running = None
                return
            answer = reads.running = reads.next
            reads.next = None
