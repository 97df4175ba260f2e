"""Tells the pages when something changed: a version token over the stack's logs and records.

The token is a digest of the JSON Lines logs' sizes and of each message's and workflow's key,
status, update time and webhook attempts. It is worked out at most every ``min_interval`` seconds
however many pages wait, and only while some page waits.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

MIN_INTERVAL_SECONDS = 0.25


def log_sizes(paths: Iterable[Path]) -> list[int]:
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(-1)
    return sizes


def digest(parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode("utf-8")).hexdigest()[:20]


class ChangeFeed:
    def __init__(
        self,
        fingerprint: Callable[[], Any],
        min_interval: float = MIN_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._fingerprint = fingerprint
        self._min_interval = min_interval
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._version: str | None = None
        self._taken_at = float("-inf")

    def version(self) -> str:
        with self._lock:
            if self._version is None or self._clock() - self._taken_at >= self._min_interval:
                self._version = digest(self._fingerprint())
                self._taken_at = self._clock()
            return self._version

    def wait_for_change(self, since: str | None, timeout: float) -> str | None:
        """The version once it differs from ``since`` (at once when ``since`` is None); None after ``timeout`` s."""
        deadline = self._clock() + timeout
        while True:
            current = self.version()
            if since is None or current != since:
                return current
            if self._clock() >= deadline:
                return None
            self._sleep(self._min_interval)
