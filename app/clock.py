"""Time in one convention: timezone-aware datetimes in UTC.

SQLModel stores them as UTC on both SQLite and PostgreSQL and gives them back aware; pages
show them in the city's time zone (settings.timezone) through the i18n filters.

Every "now" of the application comes from `utcnow()`, so that tests (and a demonstration) can
move time forward with `travel(...)`: a digest due tomorrow morning, an edit window that closed.
The shift is process-wide on purpose: the worker and a live server's threads see it too.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_shift = timedelta(0)
_shift_seconds = 0.0  # the same, in seconds (`seconds`)


def utcnow() -> datetime:
    return datetime.now(UTC) + _shift


def seconds() -> float:
    """`utcnow()` as seconds since the epoch (its `timestamp()`), without making a datetime:
    what the caches compare their entries' ages with, on every request they answer."""
    return time.time() + _shift_seconds


@contextmanager
def travel(by: timedelta) -> Iterator[None]:
    """Within the block, `utcnow()` is `by` later than the real time (cumulative when nested);
    it is back to the real time afterwards. For tests and demonstrations, never for requests."""
    global _shift, _shift_seconds
    before = _shift
    _shift = before + by
    _shift_seconds = _shift.total_seconds()
    try:
        yield
    finally:
        _shift = before
        _shift_seconds = before.total_seconds()
