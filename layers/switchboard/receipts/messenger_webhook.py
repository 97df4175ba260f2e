"""Facebook Messenger webhooks (protocols.md 5.1): the subscription handshake, the signature and the events.

Events, per ``entry[].messaging[]`` item (an entry without ``messaging`` is skipped):

- ``message``: one ``InboundMessage`` for its text, then one per usable attachment, in that order
  (image, audio, video, file with ``payload.url``; location with ``payload.coordinates``). Other
  attachment types (fallback, template, ...) and media without a URL are skipped. When a message
  gives several, each carries ``extra["part_index"]`` so provider retries de-duplicate per part.
  Echoes (``is_echo``) are ignored.
- ``delivery``: a delivered ``StatusReceipt`` per ``mids`` entry and a delivered ``WatermarkReceipt``
  for ``watermark`` (both when both are present).
- ``read``: a read ``WatermarkReceipt``.
- anything else (postback, optin, referral, reaction, ...): ignored.

A body whose ``object`` is not ``page`` is ignored. Structural problems (an entry, item, sender,
recipient, mid or watermark of the wrong type) make the whole body malformed: nothing is applied.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any, Callable

from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt
from switchboard.receipts.inbound_routing import PART_INDEX
from switchboard.observability import logger
from switchboard.receipts.webhook_fields import (
    as_id,
    as_int,
    as_list,
    as_object,
    as_text,
    malformed,
    parse_json_object,
)
from switchboard.receipts.receipt_ports import ProviderEvent
from switchboard.receipts.sms_signature import constant_time_equal

SUBSCRIBE = "subscribe"
MODE_PARAM = "hub.mode"
VERIFY_TOKEN_PARAM = "hub.verify_token"
CHALLENGE_PARAM = "hub.challenge"
SIGNATURE_256_HEADER = "x-hub-signature-256"
SIGNATURE_SHA1_HEADER = "x-hub-signature"
PAGE_OBJECT = "page"
MEDIA_TYPES = ("image", "audio", "video", "file")
ENDPOINT_TYPE = Channel.MESSENGER.value


def handshake_challenge(params: Mapping[str, str], verify_token: str) -> str | None:
    """The ``hub.challenge`` to echo when this is a subscribe handshake with our token, else None (403).

    A correct handshake without a challenge is malformed (400).
    """
    if not verify_token or params.get(MODE_PARAM) != SUBSCRIBE:
        return None
    presented = params.get(VERIFY_TOKEN_PARAM)
    if presented is None or not constant_time_equal(verify_token, presented):
        return None
    challenge = params.get(CHALLENGE_PARAM)
    if not challenge:
        raise malformed(CHALLENGE_PARAM, "is required")
    return challenge


def signature_valid(headers: Mapping[str, str], body: bytes, app_secret: str) -> bool:
    """``X-Hub-Signature-256`` (HMAC-SHA256), or ``X-Hub-Signature`` (HMAC-SHA1) only when the former is absent.

    ``headers``: case-insensitive (the event's) or with lower-case names. Without an app secret nothing
    can be verified: always False.
    """
    if not app_secret:
        return False
    header = headers.get(SIGNATURE_256_HEADER)
    if header is not None:
        return _signed_with(header, "sha256", hashlib.sha256, body, app_secret)
    header = headers.get(SIGNATURE_SHA1_HEADER)
    if header is not None:
        return _signed_with(header, "sha1", hashlib.sha1, body, app_secret)
    return False


def _signed_with(header: str, scheme: str, digest: Callable[..., Any], body: bytes, secret: str) -> bool:
    given_scheme, separator, given = header.strip().partition("=")
    if not separator or given_scheme.strip().lower() != scheme:
        return False
    expected = hmac.new(secret.encode("utf-8"), body, digest).hexdigest()
    return constant_time_equal(expected, given.strip().lower())


def parse_events(body: bytes, now: float) -> list[ProviderEvent]:
    """Every event of a webhook body, in order; ``now`` dates events that carry no time of their own."""
    data = parse_json_object(body)
    if data.get("object") != PAGE_OBJECT:
        logger.info("messenger webhook for another object ignored", extra={"object": str(data.get("object"))[:40]})
        return []
    events: list[ProviderEvent] = []
    for i, raw_entry in enumerate(as_list(data.get("entry"), "entry")):
        entry = as_object(raw_entry, f"entry[{i}]")
        messaging = entry.get("messaging")
        if messaging is None:
            continue
        for j, raw_item in enumerate(as_list(messaging, f"entry[{i}].messaging")):
            path = f"entry[{i}].messaging[{j}]"
            events.extend(_events_of(as_object(raw_item, path), path, now))
    return events


def _events_of(item: dict[str, Any], path: str, now: float) -> list[ProviderEvent]:
    if "message" in item:
        return _message(item, path, now)
    if "delivery" in item:
        return _delivery(item, path, now)
    if "read" in item:
        return _read(item, path, now)
    return []


def _message(item: dict[str, Any], path: str, now: float) -> list[ProviderEvent]:
    message = as_object(item["message"], f"{path}.message")
    if message.get("is_echo") is True:
        return []
    psid, page_id = _participants(item, path)
    mid = as_id(message.get("mid"), f"{path}.message.mid")
    occurred_at = _event_time(item, path, fallback=now)

    contents: list[dict[str, Any]] = []
    text = message.get("text")
    if text is not None and as_text(text, f"{path}.message.text"):
        contents.append({"type": "text", "text": text})
    attachments = message.get("attachments")
    if attachments is not None:
        for k, raw in enumerate(as_list(attachments, f"{path}.message.attachments")):
            content = _attachment_content(as_object(raw, f"{path}.message.attachments[{k}]"))
            if content is not None:
                contents.append(content)

    several = len(contents) > 1
    return [
        InboundMessage(
            channel=Channel.MESSENGER,
            sender=Endpoint(ENDPOINT_TYPE, id=psid),
            recipient=Endpoint(ENDPOINT_TYPE, id=page_id),
            content=content,
            occurred_at=occurred_at,
            provider_message_id=mid,
            extra={PART_INDEX: index} if several else {},
        )
        for index, content in enumerate(contents)
    ]


def _attachment_content(attachment: dict[str, Any]) -> dict[str, Any] | None:
    kind = attachment.get("type")
    payload = attachment.get("payload") if isinstance(attachment.get("payload"), dict) else {}
    if kind in MEDIA_TYPES:
        url = payload.get("url")
        if isinstance(url, str) and url:
            return {"type": kind, kind: {"url": url}}
    elif kind == "location":
        location = _location(attachment, payload)
        if location is not None:
            return {"type": "location", "location": location}
    logger.info("messenger attachment skipped", extra={"attachment_type": str(kind)[:40]})
    return None


def _location(attachment: dict[str, Any], payload: dict[str, Any]) -> dict[str, str] | None:
    coordinates = payload.get("coordinates")
    if not isinstance(coordinates, dict):
        return None
    lat, long = _coordinate(coordinates.get("lat")), _coordinate(coordinates.get("long"))
    if lat is None or long is None:
        return None
    location = {"lat": lat, "long": long}
    url = attachment.get("url") or payload.get("url")
    if isinstance(url, str) and url:
        location["url"] = url
    return location


def _coordinate(value: Any) -> str | None:
    """A coordinate as the Messages API writes it: a string (``repr`` keeps every digit FB sent)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str) and value.strip():
        try:
            float(value)
        except ValueError:
            return None
        return value.strip()
    return None


