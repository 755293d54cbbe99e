"""A write's answer leaves a few milliseconds after its bump of the page generation, where the
generation is on another server (PostgreSQL, Redis).

Why: each server process may answer a request from a generation read that started less than
`Generation.settle_seconds` (S) before the request arrived (app.pagecache.shared_read), rather
than from a read of its own, a round trip to that server. That stays exact as long as nobody
can learn of a write sooner than S after its bump: a visitor who received the write's answer
(a redirect to the page that shows it) then asks for a page more than S after the bump, so the
read that answers them started after the bump, in any process on any machine.

So the edge (app.edge) gives every request it passes to the application a place to note when
its answer may leave (`answering`), the bump after a commit notes it there (`settled`,
app.pagecache.tracking), and the edge holds the answer's first message until then
(`hold_answer`). A bump outside any request (the worker, a command) is not held: nobody is
answered, and this process forgets its reusable reads at every bump of its own
(`SharedRead.forget`), so only other processes can see such a write up to S late."""

import asyncio
import time
from contextvars import ContextVar, Token

# The request's answer may leave at this time.monotonic() at the earliest: a list of one, which
# the threads the request's work runs in (each with a copy of the request's context) change in place.
_NOT_BEFORE: ContextVar[list[float] | None] = ContextVar("answer_not_before", default=None)


def answering() -> tuple[list[float], Token[list[float] | None]]:
    """For the request about to be handled in this context: the place its bumps note when its
    answer may leave, and the token that `done` takes once it has been answered."""
    not_before = [0.0]
    return not_before, _NOT_BEFORE.set(not_before)


def done(token: Token[list[float] | None]) -> None:
    """The request of `token` (`answering`) is answered: later bumps in this context are not its."""
    _NOT_BEFORE.reset(token)


def settled(seconds: float) -> None:
    """A bump has just returned: the answer of the request being handled, if any, leaves
    `seconds` from now at the earliest (a few thousandths; 0 for a generation every process
    reads for itself, at no cost: the file beside SQLite's database)."""
    not_before = _NOT_BEFORE.get()
    if seconds and not_before is not None:
        not_before[0] = max(not_before[0], time.monotonic() + seconds)


# Added to each wait: uvloop's timers count whole milliseconds (a sleep may end up to 1.3 ms
# early, measured; under half a millisecond it does not wait at all).
_TIMER_MARGIN_SECONDS = 0.002


async def hold_answer(not_before: list[float]) -> None:
    """Wait until the time noted in `not_before` (`answering`), if it is still to come, by the
    monotonic clock itself, whatever the event loop's timers round to."""
    while (wait := not_before[0] - time.monotonic()) > 0:
        await asyncio.sleep(wait + _TIMER_MARGIN_SECONDS)
