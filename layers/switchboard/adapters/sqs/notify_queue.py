"""The NotifyQueue and its dead-letter queue, as the publisher and the notifier use them."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from switchboard import clock
from switchboard.adapters.sqs.outbound_queue import tenant_group
from switchboard.adapters.sqs.queue_url import required_url
from switchboard.domain.message_record import MAX_DELAY_SECONDS
from switchboard.domain.notification import Notification
from switchboard.observability import logger

BATCH_ENTRIES = 10  # SendMessageBatch's most entries per call
BATCH_BYTES = 256 * 1024  # its most body bytes per call (SQS's older limit, which every endpoint accepts)


class NotifyQueue:
    def __init__(self, client: Any, queue_url: str, dead_letter_url: str) -> None:
        self.queue_url = required_url("NotifyQueue", queue_url)
        self.dead_letter_url = required_url("NotifyQueue's dead-letter queue", dead_letter_url)
        self._client = client

    def send(self, notification: Notification, delay_seconds: int = 0) -> None:
        """Queue a notification (botocore errors propagate)."""
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be 0..{MAX_DELAY_SECONDS}")
        self._client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=notification.to_json(),
            DelaySeconds=delay_seconds,
            **_group_of(notification),
        )

    def send_all(self, notifications: Sequence[Notification]) -> set[int]:
        """Queue notifications with as few SendMessageBatch calls as SQS allows; the indexes of those not queued.

        A call that fails altogether fails its entries (logged); the others are still sent.
        """
        bodies = [notification.to_json() for notification in notifications]
        not_queued: set[int] = set()
        for chunk in _chunks(bodies):
            entries = [
                {"Id": str(index), "MessageBody": bodies[index], **_group_of(notifications[index])} for index in chunk
            ]
            try:
                answer = self._client.send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception:
                logger.exception("could not queue a batch of notifications", extra={"notifications": len(entries)})
                not_queued.update(chunk)
                continue
            for failed in answer.get("Failed", []):
                logger.error(
                    "SQS did not queue a notification",
                    extra={"code": failed.get("Code"), "sender_fault": failed.get("SenderFault")},
                )
                not_queued.add(int(failed["Id"]))
        return not_queued

    def retry(self, notification: Notification, delay_seconds: int) -> None:
        self.send(notification, delay_seconds)

    def dead_letter(self, notification: Notification) -> None:
        """Park a notification that was given up on; the body is the queue body plus ``gave_up_at``."""
        body = {**json.loads(notification.to_json()), "gave_up_at": clock.iso()}
        self._client.send_message(QueueUrl=self.dead_letter_url, MessageBody=json.dumps(body, separators=(",", ":")))


def _chunks(bodies: Sequence[str]) -> list[list[int]]:
    """Indexes of ``bodies`` grouped into SendMessageBatch calls: at most 10 entries and 256 KiB of bodies each."""
    chunks: list[list[int]] = []
    size = 0
    for index, body in enumerate(bodies):
        length = len(body.encode())
        if not chunks or len(chunks[-1]) == BATCH_ENTRIES or size + length > BATCH_BYTES:
            chunks.append([])
            size = 0
        chunks[-1].append(index)
        size += length
    return chunks


def _group_of(notification: Notification) -> dict[str, str]:
    """The notification's account as its ``MessageGroupId``: a fair queue's tenant."""
    return tenant_group(notification.target.get("api_key"))
