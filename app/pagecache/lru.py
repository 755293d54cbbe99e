"""The one bounded store of what a server process keeps between requests (whole pages,
app.pagecache.middleware; cards, regions and pages of ideas, app.call.cards): values by key,
each with the stamp it was made under (a page generation, a time), the least recently used
dropped first once the values' total weight or their number passes its bound.

Callers decide whether a stamp is still good (`get` hands it back with the value); the store
only keeps and bounds. Safe to share between threads (routes run in a thread pool): each call
holds a lock for a few dictionary operations, never while a value is made."""

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

S = TypeVar("S", bound=Hashable)  # the stamp a value was made under
V = TypeVar("V")


class BoundedLRU(Generic[S, V]):
    """At most `max_weight` units of weight (bytes, as the caller weighs them) and at most
    `max_entries` values; `max_weight` <= 0 keeps nothing."""

    def __init__(self, max_weight: int, max_entries: int | None = None) -> None:
        self.max_weight = max_weight
        self.max_entries = max_entries
        self.weight = 0  # the kept values' total, as given to `put`
        self._entries: OrderedDict[Hashable, tuple[S, V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> tuple[S, V] | None:
        """(stamp, value) kept under `key`, now the most recently used; None when none is."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                return None
            self._entries.move_to_end(key)
            return found[0], found[1]

    def put(self, key: Hashable, stamp: S, value: V, weight: int) -> None:
        """Keep `value` under `key` (replacing what was), then drop the least recently used
        values until the bounds hold. A value heavier than the whole bound is not kept."""
        if weight > self.max_weight or self.max_weight <= 0:
            return
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.weight -= old[2]
            self._entries[key] = (stamp, value, weight)
            self.weight += weight
            while self._entries and (self.weight > self.max_weight or (
                    self.max_entries is not None and len(self._entries) > self.max_entries)):
                _key, (_stamp, _value, dropped) = self._entries.popitem(last=False)
                self.weight -= dropped

    def values(self) -> list[V]:
        """Every kept value, least recently used first (tests look at what is kept)."""
        with self._lock:
            return [value for _stamp, value, _weight in self._entries.values()]

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self.weight = 0

    def __len__(self) -> int:
        return len(self._entries)
