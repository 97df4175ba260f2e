"""TtlCache: expiry, the size bound, and safety when threads share one cache (the notifier's pool does)."""
from __future__ import annotations

import sys
import threading
from collections.abc import Iterator

import pytest

from switchboard import clock
from switchboard.ttl_cache import MISSING, TtlCache


@pytest.fixture
def now() -> Iterator[list[float]]:
    current = [1_000.0]
    clock.set_clock(lambda: current[0])
    yield current
    clock.set_clock(None)


def test_an_entry_lives_its_ttl_then_reads_as_missing(now: list[float]) -> None:
    cache: TtlCache[str, int | None] = TtlCache(10.0)
    cache.put("a", 1)
    cache.put("miss", None)  # a cached miss is a value like any other

    now[0] += 9.9
    assert (cache.get("a"), cache.get("miss")) == (1, None)
    now[0] += 0.1
    assert cache.get("a") is MISSING
    assert cache.get("a", "default") == "default"
    assert len(cache) == 1  # the expired "a" was dropped when read; "miss" is still stored


def test_the_bound_drops_expired_entries_first_then_the_oldest(now: list[float]) -> None:
    cache: TtlCache[str, int] = TtlCache(10.0, max_entries=3)
    cache.put("old", 0)
    now[0] += 20  # "old" expired
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)  # full: the expired entry goes
    assert (cache.get("old"), cache.get("a")) == (MISSING, 1)
    cache.put("d", 4)  # full again, nothing expired: the oldest goes
    assert [cache.get(k) for k in "abcd"] == [MISSING, 2, 3, 4]


def test_clear_forgets_everything(now: list[float]) -> None:
    cache: TtlCache[str, int] = TtlCache(10.0)
    cache.put("a", 1)
    cache.clear()
    assert cache.get("a") is MISSING
    assert len(cache) == 0


def test_threads_sharing_one_cache_never_see_an_error() -> None:
    """Reads that drop expired entries, evictions and inserts from many threads at once.

    Entries expire almost at once (the real clock) and the bound is small, so every thread keeps
    evicting while others read and write: without a lock this raised ``RuntimeError``
    (dictionary changed size during iteration) or ``KeyError`` within a few thousand operations.
    """
    cache: TtlCache[int, int] = TtlCache(ttl_seconds=0.0001, max_entries=8)
    failures: list[BaseException] = []
    operations = [0] * 8
    start = threading.Barrier(len(operations))

    def hammer(worker: int) -> None:
        start.wait()
        try:
            for i in range(20_000):
                key = (worker * 7 + i) % 64
                cache.put(key, i)
                cache.get((key + 1) % 64)
                operations[worker] += 1
        except BaseException as exc:  # noqa: BLE001 -- any failure in a thread fails the test
            failures.append(exc)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible
    try:
        threads = [threading.Thread(target=hammer, args=(n,)) for n in range(len(operations))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)

    assert failures == []
    assert operations == [20_000] * len(operations)
    assert len(cache) <= 8
