"""The status webhooks one SQS batch decides, queued together once its records are handled.

Handling a record writes its final status with the webhook decided (the outbox's lease set on the
record, ``switchboard.notifier.outbox``) and hands the webhook here instead of queuing it at once.
``flush`` queues them all through ``Outbox.publish_together``: SendMessageBatch, ten to a call, so a
batch of ten costs one SQS request instead of ten. A webhook that could not be queued has its lease
released, and its record becomes a batch item failure (``SendHandler`` answers it from the batch
runner's ``after_batch``): SQS delivers the record again, the sender finds the message final with
the webhook decided but never queued, and queues it then, exactly as when an immediate
``Outbox.publish`` fails.

The wait is short: the batch's other sends, never longer than the invocation, while the lease the
notifier relies on lasts a minute (``switchboard.domain.outbox_markers``).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol


class TogetherPublisher(Protocol):
    """``switchboard.notifier.outbox.Outbox``."""

    def publish_together(self, decided: Sequence[tuple[dict[str, Any], str]]) -> set[int]: ...


class WebhookBatch:
    def __init__(self, outbox: TogetherPublisher) -> None:
        self._outbox = outbox
        self._decided: list[tuple[dict[str, Any], str]] = []
        self._lock = threading.Lock()  # records of one batch are handled on several threads

    def publish(self, record: dict[str, Any], marker: str) -> None:
        """Queue the webhook ``marker`` names with the batch's others, from the record the deciding write returned."""
        with self._lock:
            self._decided.append((record, marker))

    def flush(self) -> set[str]:
        """Queue every webhook handed in so far; the message uuids of those that could not be queued."""
        with self._lock:
            decided, self._decided = self._decided, []
        if not decided:
            return set()
        not_queued = self._outbox.publish_together(decided)
        return {str(decided[index][0]["message_uuid"]) for index in not_queued}
