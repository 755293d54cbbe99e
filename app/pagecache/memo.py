"""Values computed from the database and kept in the process while the page generation stays
the same (app.pagecache.generation): the city's identity, the districts, a call's themes and
figures, read by every page and changed by nothing but a write, which bumps the generation.

Exact, not approximate: a value is kept under the generation read before the data it is made
from. On SQLite, whose transactions read one snapshot taken at their first statement, the
generation is read when the transaction begins (`tracking`); on PostgreSQL, whose statements
each see every transaction committed before them, it is read just before the first value is
computed. A writer bumps after committing, so a value can be newer than its generation, never
older. Values must be plain data, or ORM objects detached from their session (`detached`),
shared read-only by every request of the process."""

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app import clock
from app.pagecache import tracking

T = TypeVar("T")
MAX_VALUES = 4096  # kinds of value times their arguments: a few per call; cleared when full
TTL_SECONDS = 30  # values may follow the clock too ("waiting for an answer for 30 days"), as pages

_VALUES: dict[tuple[Hashable, ...], tuple[str, float, Any]] = {}


def remembered(session: Session, name: str, args: tuple[Hashable, ...], compute: Callable[[], T]) -> T:
    """`compute()` (which reads through `session`), or the value it gave while nothing was
    written since and less than TTL_SECONDS ago. `name` and `args` identify the value (e.g.
    "themes", (call_id,))."""
    generation = tracking.generation_of(session)
    if generation is None:  # a database whose writes are not tracked: nothing is kept
        return compute()
    key = (session.info.get(tracking.DATABASE_KEY), name, *args)
    now = clock.seconds()
    found = _VALUES.get(key)
    if found is not None and found[0] == generation and now - found[1] < TTL_SECONDS:
        return found[2]  # type: ignore[no-any-return]
    value = compute()
    if len(_VALUES) >= MAX_VALUES:
        _VALUES.clear()
    _VALUES[key] = (generation, now, value)
    return value


def detached(session: Session, objects: list[T]) -> list[T]:
    """`objects` taken out of `session` with what they hold, so that a later rollback or close of
    that session cannot expire them under the requests that share them."""
    for item in objects:
        session.expunge(item)
    return objects