def _delivery(item: dict[str, Any], path: str, now: float) -> list[ProviderEvent]:
    delivery = as_object(item["delivery"], f"{path}.delivery")
    psid, page_id = _participants(item, path)
    watermark = delivery.get("watermark")
    if watermark is not None:
        watermark = as_int(watermark, f"{path}.delivery.watermark")
    occurred_at = _event_time(item, path, fallback=watermark / 1000 if watermark is not None else now)

    events: list[ProviderEvent] = []
    mids = delivery.get("mids")
    if mids is not None:
        for k, mid in enumerate(as_list(mids, f"{path}.delivery.mids")):
            provider_id = as_id(mid, f"{path}.delivery.mids[{k}]")
            events.append(StatusReceipt(Channel.MESSENGER, provider_id, "delivered", occurred_at))
    if watermark is not None:
        events.append(WatermarkReceipt(page_id, psid, "delivered", watermark, occurred_at))
    return events


def _read(item: dict[str, Any], path: str, now: float) -> list[ProviderEvent]:
    read = as_object(item["read"], f"{path}.read")
    psid, page_id = _participants(item, path)
    watermark = as_int(read.get("watermark"), f"{path}.read.watermark")
    occurred_at = _event_time(item, path, fallback=watermark / 1000)
    return [WatermarkReceipt(page_id, psid, "read", watermark, occurred_at)]


def _participants(item: dict[str, Any], path: str) -> tuple[str, str]:
    """(PSID, page id): the user is the sender of every event the page receives."""
    sender = as_object(item.get("sender"), f"{path}.sender")
    recipient = as_object(item.get("recipient"), f"{path}.recipient")
    return as_id(sender.get("id"), f"{path}.sender.id"), as_id(recipient.get("id"), f"{path}.recipient.id")


def _event_time(item: dict[str, Any], path: str, fallback: float) -> float:
    timestamp = item.get("timestamp")
    if timestamp is None:
        return fallback
    return as_int(timestamp, f"{path}.timestamp") / 1000
