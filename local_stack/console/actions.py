"""The console's actions, each a signed provider webhook sent to the API's public route, as a provider sends it.

- Reply as the recipient: an inbound Messenger message (``POST /webhooks/messenger``), WhatsApp
  message (``POST /webhooks/whatsapp``) or inbound SMS (``POST /webhooks/sms/inbound``), built here as the provider's body and signed by
  ``local_stack.replay.resign`` with the stack's channel secrets, as ``make replay`` does. Viber
  Service Messages carry no inbound messages, so there is nothing to reply with.
- Mark delivered, read or failed now: the receipt the provider simulators send
  (``local_stack.simulators.reports.report_webhook``), due now. Messenger has no failure receipt and
  the SMS API no read receipt: those are not offered.

Nothing here writes to the stack's tables: what happens is what the API does with the webhook.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from local_stack.console.views import INBOUND, PROVIDER_OF_CHANNEL, address, direction, pretty_raw
from local_stack.replay import (
    CapturedWebhook,
    ReplayError,
    ReplayResponse,
    demo_page_id,
    resign,
    send,
    webhook_from_provider_body,
)
from local_stack.simulators.reports import ProviderWebhook, ReportSecrets, report_webhook, whatsapp_envelope
from local_stack.simulators.scenarios import ScheduledReport
from switchboard.domain.message import Channel

# A number a phone can text back: E.164 digits without "+", as the SMS API writes them.
SMS_NUMBER = re.compile(r"\d{7,15}")
REPLY = "reply"
RECEIPTS = ("delivered", "read", "failed")
MAX_REPLY_LENGTH = 2000
RECEIPT_NAMES = {
    "messenger": "Messenger delivery/read webhook to POST /webhooks/messenger",
    "viber": "Viber callback to POST /webhooks/viber",
    "sms": "SMS API delivery receipt to POST /webhooks/sms/dlr",
    "whatsapp": "WhatsApp Cloud API status to POST /webhooks/whatsapp",
}
NO_RECEIPT = {
    ("messenger", "failed"): "Messenger has no failure receipt: a failed delivery is never reported",
    ("sms", "read"): "the SMS API has no read receipt",
}

Sender = Callable[[CapturedWebhook, str], ReplayResponse]


class InvalidAction(ValueError):
    """The request for the action is malformed (no text, an unknown receipt)."""


class ActionRefused(ValueError):
    """The action does not apply to this message (the reason says why)."""


class ActionFailed(RuntimeError):
    """The API could not be reached."""


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"available": self.available, "reason": self.reason}


def report_secrets(channels: Mapping[str, Any]) -> ReportSecrets:
    """The signing secrets of the stack's ChannelsSecret, as the simulators sign with them."""

    def section(name: str) -> Mapping[str, Any]:
        value = channels.get(name)
        return value if isinstance(value, Mapping) else {}

    return ReportSecrets(
        messenger_app_secret=str(section("messenger").get("app_secret") or ""),
        viber_callback_secret=str(section("viber").get("callback_secret") or ""),
        sms_signature_secret=str(section("sms").get("signature_secret") or ""),
        sms_signature_method=str(section("sms").get("signature_method") or "md5hash"),
        whatsapp_app_secret=str(section("whatsapp").get("app_secret") or ""),
    )


def _whatsapp_number_id(channels: Mapping[str, Any], number: str) -> str | None:
    """The phone number id of one of the stack's WhatsApp business numbers."""
    section = channels.get("whatsapp")
    numbers = section.get("numbers") if isinstance(section, Mapping) else None
    entry = numbers.get(number) if isinstance(numbers, Mapping) else None
    return str(entry["phone_number_id"]) if isinstance(entry, Mapping) and entry.get("phone_number_id") else None


def _captured(webhook: ProviderWebhook) -> CapturedWebhook:
    path, _, query = webhook.path.partition("?")
    return CapturedWebhook(webhook.method, path, query, dict(webhook.headers), webhook.body)


