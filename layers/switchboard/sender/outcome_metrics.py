"""Per-channel counts of sender outcomes (submitted, rejected, retried, outcome_unknown), rejections by
error code and provider call latency, emitted once per batch.

Records of a batch run on several threads and may be for different channels, while a Powertools
``Metrics`` instance carries one dimension set shared by the whole process. So outcomes and
latencies are kept here under a lock and flushed after the batch as EMF documents per channel
(``switchboard.metric_catalog``): a log line each, no API call.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from switchboard.metric_catalog import emit

SUBMITTED = "submitted"
REJECTED = "rejected"
RETRIED = "retried"
HELD_UNKNOWN = "outcome_unknown"  # answer lost, held for evidence (never resent)
OUTCOMES = (SUBMITTED, REJECTED, RETRIED, HELD_UNKNOWN)
REJECTED_BY_CODE = "rejected_by_code"
PROVIDER_LATENCY = "provider_latency"

T = TypeVar("T")


class OutcomeTally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()
        self._rejected_codes: Counter[tuple[str, str]] = Counter()
        self._latencies_ms: dict[str, list[float]] = {}

    def count(self, channel: str, outcome: str, error_code: int | str | None = None) -> None:
        """One outcome; a rejection's Messages API ``error_code`` is counted by code as well."""
        with self._lock:
            self._counts[(channel, outcome)] += 1
            if outcome == REJECTED and error_code is not None:
                self._rejected_codes[(channel, str(error_code))] += 1

    def timed(self, channel: str, call: Callable[..., T], *args: Any) -> T:
        """``call(*args)`` (a provider send), its duration kept as the channel's provider latency."""
        started = time.perf_counter()
        try:
            return call(*args)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            with self._lock:
                self._latencies_ms.setdefault(channel, []).append(round(elapsed_ms, 3))

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def flush(self) -> None:
        """Emit one EMF document per channel (dimension ``channel``), one per rejected code, and start over."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
            codes, self._rejected_codes = self._rejected_codes, Counter()
            latencies, self._latencies_ms = self._latencies_ms, {}
        by_channel: dict[str, dict[str, Any]] = {}
        for (channel, outcome), value in counts.items():
            by_channel.setdefault(channel, {})[outcome] = value
        for channel, values in latencies.items():
            by_channel.setdefault(channel, {})[PROVIDER_LATENCY] = values
        for channel, values in sorted(by_channel.items()):
            emit(dict(sorted(values.items())), {"channel": channel})
        for (channel, code), value in sorted(codes.items()):
            emit({REJECTED_BY_CODE: value}, {"channel": channel, "error_code": code})
