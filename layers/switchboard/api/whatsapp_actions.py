"""WhatsApp calls the API makes for a customer: marking an inbound message read, and serving an
inbound media item.

``PATCH /v1/messages/{message_uuid}`` with ``{"status": "read"}`` (the SDK's
``mark_whatsapp_message_read``; ``replying_indicator: {"show": true}`` also shows the typing
indicator) marks an inbound WhatsApp message read at the Cloud API: 200 with no body. Only the
owning account sees the message (404 as for an unknown id otherwise); an outbound or non-WhatsApp
message is a 422.

``GET /v1/whatsapp/media/{number}/{media_id}`` (the ``url`` of an inbound media message) downloads
the item with the business number's token and returns its bytes: only an account the number is
linked to may fetch it (404 otherwise). The Cloud API's own URL needs that token and expires within
minutes, so customers never see it.

Either answers 502 (``<API URL>/docs/errors#whatsapp-provider-failed``) when the Cloud API refuses or
does not answer; nothing changes here, and the call can be repeated.
"""
from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from switchboard.domain.errors import InvalidParameter, NotFound, ProviderCallFailed, ValidationFailed
from switchboard.domain.message import Channel, Principal
from switchboard.domain.sending import SendOutcome
from switchboard.domain.whatsapp_cloud import CloudApi, Media, MediaUnavailable
from switchboard.observability import logger

READ = "read"
# A Lambda response is at most 6 MB, and the body goes out base64 encoded (4/3 larger).
MAX_MEDIA_BYTES = 4 * 1024 * 1024


class Records(Protocol):
    def get(self, message_uuid: str) -> dict[str, Any] | None: ...


class SenderLinks(Protocol):
    def is_linked_to(self, api_key: str, channel: Channel, address: str) -> bool: ...


def parse_status_update(body: Any) -> bool:
    """The PATCH body: ``{"status": "read", "replying_indicator"?: {"show": bool}}``; whether to show typing."""
    if not isinstance(body, dict):
        raise ValidationFailed([InvalidParameter("body", "must be a JSON object")])
    problems = []
    if body.get("status") != READ:
        problems.append(InvalidParameter("status", "must be read (the only status a WhatsApp message can be given)"))
    indicator = body.get("replying_indicator")
    show = False
    if indicator is not None:
        if not isinstance(indicator, dict) or not isinstance(indicator.get("show"), bool):
            problems.append(InvalidParameter("replying_indicator.show", "must be a boolean"))
        else:
            show = indicator["show"]
    if problems:
        raise ValidationFailed(problems)
    return show


def mark_read(
    records: Records,
    channels_config: Callable[[], Mapping[str, Any]],
    cloud: CloudApi,
    message_uuid: str,
    principal: Principal,
    body: Any,
) -> None:
    typing = parse_status_update(body)
    record = _owned(records, message_uuid, principal)
    if record.get("channel") != Channel.WHATSAPP.value or record.get("direction") != "inbound":
        raise ValidationFailed([InvalidParameter(
            "status", "only inbound WhatsApp messages can be marked read; this message is not one"
        )])
    provider_id = record.get("provider_message_id")
    business = (record.get("to") or {}).get("number") or ""
    section = channels_config().get("whatsapp") or {}
    result = cloud.mark_read(section, business, str(provider_id or ""), record["message_uuid"], typing)
    if result.outcome is not SendOutcome.ACCEPTED:
        logger.warning("whatsapp read mark failed", extra={"message_uuid": record["message_uuid"],
                                                           "outcome": result.outcome.value, "code": result.error_code})
        raise ProviderCallFailed(f"WhatsApp did not mark the message read: {result.error_reason}")
    logger.info("whatsapp message marked read", extra={"message_uuid": record["message_uuid"]})


def media(
    links: SenderLinks,
    channels_config: Callable[[], Mapping[str, Any]],
    cloud: CloudApi,
    principal: Principal,
    number: str,
    media_id: str,
) -> Media:
    not_found = NotFound("No such media item.")
    if not (number.isdigit() and media_id.isdigit()):
        raise not_found
    if not links.is_linked_to(principal.api_key, Channel.WHATSAPP, number):
        raise not_found
    try:
        return cloud.fetch_media(channels_config().get("whatsapp") or {}, number, media_id, MAX_MEDIA_BYTES)
    except MediaUnavailable as exc:
        logger.warning("whatsapp media not served", extra={"number": number, "reason": str(exc)})
        raise ProviderCallFailed(f"WhatsApp did not give the media item: {exc}") from None


def _owned(records: Records, message_uuid: str, principal: Principal) -> dict[str, Any]:
    not_found = NotFound(f"Message {message_uuid} was not found.")
    try:
        canonical = str(uuid.UUID(message_uuid))
    except ValueError:
        raise not_found from None
    record = records.get(canonical)
    if record is None or record.get("api_key") != principal.api_key:
        raise not_found
    return record
