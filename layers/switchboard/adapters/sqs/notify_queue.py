"""The NotifyQueue and its dead-letter queue, as the publisher and the notifier use them."""
from __future__ import annotations

import json
from typing import Any

from switchboard import clock
from switchboard.adapters.sqs.outbound_queue import tenant_group
from switchboard.adapters.sqs.queue_url import required_url
from switchboard.domain.message_record import MAX_DELAY_SECONDS
from switchboard.domain.notification import Notification


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
            **tenant_group(notification.target.get("api_key")),  # the account: a fair queue's tenant
        )

    def retry(self, notification: Notification, delay_seconds: int) -> None:
        self.send(notification, delay_seconds)

    def dead_letter(self, notification: Notification) -> None:
        """Park a notification that was given up on; the body is the queue body plus ``gave_up_at``."""
        body = {**json.loads(notification.to_json()), "gave_up_at": clock.iso()}
        self._client.send_message(QueueUrl=self.dead_letter_url, MessageBody=json.dumps(body, separators=(",", ":")))
