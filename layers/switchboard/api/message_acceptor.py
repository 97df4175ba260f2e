"""Accepting a message: validate, check the sender and channel rules, write the record, enqueue.

The record is written first (conditional put) and only then enqueued, so an accepted message is
never lost: if the enqueue fails the record says so and the client gets a 503 it can retry.

A sender (``from``) must be linked to the calling account and configured for the deployment. Both
checks always run, and a sender failing either gets the same answer (``REFUSED_SENDER_REASON``),
so no account can tell another account's sender from one that does not exist. The log says which
check failed, for operators.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

from switchboard import clock
from switchboard.domain.message import ApiVersion, Channel, OutboundMessage, Principal
from switchboard.domain.errors import InvalidParameter, OutsideServiceWindow, ServiceUnavailable, ValidationFailed
from switchboard.domain.whatsapp_window import needs_open_window, window_closed
from switchboard.observability import logger, metrics

REFUSED_SENDER_REASON = (
    "is not a sender of this account; a sender must be linked to the account and configured for this deployment"
)
QUOTED_MESSAGE_REASON = (
    "is not a message of this WhatsApp conversation that reached WhatsApp; a reply can quote a message "
    "sent to or received from this customer on this number"
)
QUOTE_IN_WORKFLOW_REASON = "is not supported in a failover workflow; send the reply on its own"
VIBER_FIRST_MESSAGE_REASON = (
    "the first message from a Viber service to a number must be a transaction message; "
    "send a transaction message first"
)


class MessageRecords(Protocol):
    def create(self, message_uuid: str, message: OutboundMessage, principal: Principal) -> None: ...
    def get(self, message_uuid: str) -> dict[str, Any] | None: ...
    def mark_enqueue_failed(self, message_uuid: str, detail: str) -> bool: ...


class Queue(Protocol):
    def enqueue(self, message_uuid: str, delay_seconds: int = 0, tenant: str | None = None) -> None: ...


class Contacts(Protocol):
    def has_transaction_contact(self, service_id: str, number: str) -> bool: ...


class SenderLinks(Protocol):
    def is_linked_to(self, api_key: str, channel: Channel, address: str) -> bool: ...


class ServiceWindows(Protocol):
    """When a WhatsApp customer last wrote to a business number (``adapters.dynamodb.whatsapp_window_store``)."""

    def last_inbound_at(self, business_number: str, customer_number: str) -> float | None: ...


@dataclass
class MessageAcceptor:
    records: MessageRecords
    queue: Queue
    contacts: Contacts
    channels_config: Callable[[], dict]
    unconfigured_sender: Callable[[OutboundMessage, dict], str | None]
    sender_links: SenderLinks
    # The SSRF guard at registration: raises ValueError unless the per-message status URL resolves to
    # public addresses only (or to a host the deployment allows, the local sink).
    check_webhook_url: Callable[[str], None]
    whatsapp_windows: ServiceWindows | None = None

    def accept(self, message: OutboundMessage, principal: Principal) -> dict[str, str]:
        message = self._with_quoted_message(message, principal)
        self.check_channel_rules(message, principal)
        # A single send only: in a failover workflow a closed window is the provider's refusal
        # (rejected 1340), after which the workflow moves on to its next step.
        if self.whatsapp_windows is not None and needs_open_window(message):
            self._check_service_window(message, message.api_version is not ApiVersion.V1)
        message_uuid = str(uuid.uuid4())
        self.records.create(message_uuid, message, principal)
        try:
            self.queue.enqueue(message_uuid, tenant=principal.api_key)
        except Exception as exc:  # any failure to enqueue: the record must say so
            logger.exception("enqueue failed", extra={"message_uuid": message_uuid})
            reason = f"could not be queued for sending ({type(exc).__name__})"
            if self.records.mark_enqueue_failed(message_uuid, reason):
                raise ServiceUnavailable(
                    "The message could not be queued for sending; it was not sent. Please retry."
                ) from None
            # The enqueue landed after all and a sender already took the message: it was accepted.
        metrics.add_dimension(name="channel", value=message.channel.value)
        metrics.add_dimension(name="api_version", value=message.api_version.value)
        metrics.add_metric(name="accepted", unit="Count", value=1)
        logger.info("message accepted", extra={"message_uuid": message_uuid, "channel": message.channel.value})
        return {"message_uuid": message_uuid}

    def check_channel_rules(self, message: OutboundMessage, principal: Principal) -> None:
        """The rules that need the deployment's state: webhook target, the account's own configured
        sender, Viber first contact."""
        if message.webhook_url is not None:
            self._check_webhook_target(message.webhook_url)
        nested = message.api_version is not ApiVersion.V1
        refusal = self._sender_refusal(message, principal)
        if refusal:
            logger.info(
                "sender refused",
                extra={"channel": message.channel.value, "sender": message.sender.address,
                       "api_key": principal.api_key, "refusal": refusal},
            )
            field = ("from.id" if message.sender.id is not None else "from.number") if nested else "from"
            raise ValidationFailed([InvalidParameter(field, REFUSED_SENDER_REASON)])
        if message.channel is Channel.VIBER and message.viber and message.viber.category == "promotion":
            number = message.recipient.number or ""
            if not self.contacts.has_transaction_contact(message.sender.id or "", number):
                field = "message.viber_service_msg.category" if nested else "viber_service.category"
                raise ValidationFailed([InvalidParameter(field, VIBER_FIRST_MESSAGE_REASON)])
        if message.content.context_message_uuid and not message.content.context_message_id:
            # Only a single send finds the quoted message (accept); a failover step cannot quote one.
            raise ValidationFailed([InvalidParameter("context", QUOTE_IN_WORKFLOW_REASON)])

    def _with_quoted_message(self, message: OutboundMessage, principal: Principal) -> OutboundMessage:
        """A WhatsApp reply with the WhatsApp id of the message it quotes: one of the caller's own, of
        this conversation (either direction), that reached WhatsApp. Anything else is one answer."""
        quoted = message.content.context_message_uuid
        if not quoted:
            return message
        record = self.records.get(quoted) or {}
        parties = {(record.get("from") or {}).get("number"), (record.get("to") or {}).get("number")}
        provider_id = record.get("provider_message_id")
        if (
            record.get("api_key") != principal.api_key
            or record.get("channel") != Channel.WHATSAPP.value
            or parties != {message.sender.address, message.recipient.address}
            or not provider_id
        ):
            raise ValidationFailed([InvalidParameter("context.message_uuid", QUOTED_MESSAGE_REASON)])
        return replace(message, content=replace(message.content, context_message_id=str(provider_id)))

    def _check_service_window(self, message: OutboundMessage, nested: bool) -> None:
        business, customer = message.sender.address, message.recipient.address
        last = self.whatsapp_windows.last_inbound_at(business, customer) if self.whatsapp_windows else None
        if not window_closed(last, clock.now()):
            return
        assert last is not None
        field = "message.content.type" if nested else "message_type"
        reason = (
            f"{message.content.type} messages can only be sent within 24 hours of the customer's last message "
            f"(theirs to {business} was at {clock.iso(last)}); send a template message"
        )
        raise OutsideServiceWindow(
            f"The customer service window with {customer} is closed: only template messages can be sent.",
            [InvalidParameter(field, reason)],
        )

    def _sender_refusal(self, message: OutboundMessage, principal: Principal) -> str | None:
        """Why the caller may not send from ``message.sender`` (for the log only), or None.

        Ownership is the account's: an application may use any sender linked to its account,
        whichever application (if any) the link names for inbound messages.
        """
        # Both checks run every time, so the work done does not depend on which one fails.
        owned = self.sender_links.is_linked_to(principal.api_key, message.channel, message.sender.address)
        unconfigured = self.unconfigured_sender(message, self.channels_config())
        reasons = [unconfigured] if unconfigured else []
        if not owned:
            reasons.append("not linked to the calling account")
        return "; ".join(reasons) or None

    def _check_webhook_target(self, url: str) -> None:
        try:
            self.check_webhook_url(url)
        except ValueError as exc:
            raise ValidationFailed([InvalidParameter("webhook_url", str(exc))]) from None


def parse_message(body: Any, version: ApiVersion) -> OutboundMessage:
    from switchboard.validation import parse_flat, parse_nested

    return parse_flat(body) if version is ApiVersion.V1 else parse_nested(body, version)
