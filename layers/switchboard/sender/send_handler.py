"""The SenderFunction's work on one batch: what every record shares, and one record's send.

The batch loop itself (partial failures, the thread pool) is the shared SQS batch runner; the
composition module hands it to ``SendHandler.run``. A record the sender wants back later
(``Disposition.REDELIVER``) or whose processing raised becomes a batch item failure, and so does
one whose status webhook could not be queued after the batch (``switchboard.sender.webhook_batch``).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard import clock
from switchboard.domain.queue_record import Disposition, QueueDelivery
from switchboard.sender.outbound_sender import BatchScope, OutboundSender
from switchboard.sender.webhook_batch import WebhookBatch

# Without a Lambda context (tests, local runs) the lease assumes the function's 30 s timeout, doubled.
DEFAULT_LEASE_SECONDS = 60
# A lease outlives the invocation by this much, so clock skew between workers cannot make a live
# worker's lease look expired.
LEASE_MARGIN_SECONDS = 5


class BatchRunner(Protocol):
    """``switchboard.adapters.sqs.batch_runner.BatchRunner`` decoding outbound bodies to message uuids."""

    def run(
        self,
        event: dict[str, Any],
        context: Any,
        handle: Callable[[str, Any], Disposition | None],
        after_batch: Callable[[], Iterable[str] | None] | None = None,
    ) -> Any: ...


def lease_expiry(context: Any) -> int:
    """Epoch seconds after which a claim taken in this invocation is considered abandoned.

    The invocation cannot run past its deadline, so a lease ending after it expires only once
    the worker that took it is certainly gone.
    """
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    remaining = remaining_ms() / 1000 if callable(remaining_ms) else DEFAULT_LEASE_SECONDS
    return math.ceil(clock.now() + remaining + LEASE_MARGIN_SECONDS)


def to_delivery(record: Any) -> QueueDelivery:
    """The parts of a Powertools ``SQSRecord`` the sender uses."""
    return QueueDelivery(
        message_id=record.message_id,
        body=record.body or "",
        receipt_handle=record.receipt_handle,
        receive_count=int(record.attributes.approximate_receive_count or 1),
    )


@dataclass(frozen=True)
class SendHandler:
    sender: OutboundSender
    channel_config: Callable[[], dict[str, Any]]  # the channels secret (cached by its adapter)

    def run(self, runner: BatchRunner, event: dict[str, Any], context: Any) -> Any:
        """Send every record of ``event``; the channel configuration is read once for the batch, and the
        batch's status webhooks are queued together once every record is handled."""
        webhooks = WebhookBatch(self.sender.webhooks)
        scope = BatchScope(
            channel_config=self.channel_config(), lease_expires_at=lease_expiry(context), webhooks=webhooks
        )

        def send(message_uuid: str, record: Any) -> Disposition:
            return self.sender.process(message_uuid, to_delivery(record), scope)

        def after_batch() -> set[str]:
            """The batch's webhooks queued; the message uuids of those that could not be (their records come back)."""
            try:
                return webhooks.flush()
            finally:
                self.sender.outcomes.flush()

        return runner.run(event, context, send, after_batch=after_batch)
