"""WhatsApp Cloud API webhooks: the signature and the events.

The handshake (``GET``: ``hub.mode=subscribe``, ``hub.verify_token``, ``hub.challenge``) is Graph's,
answered by the same code as Messenger's (``messenger_webhook.handshake_challenge``). So is the
signature (``X-Hub-Signature-256``: HMAC-SHA256 of the raw body with the app secret; the SHA-1
header alone is not enough).

A body is ``{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field", "value"}]}]}``.
Changes with ``field: "messages"`` carry ``value.metadata {display_phone_number, phone_number_id}``,
and any of:

- ``statuses[]``: ``sent`` -> evidence of the send (settles an unknown outcome; the message is
  ``submitted`` already), ``delivered``, ``read``, ``failed`` -> ``rejected`` or ``undeliverable``
  with the first error mapped to our codes (``domain.whatsapp_errors.status_error``). Each carries
  ``biz_opaque_callback_data`` (our message uuid) as the receipt's ``client_ref``.
- ``messages[]``: one ``InboundMessage`` each (``inbound_content``), the sender's profile name from
  ``contacts[]``.
- ``errors[]``: logged (errors not tied to a message).

Other fields (``message_template_status_update``, ``phone_number_quality_update``, ``account_update``,
``business_capability_update``, ...) are returned as ``AccountNotice`` items to be logged: template
approvals, rejections and pauses, and messaging-tier changes are visible in the logs.

The business number of an event is the configured number with the event's ``phone_number_id``,
else the digits of ``display_phone_number``. Structural problems (an entry, change, status or
message of the wrong shape) make the whole body malformed: nothing is applied.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage, StatusReceipt
from switchboard.domain.whatsapp_errors import status_error
from switchboard.receipts.messenger_webhook import _signed_with
from switchboard.receipts.webhook_fields import as_id, as_list, as_object, malformed, parse_json_object

import hashlib

__all__ = ["AccountNotice", "parse_events", "signature_valid"]

BUSINESS_ACCOUNT_OBJECT = "whatsapp_business_account"
MESSAGES_FIELD = "messages"
SIGNATURE_256_HEADER = "x-hub-signature-256"
ENDPOINT_TYPE = Channel.WHATSAPP.value
STATUS_MAP = {"delivered": "delivered", "read": "read", "sent": "submitted"}
MEDIA_KINDS = {"image": "image", "audio": "audio", "video": "video", "document": "file", "sticker": "sticker"}

# The API route that serves an inbound media item to the owner of the business number.
MediaUrl = Callable[[str, str], str]  # (business number, media id) -> URL


@dataclass(frozen=True)
class AccountNotice:
    """A change about the business account rather than a message: logged, nothing applied."""

    field: str
    value: dict[str, Any] = field(default_factory=dict)


def signature_valid(headers: Mapping[str, str], body: bytes, app_secret: str) -> bool:
    """``X-Hub-Signature-256`` only; without an app secret nothing can be verified: always False."""
    if not app_secret:
        return False
    header = headers.get(SIGNATURE_256_HEADER)
    return header is not None and _signed_with(header, "sha256", hashlib.sha256, body, app_secret)


def parse_events(
    body: bytes, now: float, business_number_of: Callable[[str, str], str], media_url: MediaUrl
) -> list[StatusReceipt | InboundMessage | AccountNotice]:
    """Every event of a webhook body, in order.

    ``business_number_of(phone_number_id, display_phone_number)``: the business number an event is for.
    """
    data = parse_json_object(body)
    if data.get("object") != BUSINESS_ACCOUNT_OBJECT:
        return [AccountNotice("other_object", {"object": str(data.get("object"))[:40]})]
    events: list[StatusReceipt | InboundMessage | AccountNotice] = []
    for i, raw_entry in enumerate(as_list(data.get("entry"), "entry")):
        entry = as_object(raw_entry, f"entry[{i}]")
        for j, raw_change in enumerate(as_list(entry.get("changes") or [], f"entry[{i}].changes")):
            path = f"entry[{i}].changes[{j}]"
            change = as_object(raw_change, path)
            value = as_object(change.get("value") or {}, f"{path}.value")
            if change.get("field") != MESSAGES_FIELD:
                events.append(AccountNotice(str(change.get("field"))[:60], _notice_value(value)))
                continue
            events.extend(_message_events(value, f"{path}.value", now, business_number_of, media_url))
    return events


def _notice_value(value: dict[str, Any]) -> dict[str, Any]:
    """What is worth logging of an account change (template and tier fields), without free text."""
    keys = ("event", "message_template_id", "message_template_name", "message_template_language", "reason",
            "current_limit", "display_phone_number", "ban_info", "max_daily_conversation_per_phone",
            "max_phone_numbers_per_business", "new_quality_score", "previous_quality_score")
    return {key: value[key] for key in keys if key in value}


def _message_events(
    value: dict[str, Any], path: str, now: float, business_number_of: Callable[[str, str], str], media_url: MediaUrl
) -> list[StatusReceipt | InboundMessage | AccountNotice]:
    metadata = as_object(value.get("metadata"), f"{path}.metadata")
    phone_number_id = as_id(metadata.get("phone_number_id"), f"{path}.metadata.phone_number_id")
    display = str(metadata.get("display_phone_number") or "")
    business = business_number_of(phone_number_id, display)
    events: list[StatusReceipt | InboundMessage | AccountNotice] = []
    for k, raw in enumerate(as_list(value.get("statuses") or [], f"{path}.statuses")):
        receipt = _status(as_object(raw, f"{path}.statuses[{k}]"), f"{path}.statuses[{k}]", now)
        if receipt is not None:
            events.append(receipt)
    names = _profile_names(value.get("contacts"))
    for k, raw in enumerate(as_list(value.get("messages") or [], f"{path}.messages")):
        item_path = f"{path}.messages[{k}]"
        item = as_object(raw, item_path)
        events.append(_inbound(item, item_path, now, business, names, media_url))
    for raw in as_list(value.get("errors") or [], f"{path}.errors"):
        if isinstance(raw, dict):
            events.append(AccountNotice("errors", {"code": raw.get("code"), "title": str(raw.get("title"))[:120]}))
    return events


def _status(item: dict[str, Any], path: str, now: float) -> StatusReceipt | None:
    provider_id = as_id(item.get("id"), f"{path}.id")
    state = item.get("status")
    occurred_at = _time(item, path, now)
    client_ref = item.get("biz_opaque_callback_data")
    client_ref = client_ref if isinstance(client_ref, str) and client_ref else None
    if state == "failed":
        errors = item.get("errors")
        first = errors[0] if isinstance(errors, list) and errors and isinstance(errors[0], dict) else {}
        mapped_state, error = status_error(first)
        return StatusReceipt(Channel.WHATSAPP, provider_id, mapped_state, occurred_at, error, client_ref)
    if state in STATUS_MAP:
        return StatusReceipt(Channel.WHATSAPP, provider_id, STATUS_MAP[state], occurred_at, None, client_ref)
    return None  # deleted, warning, ...: nothing of ours changes


def _profile_names(contacts: Any) -> dict[str, str]:
    names: dict[str, str] = {}
    if isinstance(contacts, list):
        for contact in contacts:
            if isinstance(contact, dict) and isinstance(contact.get("profile"), dict):
                name = contact["profile"].get("name")
                if isinstance(name, str) and contact.get("wa_id"):
                    names[str(contact["wa_id"])] = name
    return names


def _inbound(
    item: dict[str, Any], path: str, now: float, business: str, names: dict[str, str], media_url: MediaUrl
) -> InboundMessage:
    sender = as_id(item.get("from"), f"{path}.from").lstrip("+")
    message_id = as_id(item.get("id"), f"{path}.id")
    content = inbound_content(item, business, media_url)
    if sender in names:
        content["profile"] = {"name": names[sender]}
    context = item.get("context")
    if isinstance(context, dict) and context.get("id"):
        content["context"] = {"message_from": str(context.get("from") or ""), "provider_message_id": str(context["id"])}
    return InboundMessage(
        channel=Channel.WHATSAPP,
        sender=Endpoint(ENDPOINT_TYPE, number=sender),
        recipient=Endpoint(ENDPOINT_TYPE, number=business),
        content=content,
        occurred_at=_time(item, path, now),
        provider_message_id=message_id,
    )


def inbound_content(item: dict[str, Any], business: str, media_url: MediaUrl) -> dict[str, Any]:
    """The stored content of one inbound message (docs/webhooks.md lists every type)."""
    kind = item.get("type")
    block = item.get(kind) if isinstance(kind, str) and isinstance(item.get(kind), dict) else {}
    if kind == "text":
        return {"type": "text", "text": str(block.get("body") or "")}
    if kind in MEDIA_KINDS:
        ours = MEDIA_KINDS[kind]
        media: dict[str, Any] = {}
        if block.get("id"):
            media["url"] = media_url(business, str(block["id"]))
        for source, target in (("caption", "caption"), ("filename", "name"), ("mime_type", "mime_type")):
            if isinstance(block.get(source), str):
                media[target] = block[source]
        return {"type": ours, ours: media}
    if kind == "location":
        location = {k: str(block[s]) for s, k in (("latitude", "lat"), ("longitude", "long")) if s in block}
        for key in ("name", "address", "url"):
            if isinstance(block.get(key), str):
                location[key] = block[key]
        return {"type": "location", "location": location}
    if kind == "contacts":
        contacts = item.get("contacts")
        return {"type": "contacts", "contacts": contacts if isinstance(contacts, list) else []}
    if kind == "button":
        return {"type": "button", "button": {k: str(block[k]) for k in ("payload", "text") if k in block}}
    if kind == "interactive":
        reply_type = block.get("type")
        reply = block.get(reply_type) if isinstance(reply_type, str) and isinstance(block.get(reply_type), dict) else {}
        out = {k: str(reply[k]) for k in ("id", "title", "description") if k in reply}
        return {"type": "reply", "reply": out, "reply_type": str(reply_type or "")}
    if kind == "reaction":
        emoji = block.get("emoji")
        reaction = {"action": "react" if emoji else "unreact", "message_id": str(block.get("message_id") or "")}
        if emoji:
            reaction["emoji"] = str(emoji)
        return {"type": "reaction", "reaction": reaction}
    if kind == "order":
        return {"type": "order", "order": block}
    return {"type": "unsupported", "provider_type": str(kind or "")[:40]}


def _time(item: dict[str, Any], path: str, fallback: float) -> float:
    value = item.get("timestamp")
    if value is None:
        return fallback
    try:
        return float(int(str(value)))
    except ValueError:
        raise malformed(f"{path}.timestamp", "must be epoch seconds") from None
