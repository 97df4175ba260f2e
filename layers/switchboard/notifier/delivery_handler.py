"""The NotifierFunction's work on one batch: one ``Notifier.deliver`` per record.

The shared SQS batch runner delivers records concurrently (``CONCURRENCY`` threads, so one slow
endpoint does not delay the others) and records of the same message one after another, in
status order (submitted, delivered, read, then the terminal ones): a customer sees one message's
statuses in the order they happened when they were queued close together. A record whose
processing raised (the retry or dead-letter message could not be queued, or anything unexpected)
becomes a batch item failure: SQS delivers it again and, after the queue's maxReceiveCount, moves
it to the NotifyDLQ.

A record whose turn comes when the invocation has less than ``attempt_seconds`` left (the longest
a POST and its recording can take) is not attempted but queued again unchanged
(``Notifier.postpone``): a function killed by its timeout mid-batch has its whole batch delivered
again by SQS, and webhooks a receiver already answered 2xx would reach it twice. It happens to a
message's later webhooks waiting behind a slow receiver (they go one after another).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.domain.notification import Notification
from switchboard.notifier.delivery import Notifier

CONCURRENCY = 10  # the event source's BatchSize
STATUS_ORDER = {"submitted": 1, "delivered": 2, "read": 3, "rejected": 4, "undeliverable": 4}


class BatchRunner(Protocol):
    """``switchboard.adapters.sqs.batch_runner.BatchRunner`` decoding bodies to ``Notification``s."""

    def run(self, event: dict[str, Any], context: Any, handle: Callable[[Notification, Any], None]) -> Any: ...


def message_of(notification: Notification) -> str:
    """The ordering group: webhooks of one message (or one workflow's report) go one after another."""
    return notification.message_uuid


def status_rank(notification: Notification) -> tuple[int, str]:
    """Earlier statuses first; among equals, the earlier event time."""
    body = notification.body
    return STATUS_ORDER.get(body.get("status"), 0), str(body.get("timestamp", ""))


@dataclass(frozen=True)
class DeliveryHandler:
    notifier: Notifier
    attempt_seconds: float = 0.0  # the longest one attempt takes; 0: never postpone

    def run(self, runner: BatchRunner, event: dict[str, Any], context: Any) -> Any:
        def deliver(notification: Notification, record: Any) -> None:
            if self._too_late(context):
                self.notifier.postpone(notification)
            else:
                self.notifier.deliver(notification)

        return runner.run(event, context, deliver)

    def _too_late(self, context: Any) -> bool:
        remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
        return bool(self.attempt_seconds and remaining_ms and remaining_ms() < self.attempt_seconds * 1000)
