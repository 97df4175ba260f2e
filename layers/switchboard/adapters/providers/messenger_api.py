"""Facebook Messenger through the Graph Send API (protocols.md 5.1).

Error mapping (Graph ``error.code`` / ``error_subcode`` / ``message`` to Nexmo codes), first match wins:

==========================================================  ==================
message mentions "phone matching"                           REJECTED 1350
message "Too many send requests to phone numbers"           REJECTED 1241
190 (invalid or expired access token)                       REJECTED 1370
10 with subcode 2018278 or "allowed window"                 REJECTED 1340
551, or 200 with subcode 1545041 (person not available)     REJECTED 1260
100 with subcode 2018001 or "No matching user"              REJECTED 1300
100 (other invalid parameter)                               REJECTED 1020
4, 17, 32, 613 (rate limits)                                RETRY 1000
3, 10, 200-299 (capability / permission)                    REJECTED 1140
1 (unknown), 2 (temporary)                                  RETRY 1100
anything else                                               REJECTED 1030 with the Graph message
==========================================================  ==================

On an HTTP 5xx, code 1 ("An unknown error occurred") does not say the message was not sent, so it is
UNKNOWN 1100 (never resent: the Send API has no idempotency key); code 2 ("Service temporarily
unavailable") and ``is_transient`` answers are Graph saying it did not take the request: RETRY 1100.
"""
from __future__ import annotations

from typing import Any

from switchboard.adapters.providers import transport
from switchboard.adapters.providers.transport import ProviderReply, redact
from switchboard.domain.error_codes import (
    COMMUNICATION_FAILED,
    ILLEGAL_SENDER,
    INTERNAL_ERROR,
    INVALID_MESSAGE,
    INVALID_PARAMS,
    THROTTLED,
    DESTINATION_UNREACHABLE,
    EXPIRED_ACCESS_TOKEN,
    FACILITY_NOT_ALLOWED,
    INVALID_TAG,
    NOT_ON_PROVIDER_NETWORK,
    OUTSIDE_ALLOWED_WINDOW,
    PHONE_MATCHING_FEE,
    TOO_MANY_SEND_REQUESTS,
)
from switchboard.domain.message import Channel, MessengerOptions, OutboundMessage
from switchboard.domain.sending import (
    AbandonedSend, SendResult, TransactionContact, accepted, rejected, retry, unknown,
)

PROVIDER = "messenger"
DEFAULT_API_BASE = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v18.0"

MESSAGING_TYPES = {"response": "RESPONSE", "update": "UPDATE", "message_tag": "MESSAGE_TAG"}
ATTACHMENT_TYPES = frozenset({"image", "audio", "video", "file"})
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
TEMPORARY_CODES = frozenset({1, 2})
UNKNOWN_ERROR_CODE = 1


class MessengerAdapter:
    channel = Channel.MESSENGER
    abandoned_send = AbandonedSend.REJECT_UNKNOWN  # the Send API has no idempotency key

    def contact_after_submit(self, message: OutboundMessage) -> TransactionContact | None:
        return None

    def send(self, message: OutboundMessage, message_uuid: str, config: dict) -> SendResult:
        section = config.get("messenger") or {}
        page_id = message.sender.address
        token = (section.get("pages") or {}).get(page_id)
        if not token:
            return rejected(ILLEGAL_SENDER, f"page {page_id} is not configured for this deployment")

        body_or_error = request_body(message)
        if isinstance(body_or_error, SendResult):
            return body_or_error

        api_base = str(section.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        api_version = str(section.get("api_version") or DEFAULT_API_VERSION).strip("/")
        return transport.post(
            PROVIDER,
            f"{api_base}/{api_version}/me/messages",
            lambda reply: interpret(reply, token),
            message_uuid=message_uuid,
            params={"access_token": token},
            json=body_or_error,
            credential=page_id,  # the Send API limits calls per Page
        )


def request_body(message: OutboundMessage) -> dict[str, Any] | SendResult:
    """The Send API body, or a rejection when the message cannot be expressed on Messenger."""
    options = message.messenger or MessengerOptions()
    messaging_type = MESSAGING_TYPES.get(options.category)
    if messaging_type is None:
        return rejected(INVALID_PARAMS, f"unknown messenger category {options.category!r}")

    content = message.content
    if content.type == "text" and content.text is not None:
        payload: dict[str, Any] = {"text": content.text}
    elif content.type in ATTACHMENT_TYPES and content.url:
        payload = {"attachment": {"type": content.type, "payload": {"url": content.url, "is_reusable": True}}}
    else:
        return rejected(INVALID_MESSAGE, f"messenger cannot send {content.type} content")

    body: dict[str, Any] = {
        "messaging_type": messaging_type,
        "recipient": {"id": message.recipient.address},
        "message": payload,
    }
    if messaging_type == "MESSAGE_TAG":
        if not options.tag:
            return rejected(INVALID_TAG, "category message_tag needs a tag")
        body["tag"] = options.tag.upper()
    return body


def interpret(reply: ProviderReply, token: str) -> SendResult:
    body = reply.body if isinstance(reply.body, dict) else {}
    error = body.get("error")
    if isinstance(error, dict):
        if reply.status_code >= 500 and _as_int(error.get("code")) == UNKNOWN_ERROR_CODE and not error.get("is_transient"):
            return unknown(COMMUNICATION_FAILED, redact(str(error.get("message") or ""), token) or None)
        return map_error(error, token)
    if 200 <= reply.status_code < 300 and body.get("message_id"):
        return accepted(str(body["message_id"]))
    return transport.unparsable(PROVIDER, reply)


def map_error(error: dict[str, Any], token: str | None = None) -> SendResult:
    """A Graph API ``error`` object as a send result (table in the module docstring)."""
    code = _as_int(error.get("code"))
    subcode = _as_int(error.get("error_subcode"))
    message = redact(str(error.get("message") or ""), token)
    lowered = message.lower()
    detail = message or None

    if "phone matching" in lowered:
        return rejected(PHONE_MATCHING_FEE, detail)
    if "too many send requests to phone numbers" in lowered:
        return rejected(TOO_MANY_SEND_REQUESTS, detail)
    if code == 190:
        return rejected(EXPIRED_ACCESS_TOKEN, detail)
    if code == 10 and (subcode == 2018278 or "allowed window" in lowered):
        return rejected(OUTSIDE_ALLOWED_WINDOW, detail)
    if code == 551 or (code == 200 and subcode == 1545041):
        return rejected(DESTINATION_UNREACHABLE, detail)
    if code == 100 and (subcode == 2018001 or "no matching user" in lowered):
        return rejected(NOT_ON_PROVIDER_NETWORK, detail)
    if code == 100:
        return rejected(INVALID_PARAMS, detail)
    if code in RATE_LIMIT_CODES:
        return retry(THROTTLED, detail)
    if code is not None and (code in (3, 10) or 200 <= code <= 299):
        return rejected(FACILITY_NOT_ALLOWED, detail)
    if code in TEMPORARY_CODES:
        return retry(COMMUNICATION_FAILED, detail)
    return rejected(INTERNAL_ERROR, f"facebook error {code}/{subcode}: {message}")


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
