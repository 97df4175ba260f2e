"""A small in-memory cache whose entries expire after a fixed time, read from ``switchboard.clock``.

Safe to share between threads: the notifier delivers webhooks from a thread pool, and every
thread looks accounts up through the same cache.
"""
from __future__ import annotations

import threading
from typing import Generic, TypeVar

from switchboard import clock

K = TypeVar("K")
V = TypeVar("V")

MISSING = object()  # returned by ``get`` for an absent or expired key


class TtlCache(Generic[K, V]):
    """Entries live ``ttl_seconds``; at most ``max_entries`` are kept (oldest dropped first).

    The bound matters because callers also cache misses (unknown keys), which a client controls.
    One lock guards every read and write: a read may drop an expired entry and a write may evict,
    and both change the dict another thread could be iterating over.
    """

    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[K, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, default: V | object = MISSING) -> V | object:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return default
            expires_at, value = entry
            if clock.now() >= expires_at:
                del self._entries[key]
                return default
            return value

    def put(self, key: K, value: V) -> None:
        with self._lock:
            if key not in self._entries and len(self._entries) >= self.max_entries:
                self._evict()
            self._entries[key] = (clock.now() + self.ttl_seconds, value)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _evict(self) -> None:
        now = clock.now()
        for key in [k for k, (expires_at, _) in self._entries.items() if now >= expires_at]:
            del self._entries[key]
        while len(self._entries) >= self.max_entries:
            del self._entries[next(iter(self._entries))]
