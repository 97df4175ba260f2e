"""Builders of the product's records and of the SQS events its queue functions receive."""
from __future__ import annotations

from typing import Any

from switchboard.domain.message import (
    ApiVersion,
    Channel,
    Content,
    Endpoint,
    OutboundMessage,
    Principal,
    ViberOptions,
)
from switchboard.adapters.sqs.outbound_queue import outbound_body

PRINCIPAL = Principal(api_key="abcd1234")
# The channels configuration the sender's tests give every batch (the adapters are fakes).
CHANNELS_CONFIG = {"messenger": {"pages": {}}, "viber": {"service_ids": ["svc-1"]}, "sms": {}}


def messenger_message() -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.MESSENGER,
        sender=Endpoint(type="messenger", id="page-1"),
        recipient=Endpoint(type="messenger", id="psid-1"),
        content=Content(type="text", text="hello"),
        api_version=ApiVersion.V0_1,
    )


def sms_message() -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint(type="sms", number="447700900001"),
        recipient=Endpoint(type="sms", number="447700900000"),
        content=Content(type="text", text="hello"),
        api_version=ApiVersion.V1,
    )


def viber_message(category: str = "transaction") -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.VIBER,
        sender=Endpoint(type="viber_service_msg", id="svc-1"),
        recipient=Endpoint(type="viber_service_msg", number="447700900000"),
        content=Content(type="text", text="hello"),
        api_version=ApiVersion.V0_1,
        viber=ViberOptions(category=category, ttl=600),
    )


def sqs_record(
    message_uuid: str | None = None,
    *,
    message_id: str | None = None,
    receive_count: int = 1,
    receipt_handle: str | None = None,
    body: str | None = None,
    queue_arn: str = "arn:aws:sqs:us-east-1:123456789012:OutboundQueue",
) -> dict[str, Any]:
    """One record of an SQS event as Lambda delivers it; by default an outbound queue record naming ``message_uuid``."""
    message_id = message_id or f"sqs-{message_uuid}-{receive_count}"
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle or f"receipt-{message_id}",
        "body": body if body is not None else outbound_body(message_uuid or ""),
        "attributes": {"ApproximateReceiveCount": str(receive_count), "SentTimestamp": "1790000000000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": "us-east-1",
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
