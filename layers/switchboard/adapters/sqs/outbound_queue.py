"""The outbound queue: one SQS message per message record, body ``{"message_uuid": "<uuid>"}``.

The body carries only the uuid: the record in the MessagesTable is the source of truth, so the
queue never holds message text.
"""
from __future__ import annotations

import json
from typing import Any

from switchboard.adapters.sqs.queue_url import required_url
from switchboard.domain.message_record import MAX_DELAY_SECONDS


def tenant_group(tenant: str | None) -> dict[str, str]:
    """SendMessage's ``MessageGroupId`` for a tenant (none without one): SQS fair queues group by it."""
    return {"MessageGroupId": tenant} if tenant else {}


def outbound_body(message_uuid: str) -> str:
    return json.dumps({"message_uuid": message_uuid}, separators=(",", ":"))


def parse_outbound_body(body: str | None) -> str | None:
    """The message uuid of an outbound queue body, or ``None`` if the body is not one of ours."""
    try:
        data = json.loads(body or "")
    except (TypeError, ValueError):
        return None
    message_uuid = data.get("message_uuid") if isinstance(data, dict) else None
    return message_uuid if isinstance(message_uuid, str) and message_uuid else None


class OutboundQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self.queue_url = required_url("OutboundQueue", queue_url)
        self._client = client

    def enqueue(self, message_uuid: str, delay_seconds: int = 0, tenant: str | None = None) -> None:
        """Queue a message for the sender. botocore errors propagate to the caller.

        ``tenant`` (the account's api_key) is the SQS message group id: on a standard queue that makes
        it a fair queue, so one account's backlog does not hold another account's messages behind it.
        """
        if not 0 <= delay_seconds <= MAX_DELAY_SECONDS:
            raise ValueError(f"delay_seconds must be 0..{MAX_DELAY_SECONDS}")
        self._client.send_message(
            QueueUrl=self.queue_url,
            MessageBody=outbound_body(message_uuid),
            DelaySeconds=delay_seconds,
            **tenant_group(tenant),
        )

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        """Make a received message visible again only after ``seconds`` (its retry backoff)."""
        self._client.change_message_visibility(
            QueueUrl=self.queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(seconds, MAX_DELAY_SECONDS)),
        )
