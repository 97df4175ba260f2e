"""The SenderFunction's batch loop: Powertools partial batch responses around ``OutboundSender``.

Records of a batch run concurrently on a bounded, process-wide thread pool
(``settings().sender_concurrency`` threads): the Powertools ``AsyncBatchProcessor`` awaits one task
per record and each task runs the blocking work (DynamoDB, the provider's HTTP API) on the pool.
A record the sender wants back later, or whose processing raised, becomes a batch item failure.
"""
from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from switchboard import clock
from switchboard.config import settings
from switchboard.observability import logger
from switchboard.sender.outcome_metrics import OutcomeTally
from switchboard.adapters.sqs.outbound_queue import parse_outbound_body
from switchboard.sender.worker import BatchScope, Disposition, OutboundSender, QueueDelivery, SenderPolicy

# Without a Lambda context (tests, local runs) the lease assumes the function's 30 s timeout, doubled.
DEFAULT_LEASE_SECONDS = 60
# A lease outlives the invocation by this much, so clock skew between workers cannot make a live
# worker's lease look expired.
LEASE_MARGIN_SECONDS = 5


class RedeliverLater(Exception):
    """Raised for a record SQS must deliver again; Powertools reports it as a batch item failure."""


@lru_cache(maxsize=1)
def executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=settings().sender_concurrency, thread_name_prefix="sender")


def default_sender() -> OutboundSender:
    """Production wiring: DynamoDB, SQS and the channel adapters."""
    from switchboard.adapters.providers.registry import adapter_for
    from switchboard.notifications import Notifications
    from switchboard.notifications.outbox import Outbox
    from switchboard.queues import OutboundQueue
    from switchboard.store.contacts import ContactStore
    from switchboard.store.messages import MessageStore

    s = settings()
    records = MessageStore()
    return OutboundSender(
        records=records,
        contacts=ContactStore(),
        queue=OutboundQueue(),
        adapter_for=adapter_for,
        policy=SenderPolicy(s.send_max_attempts, s.send_retry_base_seconds, s.outbound_max_receive_count),
        outcomes=OutcomeTally(),
        webhooks=Outbox(records, Notifications()),
    )


def default_channel_config() -> dict[str, Any]:
    from switchboard.channels.config import channels_config

    return channels_config()


def lease_expiry(context: Any) -> int:
    """Epoch seconds after which a claim taken in this invocation is considered abandoned.

    The invocation cannot run past its deadline, so a lease ending after it expires only once
    the worker that took it is certainly gone.
    """
    remaining_ms = getattr(context, "get_remaining_time_in_millis", None)
    remaining = remaining_ms() / 1000 if callable(remaining_ms) else DEFAULT_LEASE_SECONDS
    return math.ceil(clock.now() + remaining + LEASE_MARGIN_SECONDS)


def to_delivery(record: SQSRecord) -> QueueDelivery:
    return QueueDelivery(
        message_id=record.message_id,
        body=record.body or "",
        receipt_handle=record.receipt_handle,
        receive_count=int(record.attributes.approximate_receive_count or 1),
    )


def process_batch(
    event: dict[str, Any],
    context: Any = None,
    *,
    sender: OutboundSender | None = None,
    load_channel_config: Callable[[], dict[str, Any]] | None = None,
) -> PartialItemFailureResponse:
    """Send every record of an SQS event; returns ``{"batchItemFailures": [{"itemIdentifier": ...}]}``."""
    sender = sender or default_sender()
    scope = BatchScope(
        channel_config=(load_channel_config or default_channel_config)(),
        lease_expires_at=lease_expiry(context),
    )
    pool = executor()

    def process_record(record: SQSRecord) -> Disposition:
        message_uuid = parse_outbound_body(record.body)
        if message_uuid is None:
            logger.error("outbound record names no message; acknowledged", extra={"sqs_message_id": record.message_id})
            return Disposition.ACK
        logger.thread_safe_append_keys(correlation_id=message_uuid)
        try:
            return sender.process(message_uuid, to_delivery(record), scope)
        except Exception:
            logger.exception("outbound record processing failed", extra={"sqs_message_id": record.message_id})
            raise
        finally:
            logger.thread_safe_remove_keys(["correlation_id"])

    async def record_handler(record: SQSRecord) -> None:
        disposition = await asyncio.get_running_loop().run_in_executor(pool, process_record, record)
        if disposition is Disposition.REDELIVER:
            raise RedeliverLater(record.message_id)

    processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    try:
        return async_process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        sender.outcomes.flush()
