"""When the page being made stops being true by the clock alone, with no write at all: a call's
phase ending at its date, "3 days left to vote" becoming "2 days left".

The page cache (app.pagecache.middleware) opens a `watch()` for each page it may keep; the code
that reads the clock to decide what a page shows says, through `changes_at(moment)`, when that
decision changes next (app.call.phases: the next phase's start; app.call.rules: the next change
of the time left). The kept page is served until the earliest of them, never after (and never
longer than its TTL). Outside a watched request `changes_at` does nothing.

The watch is a mutable holder in a ContextVar: the routes run in a thread pool on a copy of
the request's context, which shares the holder, so what they note reaches the middleware."""

from contextvars import ContextVar, Token
from datetime import UTC, datetime

_UNTIL: ContextVar[list[float] | None] = ContextVar("page_changes_at", default=None)


class Watch:
    """The earliest moment noted during one request (app.clock time, seconds since the epoch)."""

    def __init__(self) -> None:
        self._holder = [float("inf")]
        self._token: Token[list[float] | None] = _UNTIL.set(self._holder)

    @property
    def until(self) -> float:
        """The earliest moment noted (infinity when none was)."""
        return self._holder[0]

    def close(self) -> None:
        """Stop noting for this request (call once, in the context that opened it)."""
        _UNTIL.reset(self._token)


def watch() -> Watch:
    """Start noting, for the request being answered, when its page changes by the clock."""
    return Watch()


def watching() -> bool:
    """Whether a page being made is watched (so that callers skip working out a moment for nothing)."""
    return _UNTIL.get() is not None


def changes_at(moment: datetime | None) -> None:
    """Note that what the page being made shows changes at `moment` (aware, or naive UTC as
    SQLite gives it back); None (no such moment) notes nothing."""
    holder = _UNTIL.get()
    if holder is None or moment is None:
        return
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    holder[0] = min(holder[0], aware.timestamp())
