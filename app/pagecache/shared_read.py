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
from dataclasses import dataclass, field


@dataclass
class _Reads:
    """The reads of one event loop: the one under way (`task`) and those who arrived during it,
    whom the next one answers (`waiting`)."""

    task: "asyncio.Task[None] | None" = None  # the loop keeps only a weak reference to a task
    waiting: "list[asyncio.Future[str]]" = field(default_factory=list)


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
        # Each caller waits on a future of its own: a visitor leaving cancels theirs, never the
        # read the others wait for. (asyncio.shield around one shared future did the same at
        # about 20 us a request, against 1 to 3: a fifth of a kept page's time on PostgreSQL.)
        waited: asyncio.Future[str] = loop.create_future()
        if reads.task is None:
            reads.task = loop.create_task(self._run(reads, [waited]))
        else:
            reads.waiting.append(waited)
        return await waited

    async def _run(self, reads: _Reads, batch: "list[asyncio.Future[str]]") -> None:
        while True:
            try:
                value = await self.read()
            except asyncio.CancelledError:  # the loop ends: nobody is answered
                for waited in (*batch, *reads.waiting):
                    waited.cancel()
                reads.task, reads.waiting = None, []
                raise
            except BaseException as failed:  # noqa: BLE001 - handed to every caller sharing it
                for waited in batch:
                    if not waited.done():  # not left meanwhile
                        waited.set_exception(failed)
            else:
                for waited in batch:
                    if not waited.done():
                        waited.set_result(value)
            # Those who arrived during this read are answered by a new one, started now.
            if not reads.waiting:
                reads.task = None
                return
            batch, reads.waiting = reads.waiting, []
