"""WhatsApp business numbers in the channels secret, and the Cloud API calls the API makes for a
customer (marking a message read, downloading inbound media), as a port the composition fills."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.domain.sending import SendResult


def business_number(section: Mapping[str, Any], display_number: str) -> tuple[str, str] | None:
    """``(phone number id, access token)`` of a configured business number, else None."""
    numbers = section.get("numbers") or {}
    entry = numbers.get(display_number) if isinstance(numbers, Mapping) else None
    if not isinstance(entry, Mapping):
        return None
    phone_number_id, token = entry.get("phone_number_id"), entry.get("access_token")
    if not phone_number_id or not token:
        return None
    return str(phone_number_id), str(token)


def display_number_of(section: Mapping[str, Any], phone_number_id: str) -> str | None:
    """The configured business number whose phone number id is ``phone_number_id``."""
    numbers = section.get("numbers") or {}
    if not isinstance(numbers, Mapping):
        return None
    return next(
        (str(number) for number, entry in numbers.items()
         if isinstance(entry, Mapping) and str(entry.get("phone_number_id")) == phone_number_id),
        None,
    )


@dataclass(frozen=True)
class Media:
    content: bytes
    mime_type: str


class MediaUnavailable(Exception):
    """The Cloud API did not give the media (unknown or expired id, refused token, no answer, too large)."""


class CloudApi(Protocol):
    def mark_read(
        self, section: Mapping[str, Any], business: str, provider_message_id: str, message_uuid: str, typing: bool = False
    ) -> SendResult: ...

    def fetch_media(self, section: Mapping[str, Any], business: str, media_id: str, max_bytes: int) -> Media: ...
