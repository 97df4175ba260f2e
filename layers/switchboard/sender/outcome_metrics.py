"""Per-channel counts of sender outcomes (submitted, rejected, retried, outcome_unknown), emitted once per batch.

Records of a batch run on several threads and may be for different channels, while a Powertools
``Metrics`` instance carries one dimension set shared by the whole process. So outcomes are counted
here under a lock and flushed after the batch as one EMF document per channel.
"""
from __future__ import annotations

import threading
from collections import Counter

from aws_lambda_powertools.metrics import MetricUnit

from switchboard.observability import new_metrics

SUBMITTED = "submitted"
REJECTED = "rejected"
RETRIED = "retried"
HELD_UNKNOWN = "outcome_unknown"  # answer lost, held for evidence (never resent)


class OutcomeTally:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def count(self, channel: str, outcome: str) -> None:
        with self._lock:
            self._counts[(channel, outcome)] += 1

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def flush(self) -> None:
        """Emit one EMF document per channel (dimension ``channel``) and start over."""
        with self._lock:
            counts, self._counts = self._counts, Counter()
        by_channel: dict[str, dict[str, int]] = {}
        for (channel, outcome), value in counts.items():
            by_channel.setdefault(channel, {})[outcome] = value
        for channel, outcomes in sorted(by_channel.items()):
            emf = new_metrics()
            emf.add_dimension(name="channel", value=channel)
            for outcome, value in sorted(outcomes.items()):
                emf.add_metric(name=outcome, unit=MetricUnit.Count, value=value)
            emf.flush_metrics()
