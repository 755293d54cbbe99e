"""The bounded store every process-wide cache uses (app.pagecache.lru): what it keeps, what it
drops first, and that its bounds hold whatever is put in it."""

from app.pagecache.lru import BoundedLRU


def test_the_least_recently_used_goes_first_once_the_weight_passes_its_bound() -> None:
    store: BoundedLRU[str, str] = BoundedLRU(max_weight=10)
    store.put("a", "g1", "page a", 4)
    store.put("b", "g1", "page b", 4)
    assert store.get("a") == ("g1", "page a")  # a is now the most recently used
    store.put("c", "g2", "page c", 4)
    assert store.get("b") is None
    assert store.get("a") == ("g1", "page a") and store.get("c") == ("g2", "page c")
    assert store.weight == 8


def test_the_number_of_values_is_bounded_too_and_a_replaced_value_is_not_counted_twice() -> None:
    store: BoundedLRU[int, str] = BoundedLRU(max_weight=1_000, max_entries=2)
    store.put("a", 1, "x", 100)
    store.put("a", 2, "y", 300)
    assert store.weight == 300 and store.get("a") == (2, "y")
    store.put("b", 1, "z", 1)
    store.put("c", 1, "w", 1)
    assert len(store) == 2 and store.get("a") is None and store.weight == 2


def test_a_value_heavier_than_the_whole_bound_is_not_kept_and_evicts_nothing() -> None:
    store: BoundedLRU[int, str] = BoundedLRU(max_weight=10)
    store.put("small", 1, "s", 5)
    store.put("huge", 1, "h", 11)
    assert store.get("huge") is None and store.get("small") == (1, "s")
    nothing: BoundedLRU[int, str] = BoundedLRU(max_weight=0)
    nothing.put("a", 1, "a", 0)
    nothing.put("b", 1, "b", 1)
    assert nothing.get("a") is None and nothing.get("b") is None
