"""WhatsApp through Meta's WhatsApp Business Cloud API (Graph API).

``POST {api_base}/{api_version}/{phone_number_id}/messages`` with ``Authorization: Bearer <token>``::

    {"messaging_product": "whatsapp", "recipient_type": "individual", "to": "<number>",
     "biz_opaque_callback_data": "<message uuid>", "type": "<type>", "<type>": {...}}

The business number (the message's ``from``) is looked up in the channels secret's
``whatsapp.numbers`` for its phone number id and access token. ``biz_opaque_callback_data`` is
echoed by the Cloud API in every status webhook of the message, so a send whose answer was lost is
held until a status settles it (``AbandonedSend.AWAIT_EVIDENCE``, like SMS ``client-ref``); the
Cloud API has no idempotency key, so it is never resent blindly.

Error mapping (Cloud API ``error.code`` to Nexmo codes), first match wins; also applied to the
``errors`` of a ``failed`` status webhook (``status_error``):

==================================================================  ==================
131047 (re-engagement: outside the 24-hour window)                   REJECTED 1340
0, 190 (authentication, expired or invalid token)                    REJECTED 1370
4, 80007, 130429, 131056 (app, account, throughput, pair limits)     RETRY 1000
131048 (spam rate limit)                                             REJECTED 1241
131026, 131049, 131050, 130472 (undeliverable, not delivered)        REJECTED 1260
131030 (recipient not in the test allow-list)                        REJECTED 1160
132000-132099 (template errors: missing, paused, parameters)         REJECTED 1022
131051, 131052, 131053 (unsupported type, media errors)              REJECTED 1040
100, 131008, 131009, 131021, 135000 (invalid parameters)             REJECTED 1020
3, 10, 200-299, 368, 131005, 131031, 131042, 131045, 130497, 133010  REJECTED 1140
1, 2, 131000, 131016 (unknown, temporary, service unavailable)       RETRY 1100
anything else                                                        REJECTED 1030 with the message
==================================================================  ==================

On an HTTP 5xx, codes 1 and 131000 ("something went wrong") do not say the message was not sent:
UNKNOWN 1100 (held for evidence). Code 2 / 131016 and ``is_transient`` answers say it was not
taken: RETRY 1100. A 5xx without Graph's ``error`` object is UNKNOWN (``transport``).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.adapters.providers import transport
from switchboard.adapters.providers.transport import ProviderReply
from switchboard.domain.error_codes import COMMUNICATION_FAILED, ILLEGAL_SENDER, INVALID_MESSAGE
from switchboard.domain.message import Channel, OutboundMessage
from switchboard.domain.sending import (
    AbandonedSend,
    SendResult,
    TransactionContact,
    accepted,
    rejected,
    unknown,
)
from switchboard.domain.whatsapp_cloud import Media, MediaUnavailable, business_number, display_number_of
from switchboard.domain.whatsapp_errors import (
    SOMETHING_WENT_WRONG,
    UNKNOWN_ERROR_CODE,
    as_int,
    detail_of,
    map_error,
    status_error,
)

__all__ = [
    "Media", "MediaUnavailable", "WhatsAppAdapter", "WhatsAppCloud", "business_number", "display_number_of",
    "fetch_media", "map_error", "mark_read", "request_body", "status_error",
]

PROVIDER = "whatsapp"
DEFAULT_API_BASE = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v21.0"
MESSAGING_PRODUCT = "whatsapp"

MEDIA_TYPES = {"image": "image", "audio": "audio", "video": "video", "file": "document", "sticker": "sticker"}


class WhatsAppAdapter:
    channel = Channel.WHATSAPP
    # No idempotency key, but every status webhook echoes biz_opaque_callback_data (our message uuid).
    abandoned_send = AbandonedSend.AWAIT_EVIDENCE

    def contact_after_submit(self, message: OutboundMessage) -> TransactionContact | None:
        return None

    def send(self, message: OutboundMessage, message_uuid: str, config: Mapping[str, Any]) -> SendResult:
        section = config.get("whatsapp") or {}
        number = business_number(section, message.sender.address)
        if number is None:
            return rejected(ILLEGAL_SENDER, f"WhatsApp number {message.sender.address} is not configured for this deployment")
        phone_number_id, token = number
        body_or_error = request_body(message, message_uuid)
        if isinstance(body_or_error, SendResult):
            return body_or_error
        return transport.post(
            PROVIDER,
            f"{api_root(section)}/{phone_number_id}/messages",
            lambda reply: interpret(reply, token),
            message_uuid=message_uuid,
            headers={"Authorization": f"Bearer {token}"},
            json=body_or_error,
            credential=phone_number_id,  # the Cloud API's throughput is per business phone number
        )


def mark_read(
    section: Mapping[str, Any], business: str, provider_message_id: str, message_uuid: str, typing: bool = False
) -> SendResult:
    """Mark an inbound message read at the Cloud API (blue ticks); ``typing`` also shows the typing indicator.

    ACCEPTED when WhatsApp answered ``{"success": true}``; otherwise the send mapping's reading of
    its answer (a refusal, a retry, an unknown outcome)."""
    number = business_number(section, business)
    if number is None:
        return rejected(ILLEGAL_SENDER, f"WhatsApp number {business} is not configured for this deployment")
    phone_number_id, token = number
    body: dict[str, Any] = {"messaging_product": MESSAGING_PRODUCT, "status": "read", "message_id": provider_message_id}
    if typing:
        body["typing_indicator"] = {"type": "text"}

    def interpret_read(reply: ProviderReply) -> SendResult:
        answer = reply.body if isinstance(reply.body, dict) else {}
        if isinstance(answer.get("error"), dict):
            return map_error(answer["error"], token)
        if 200 <= reply.status_code < 300 and answer.get("success") is True:
            return accepted(None)
        return transport.unparsable(PROVIDER, reply)

    return transport.post(
        PROVIDER, f"{api_root(section)}/{phone_number_id}/messages", interpret_read,
        message_uuid=message_uuid, headers={"Authorization": f"Bearer {token}"}, json=body,
    )


def fetch_media(section: Mapping[str, Any], business: str, media_id: str, max_bytes: int) -> Media:
    """An inbound media item, downloaded with the business number's token: its metadata
    (``GET /{media id}`` -> ``{"url", "mime_type"}``), then its bytes from that short-lived URL."""
    number = business_number(section, business)
    if number is None:
        raise MediaUnavailable(f"WhatsApp number {business} is not configured for this deployment")
    _, token = number
    session = transport.session(PROVIDER)
    timeout = transport.timeouts()
    headers = {"Authorization": f"Bearer {token}"}
    try:
        meta = session.get(f"{api_root(section)}/{media_id}", headers=headers, timeout=timeout)
        info = meta.json() if meta.status_code == 200 else None
        url = info.get("url") if isinstance(info, dict) else None
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise MediaUnavailable(f"the Cloud API has no media {media_id} for this number (HTTP {meta.status_code})")
        download = session.get(url, headers=headers, timeout=timeout, stream=True)
        if download.status_code != 200:
            raise MediaUnavailable(f"the media download answered HTTP {download.status_code}")
        content = download.raw.read(max_bytes + 1, decode_content=True)
    except (OSError, ValueError) as exc:  # requests' errors derive from OSError; bad JSON from ValueError
        raise MediaUnavailable(f"the Cloud API did not answer ({type(exc).__name__})") from None
    if len(content) > max_bytes:
        raise MediaUnavailable(f"the media is larger than {max_bytes} bytes, more than this route can return")
    mime = str(info.get("mime_type") or download.headers.get("Content-Type") or "application/octet-stream")
    return Media(content, mime)


def api_root(section: Mapping[str, Any]) -> str:
    """``{api_base}/{api_version}`` of the Cloud API (defaults: Graph's)."""
    api_base = str(section.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    api_version = str(section.get("api_version") or DEFAULT_API_VERSION).strip("/")
    return f"{api_base}/{api_version}"


def template_name(name: str) -> str:
    """The Cloud API name of a Vonage template name: what follows the last ``:`` (``namespace:name``,
    the 2018 ``whatsapp:hsm:<namespace>:<name>``)."""
    return name.rsplit(":", 1)[-1]


def request_body(message: OutboundMessage, message_uuid: str) -> dict[str, Any] | SendResult:
    """The Cloud API body, or a rejection when the message cannot be expressed on WhatsApp."""
    envelope: dict[str, Any] = {
        "messaging_product": MESSAGING_PRODUCT,
        "recipient_type": "individual",
        "to": message.recipient.address,
        "biz_opaque_callback_data": message_uuid,
    }
    content = message.content
    if content.context_message_id:
        envelope["context"] = {"message_id": content.context_message_id}
    if content.type == "text" and content.text is not None:
        text: dict[str, Any] = {"body": content.text}
        if content.preview_url is not None:
            text["preview_url"] = content.preview_url
        return {**envelope, "type": "text", "text": text}
    if content.type in MEDIA_TYPES and (content.url or content.media_id):
        kind = MEDIA_TYPES[content.type]
        media: dict[str, Any] = {"link": content.url} if content.url else {"id": content.media_id}
        if content.caption:
            media["caption"] = content.caption
        if content.name and kind == "document":
            media["filename"] = content.name
        return {**envelope, "type": kind, kind: media}
    if content.type == "template" and content.template:
        return {**envelope, "type": "template", "template": _template(content.template)}
    if content.type == "custom" and content.custom:
        return {**content.custom, **envelope}
    return rejected(INVALID_MESSAGE, f"whatsapp cannot send {content.type} content")


def _template(template: Mapping[str, Any]) -> dict[str, Any]:
    language: dict[str, Any] = {"code": template.get("locale") or "en_US"}
    if template.get("policy"):
        language["policy"] = template["policy"]
    out: dict[str, Any] = {"name": template_name(str(template["name"])), "language": language}
    parameters = template.get("parameters") or []
    if parameters:
        out["components"] = [
            {"type": "body", "parameters": [{"type": "text", "text": str(value)} for value in parameters]}
        ]
    return out


def interpret(reply: ProviderReply, token: str) -> SendResult:
    body = reply.body if isinstance(reply.body, dict) else {}
    error = body.get("error")
    if isinstance(error, dict):
        code = as_int(error.get("code"))
        if reply.status_code >= 500 and code in (UNKNOWN_ERROR_CODE, SOMETHING_WENT_WRONG) and not error.get("is_transient"):
            return unknown(COMMUNICATION_FAILED, detail_of(error, token))
        return map_error(error, token)
    messages = body.get("messages")
    if 200 <= reply.status_code < 300 and isinstance(messages, list) and messages and isinstance(messages[0], dict):
        message_id = messages[0].get("id")
        if isinstance(message_id, str) and message_id:
            return accepted(message_id)
    return transport.unparsable(PROVIDER, reply)


class WhatsAppCloud:
    """The Cloud API calls the API function makes (``domain.whatsapp_cloud.CloudApi``)."""

    def mark_read(
        self, section: Mapping[str, Any], business: str, provider_message_id: str, message_uuid: str, typing: bool = False
    ) -> SendResult:
        return mark_read(section, business, provider_message_id, message_uuid, typing)

    def fetch_media(self, section: Mapping[str, Any], business: str, media_id: str, max_bytes: int) -> Media:
        return fetch_media(section, business, media_id, max_bytes)
