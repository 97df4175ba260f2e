"""Accepting a message: validate, check the sender and channel rules, write the record, enqueue.

The record is written first (conditional put) and only then enqueued, so an accepted message is
never lost: if the enqueue fails the record says so and the client gets a 503 it can retry.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.domain.message import ApiVersion, Channel, OutboundMessage, Principal
from switchboard.errors import InvalidParameter, ServiceUnavailable, ValidationFailed
from switchboard.observability import logger, metrics

VIBER_FIRST_MESSAGE_REASON = (
    "the first message from a Viber service to a number must be a transaction message; "
    "send a transaction message first"
)


class MessageRecords(Protocol):
    def create(self, message_uuid: str, message: OutboundMessage, principal: Principal) -> None: ...
    def mark_enqueue_failed(self, message_uuid: str, detail: str) -> bool: ...


class Queue(Protocol):
    def enqueue(self, message_uuid: str, delay_seconds: int = 0) -> None: ...


class Contacts(Protocol):
    def has_transaction_contact(self, service_id: str, number: str) -> bool: ...


@dataclass
class MessageAcceptor:
    records: MessageRecords
    queue: Queue
    contacts: Contacts
    channels_config: Callable[[], dict]
    unconfigured_sender: Callable[[OutboundMessage, dict], str | None]

    def accept(self, message: OutboundMessage, principal: Principal) -> dict[str, str]:
        self.check_channel_rules(message)
        message_uuid = str(uuid.uuid4())
        self.records.create(message_uuid, message, principal)
        try:
            self.queue.enqueue(message_uuid)
        except Exception as exc:  # any failure to enqueue: the record must say so
            logger.exception("enqueue failed", extra={"message_uuid": message_uuid})
            reason = f"could not be queued for sending ({type(exc).__name__})"
            if self.records.mark_enqueue_failed(message_uuid, reason):
                raise ServiceUnavailable(
                    "The message could not be queued for sending; it was not sent. Please retry."
                ) from None
            # The enqueue landed after all and a sender already took the message: it was accepted.
        metrics.add_dimension(name="channel", value=message.channel.value)
        metrics.add_metric(name="accepted", unit="Count", value=1)
        logger.info("message accepted", extra={"message_uuid": message_uuid, "channel": message.channel.value})
        return {"message_uuid": message_uuid}

    def check_channel_rules(self, message: OutboundMessage) -> None:
        """The rules that need the deployment's state: webhook target, configured sender, Viber first contact."""
        if message.webhook_url is not None:
            _check_webhook_target(message.webhook_url)
        nested = message.api_version is not ApiVersion.V1
        reason = self.unconfigured_sender(message, self.channels_config())
        if reason:
            field = ("from.id" if message.sender.id is not None else "from.number") if nested else "from"
            raise ValidationFailed([InvalidParameter(field, reason)])
        if message.channel is Channel.VIBER and message.viber and message.viber.category == "promotion":
            number = message.recipient.number or ""
            if not self.contacts.has_transaction_contact(message.sender.id or "", number):
                field = "message.viber_service_msg.category" if nested else "viber_service.category"
                raise ValidationFailed([InvalidParameter(field, VIBER_FIRST_MESSAGE_REASON)])


def _check_webhook_target(url: str) -> None:
    """The SSRF guard at registration: the per-message status URL must resolve to public addresses only."""
    from switchboard.config import settings
    from switchboard.webhooks.ssrf import UnsafeWebhookUrl, check_webhook_url

    try:
        check_webhook_url(url, settings().allowed_private_webhook_hosts)
    except UnsafeWebhookUrl as exc:
        raise ValidationFailed([InvalidParameter("webhook_url", str(exc))]) from None


def default_acceptor() -> MessageAcceptor:
    """The production wiring (DynamoDB, SQS, Secrets Manager)."""
    from switchboard.channels.config import channels_config
    from switchboard.channels.registry import unconfigured_sender
    from switchboard.queues import OutboundQueue
    from switchboard.store.contacts import ContactStore
    from switchboard.store.messages import MessageStore

    return MessageAcceptor(
        records=MessageStore(),
        queue=OutboundQueue(),
        contacts=ContactStore(),
        channels_config=channels_config,
        unconfigured_sender=unconfigured_sender,
    )


def parse_message(body: Any, version: ApiVersion) -> OutboundMessage:
    from switchboard.validation import parse_flat, parse_nested

    return parse_flat(body) if version is ApiVersion.V1 else parse_nested(body, version)
