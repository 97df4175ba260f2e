"""The NotifyQueue and its dead-letter queue, as the publisher and the notifier use them."""
from __future__ import annotations

import json

from switchboard import aws, clock
from switchboard.config import settings
from switchboard.notifications.messages import Notification
from switchboard.queues import MAX_DELAY_SECONDS


class NotifyQueues:
    def __init__(self, queue_url: str | None = None, dead_letter_url: str | None = None) -> None:
        self.queue_url = queue_url or settings().notify_queue_url
        self.dead_letter_url = dead_letter_url or settings().notify_dlq_url
        self._client = aws.client("sqs")

    def send(self, notification: Notification, delay_seconds: int = 0) -> None:
        """Queue a notification (botocore errors propagate)."""
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be 0..{MAX_DELAY_SECONDS}")
        self._client.send_message(
            QueueUrl=self.queue_url, MessageBody=notification.to_json(), DelaySeconds=delay_seconds
        )

    def retry(self, notification: Notification, delay_seconds: int) -> None:
        self.send(notification, delay_seconds)

    def dead_letter(self, notification: Notification) -> None:
        """Park a notification that was given up on; the body is the queue body plus ``gave_up_at``."""
        body = {**json.loads(notification.to_json()), "gave_up_at": clock.iso()}
        self._client.send_message(QueueUrl=self.dead_letter_url, MessageBody=json.dumps(body, separators=(",", ":")))
