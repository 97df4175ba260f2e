"""The NotifierFunction's batch loop: Powertools partial batch responses around ``Notifier.deliver``.

Records of a batch are delivered concurrently on a bounded, process-wide thread pool, so one slow
endpoint does not delay the others; records of the same message go one after another, in status
order (submitted, delivered, read, then the terminal ones), so a customer sees one message's
statuses in the order they happened when they were queued close together. A body that is not a notification is logged and acknowledged
(redelivering it cannot help). A record whose processing raised (the retry or dead-letter message
could not be queued, or anything unexpected) becomes a batch item failure: SQS delivers it again
and, after the queue's maxReceiveCount, moves it to the NotifyDLQ.
"""
from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import AsyncBatchProcessor, EventType, async_process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from switchboard.config import settings
from switchboard.domain.notification import Notification
from switchboard.notifications.queues import NotifyQueues
from switchboard.notifier.delivery import Notifier
from switchboard.notifier.targets import WebhookTargets
from switchboard.observability import logger

CONCURRENCY = 10  # the event source's BatchSize
_STATUS_ORDER = {"submitted": 1, "delivered": 2, "read": 3, "rejected": 4, "undeliverable": 4}


def _waits_for(records: list[dict[str, Any]]) -> dict[str, str]:
    """SQS message id -> the message id of the same message's record that must be delivered first."""
    by_message: dict[str, list[tuple[tuple[int, str], str]]] = {}
    for record in records:
        try:
            notification = json.loads(record["body"])
            body = notification.get("body") or {}
            key = (_STATUS_ORDER.get(body.get("status"), 0), str(body.get("timestamp", "")))
            by_message.setdefault(str(notification["message_uuid"]), []).append((key, record["messageId"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue  # not a notification: handled (acknowledged) by process_record
    waits: dict[str, str] = {}
    for entries in by_message.values():
        ordered = [message_id for _, message_id in sorted(entries)]
        waits.update(zip(ordered[1:], ordered[:-1]))
    return waits


@lru_cache(maxsize=1)
def executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=CONCURRENCY, thread_name_prefix="notifier")


@lru_cache(maxsize=1)
def webhook_targets() -> WebhookTargets:
    """Kept for the life of the process, so its account and application lookups stay cached."""
    from switchboard.auth.authenticator import Authenticator

    return WebhookTargets(Authenticator())


def default_notifier() -> Notifier:
    """Production wiring: DynamoDB, SQS and the shared HTTP session."""
    from switchboard.store.messages import MessageStore
    from switchboard.adapters.webhook_http.webhook_poster import WebhookPoster

    return Notifier(
        targets=webhook_targets(),
        poster=WebhookPoster(allowed_private_hosts=settings().allowed_private_webhook_hosts),
        queues=NotifyQueues(),
        attempts=MessageStore(),
    )


def process_batch(event: dict[str, Any], context: Any = None, *, notifier: Notifier | None = None) -> PartialItemFailureResponse:
    """Deliver every record of an SQS event; returns ``{"batchItemFailures": [...]}``."""
    notifier = notifier or default_notifier()
    pool = executor()

    def process_record(record: SQSRecord) -> None:
        notification = Notification.from_json(record.body)
        if notification is None:
            logger.error("notify record is not a notification; acknowledged", extra={"sqs_message_id": record.message_id})
            return
        logger.thread_safe_append_keys(correlation_id=notification.message_uuid)
        try:
            notifier.deliver(notification)
        except Exception:
            logger.exception("webhook processing failed", extra={"sqs_message_id": record.message_id})
            raise
        finally:
            logger.thread_safe_remove_keys(["correlation_id"])

    waits_for = _waits_for(event.get("Records", []))
    finished: dict[str, asyncio.Event] = {}

    async def record_handler(record: SQSRecord) -> None:
        done = finished.setdefault(record.message_id, asyncio.Event())
        earlier = waits_for.get(record.message_id)
        if earlier is not None:
            await finished.setdefault(earlier, asyncio.Event()).wait()
        try:
            await asyncio.get_running_loop().run_in_executor(pool, process_record, record)
        finally:
            done.set()

    processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return async_process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