class ConsoleActions:
    def __init__(
        self,
        api_url: str,
        channels: Callable[[], Mapping[str, Any]],
        sender: Sender = send,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.api_url = api_url
        self._channels = channels
        self._send = sender
        self._clock = clock

    # -- what applies ---------------------------------------------------------------------------

    def availability(self, record: Mapping[str, Any], channels: Mapping[str, Any] | None = None) -> dict[str, Any]:
        channels = self._channels() if channels is None else channels
        offered = {REPLY: self._reply_availability(record, channels)}
        offered.update({status: self._receipt_availability(record, status) for status in RECEIPTS})
        return {name: availability.to_json() for name, availability in offered.items()}

    def _reply_availability(self, record: Mapping[str, Any], channels: Mapping[str, Any]) -> Availability:
        if direction(record) == INBOUND:
            return Availability(False, "this message came from the user: reply to a message sent to them")
        channel = record.get("channel")
        sender, recipient = address(record.get("from")), address(record.get("to"))
        if channel == Channel.MESSENGER.value:
            if sender != demo_page_id(channels):
                return Availability(False, f"replies are signed for the stack's page, not page {sender}")
            return Availability(True, f"user {recipient} writes to page {sender}: POST /webhooks/messenger")
        if channel == Channel.SMS.value:
            if not SMS_NUMBER.fullmatch(sender):
                return Availability(False, f"the sender {sender!r} is not a number a phone can reply to")
            return Availability(True, f"{recipient} texts {sender}: POST /webhooks/sms/inbound")
        if channel == Channel.WHATSAPP.value:
            if _whatsapp_number_id(channels, sender) is None:
                return Availability(False, f"{sender} is not a WhatsApp business number of this stack")
            return Availability(True, f"{recipient} writes to {sender} on WhatsApp: POST /webhooks/whatsapp")
        return Availability(False, "Viber Service Messages carry no inbound messages: the user cannot reply")

    def _receipt_availability(self, record: Mapping[str, Any], status: str) -> Availability:
        if direction(record) == INBOUND:
            return Availability(False, "receipts are for messages sent to a user")
        provider = PROVIDER_OF_CHANNEL.get(str(record.get("channel")), "")
        missing = NO_RECEIPT.get((provider, status))
        if missing:
            return Availability(False, missing)
        if not record.get("provider_message_id"):
            return Availability(False, "the provider has not accepted this message: there is nothing to report on")
        return Availability(True, f"a signed {RECEIPT_NAMES[provider]}")

    # -- doing it -------------------------------------------------------------------------------

    def reply(self, record: Mapping[str, Any], text: str) -> dict[str, Any]:
        if not isinstance(text, str) or not text.strip():
            raise InvalidAction("the reply needs a text")
        if len(text) > MAX_REPLY_LENGTH:
            raise InvalidAction(f"the reply is longer than {MAX_REPLY_LENGTH} characters")
        channels = self._channels()
        offered = self._reply_availability(record, channels)
        if not offered.available:
            raise ActionRefused(offered.reason)
        sender, recipient = address(record.get("from")), address(record.get("to"))
        if record.get("channel") == Channel.MESSENGER.value:
            body = self._messenger_message(sender, recipient, text)
            webhook = resign(webhook_from_provider_body(json.dumps(body)), channels)
        elif record.get("channel") == Channel.WHATSAPP.value:
            body = self._whatsapp_message(sender, recipient, text)
            webhook = resign(webhook_from_provider_body(json.dumps(body)), channels)
        else:
            body = self._inbound_sms(recipient, text)
            webhook = resign(webhook_from_provider_body(json.dumps(body)), channels, sms_number=sender)
        return self._deliver(webhook)

    def receipt(self, record: Mapping[str, Any], status: str, later_part_ids: Sequence[str] = ()) -> dict[str, Any]:
        """The provider's receipt for the message; for a multipart SMS one per part, as the SMS API sends
        them (``later_part_ids``: the provider ids after the first). The last exchange is returned,
        with ``parts`` the number of receipts sent."""
        if status not in RECEIPTS:
            raise InvalidAction(f"status must be one of {', '.join(RECEIPTS)}")
        offered = self._receipt_availability(record, status)
        if not offered.available:
            raise ActionRefused(offered.reason)
        provider = PROVIDER_OF_CHANNEL[str(record["channel"])]
        message_ids = [str(record["provider_message_id"])] + (list(later_part_ids) if provider == "sms" else [])
        secrets_ = report_secrets(self._channels())
        sender_id = (
            _whatsapp_number_id(self._channels(), address(record.get("from"))) if provider == "whatsapp" else None
        )
        webhooks = []
        for message_id in message_ids:
            report = ScheduledReport(
                provider=provider,
                status=status,  # type: ignore[arg-type]
                due_at=datetime.fromtimestamp(self._clock(), timezone.utc),
                message_id=message_id,
                recipient=address(record.get("to")),
                sender=address(record.get("from")),
                client_ref=str(record["message_uuid"]) if provider in ("sms", "whatsapp") else None,
                sender_id=sender_id,
            )
            webhook = report_webhook(report, secrets_)
            if webhook is None:  # the simulators send no such receipt either
                raise ActionRefused(f"{provider} sends no {status} receipt")
            webhooks.append(webhook)
        exchange: dict[str, Any] = {}
        for webhook in webhooks:
            exchange = self._deliver(_captured(webhook))
        return {**exchange, "parts": len(webhooks)}

    def _messenger_message(self, page_id: str, psid: str, text: str) -> dict[str, Any]:
        now_ms = int(self._clock() * 1000)
        event = {
            "sender": {"id": psid},
            "recipient": {"id": page_id},
            "timestamp": now_ms,
            "message": {"mid": f"m_console-{secrets.token_urlsafe(18)}", "text": text},
        }
        return {"object": "page", "entry": [{"id": page_id, "time": now_ms, "messaging": [event]}]}

    def _whatsapp_message(self, business: str, customer: str, text: str) -> dict[str, Any]:
        message = {"from": customer, "id": f"wamid.console-{secrets.token_urlsafe(18)}",
                   "timestamp": str(int(self._clock())), "type": "text", "text": {"body": text}}
        return whatsapp_envelope(business, "", "messages", [message])

    def _inbound_sms(self, user_number: str, text: str) -> dict[str, str]:
        """The SMS API's inbound message; ``to`` (our number), ``timestamp``, ``nonce`` and ``sig`` come with
        signing."""
        received = datetime.fromtimestamp(self._clock(), timezone.utc)
        words = text.split()
        return {
            "msisdn": user_number,
            "messageId": secrets.token_hex(8).upper(),
            "text": text,
            "type": "text",
            "keyword": words[0].upper() if words else "",
            "message-timestamp": received.strftime("%Y-%m-%d %H:%M:%S"),
        }

    def _deliver(self, webhook: CapturedWebhook) -> dict[str, Any]:
        try:
            response = self._send(webhook, self.api_url)
        except ReplayError as exc:
            raise ActionFailed(str(exc)) from None
        return {
            "request": {
                "method": webhook.method,
                "url": f"{self.api_url}{webhook.target}",
                "headers": dict(webhook.headers),
                "body": webhook.body.decode("utf-8", errors="replace"),
                "body_text": pretty_raw(webhook.body.decode("utf-8", errors="replace")),
            },
            "response": {"status": response.status, "body": response.body, "body_text": pretty_raw(response.body)},
        }
