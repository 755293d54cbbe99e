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

With `reuse_seconds` (R > 0), a request may also take the value of a read that started less
than R before it arrived, done or under way. Still exact, because then every write's answer
leaves R after its bump at the earliest (app.pagecache.settle): a visitor who received it asks
for a page more than R after the bump, so the read that answers them started after the bump.
And a bump in this process (`forget`) makes no read started before it reusable here at all.
On PostgreSQL a read is a round trip that costs the process 250 us of CPU on these 2-core
machines (a bare `SELECT 1` through psycopg on the event loop, measured), and about 5 requests
shared each read at 32 visitors at once: the reads were the difference between a kept page's
cost on PostgreSQL and on SQLite (204 against 156 us of server CPU a page, bench).

A read is a coroutine: on PostgreSQL a query on the event loop's own connection
(app.pagecache.loop_reads); for Redis, whose client blocks, a call in a thread of the reader's
own (`in_own_thread`), not the thread pool the routes run in: with the pool busy with slow
pages, a cached page would have waited behind them for its generation."""

import asyncio
import time
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
    # The read under way: who it answers, when it started (time.monotonic()) and the count of
    # this process's bumps then (`SharedRead.forget`); who may still join it (`reuse_seconds`).
    batch: "list[asyncio.Future[str]]" = field(default_factory=list)
    started: float = 0.0
    bumps: int = 0
    # The last read that succeeded, as above, and its value: reusable for `reuse_seconds`.
    value: str | None = None
    value_started: float = 0.0
    value_bumps: int = 0


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
    this call, or less than `reuse_seconds` before it (seconds; 0: none before it) and after
    this process's last `forget()`; concurrent callers on one event loop share reads. Raises
    what `read` raises, to every caller sharing that read."""

    def __init__(self, read: Callable[[], Awaitable[str]], reuse_seconds: float = 0.0) -> None:
        self.read = read
        self.reuse_seconds = reuse_seconds
        self._bumps = 0  # `forget` calls, from any thread: an int's increment under the GIL
        # Per event loop: futures belong to one (each test's application runs its own).
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Reads] = weakref.WeakKeyDictionary()

    def forget(self) -> None:
        """No read started before now may be reused (the caller, in any thread, has just bumped
        the generation: this process's next requests must see it at once)."""
        self._bumps += 1

    async def __call__(self) -> str:
        loop = asyncio.get_running_loop()
        reads = self._loops.get(loop)
        if reads is None:
            reads = self._loops[loop] = _Reads()
        if self.reuse_seconds:
            oldest = time.monotonic() - self.reuse_seconds
            if reads.value is not None and reads.value_started > oldest and reads.value_bumps == self._bumps:
                return reads.value
        # Each caller waits on a future of its own: a visitor leaving cancels theirs, never the
        # read the others wait for. (asyncio.shield around one shared future did the same at
        # about 20 us a request, against 1 to 3: a fifth of a kept page's time on PostgreSQL.)
        waited: asyncio.Future[str] = loop.create_future()
        if reads.task is None:
            # Noted now, not when the task first runs: a caller arriving before then (in this
            # loop's turn) would otherwise join the list of the read before, answered already.
            batch = [waited]
            reads.batch, reads.started, reads.bumps = batch, time.monotonic(), self._bumps
            reads.task = loop.create_task(self._run(reads, batch))
        elif self.reuse_seconds and reads.started > oldest and reads.bumps == self._bumps:
            reads.batch.append(waited)  # answered by the read under way
        else:
            reads.waiting.append(waited)
        return await waited

    async def _run(self, reads: _Reads, batch: "list[asyncio.Future[str]]") -> None:
        while True:
            reads.batch, reads.started, reads.bumps = batch, time.monotonic(), self._bumps
            try:
                value = await self.read()
            except asyncio.CancelledError:  # the loop ends: nobody is answered
                for waited in (*batch, *reads.waiting):
                    waited.cancel()
                reads.task, reads.waiting, reads.batch = None, [], []
                raise
            except BaseException as failed:  # noqa: BLE001 - handed to every caller sharing it
                reads.value = None
                for waited in batch:
                    if not waited.done():  # not left meanwhile
                        waited.set_exception(failed)
            else:
                reads.value, reads.value_started, reads.value_bumps = value, reads.started, reads.bumps
                for waited in batch:
                    if not waited.done():
                        waited.set_result(value)
            # Those who arrived during this read are answered by a new one, started now.
            if not reads.waiting:
                reads.task, reads.batch = None, []
                return
            batch, reads.waiting = reads.waiting, []
