"""The sender's smaller ports in memory: status webhooks (the outbox), Viber contacts, redelivery, metrics."""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from switchboard.sender.outcome_metrics import OutcomeTally
from tests.support.fakes.waits import wait

T = TypeVar("T")


class FakeOutbox:
    """``StatusWebhooks``: records what was published; ``publish`` and ``publish_together`` cost one call each."""

    def __init__(self, call_seconds: float = 0.0) -> None:
        self._call_seconds = call_seconds
        self._lock = threading.Lock()
        self.published: list[tuple[str, str]] = []
        self.republished: list[tuple[str, str]] = []

    def publish(self, record: dict[str, Any], marker: str) -> None:
        wait(self._call_seconds)
        with self._lock:
            self.published.append((str(record.get("message_uuid")), marker))

    def publish_together(self, decided: Sequence[tuple[dict[str, Any], str]]) -> set[int]:
        wait(self._call_seconds)
        with self._lock:
            self.published.extend((str(record.get("message_uuid")), marker) for record, marker in decided)
        return set()

    def republish(self, record: dict[str, Any], marker: str) -> None:
        wait(self._call_seconds)
        with self._lock:
            self.republished.append((str(record.get("message_uuid")), marker))


class FakeContacts:
    """``TransactionContacts``: the (service id, number) pairs recorded."""

    def __init__(self, call_seconds: float = 0.0) -> None:
        self._call_seconds = call_seconds
        self._lock = threading.Lock()
        self.recorded: list[tuple[str, str]] = []

    def record_transaction_contact(self, service_id: str, number: str) -> None:
        wait(self._call_seconds)
        with self._lock:
            self.recorded.append((service_id, number))


class SpyQueue:
    """``RedeliveryDelay``: records visibility changes; forwards them to a real queue when given one."""

    def __init__(self, real: Any = None, call_seconds: float = 0.0) -> None:
        self.real = real
        self._call_seconds = call_seconds
        self._lock = threading.Lock()
        self.delays: list[tuple[str, int]] = []

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        wait(self._call_seconds)
        with self._lock:
            self.delays.append((receipt_handle, seconds))
        if self.real:
            self.real.delay_redelivery(receipt_handle, seconds)


class NoMetrics:
    """``OutcomeRecorder`` that keeps nothing."""

    def count(self, channel: str, outcome: str, error_code: int | str | None = None) -> None:
        return None

    def timed(self, channel: str, call: Callable[..., T], *args: Any) -> T:
        return call(*args)

    def flush(self) -> None:
        return None


class RecordingTally(OutcomeTally):
    """The real tally, keeping a snapshot of every flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[dict[tuple[str, str], int]] = []

    def flush(self) -> None:
        self.flushed.append(self.snapshot())
        super().flush()
