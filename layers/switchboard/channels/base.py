"""The contract between the sender and the channel adapters, and helpers to build send results."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from switchboard.domain.error_codes import REASONS
from switchboard.domain.message import Channel, OutboundMessage

THROTTLED = 1000
INVALID_PARAMS = 1020
INTERNAL_ERROR = 1030
INVALID_MESSAGE = 1040
COMMUNICATION_FAILED = 1100
ILLEGAL_SENDER = 1120

_MAX_DETAIL_CHARS = 300


class SendOutcome(str, Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETRY = "retry"


@dataclass(frozen=True)
class SendResult:
    """What one send attempt achieved.

    ``provider_message_id``: for ACCEPTED, the Messenger ``message_id``, the Viber ``message_token``
    (as a string) or the SMS ``message-id``.
    ``error_code``: for REJECTED, the Nexmo asynchronous code; for RETRY, the code to report if this
    was the last attempt (1000 throttled or 1100 communication failed).
    ``error_reason``: the code's reason text, optionally followed by provider detail (never secrets).
    """

    outcome: SendOutcome
    provider_message_id: str | None = None
    error_code: int | None = None
    error_reason: str | None = None


class ChannelAdapter(Protocol):
    channel: Channel

    def send(self, message: OutboundMessage, message_uuid: str, config: dict) -> SendResult:
        """Send ``message`` through the provider. ``config`` is the whole channels configuration."""
        ...


def accepted(provider_message_id: str | None) -> SendResult:
    return SendResult(SendOutcome.ACCEPTED, provider_message_id=provider_message_id)


def rejected(code: int, detail: str | None = None) -> SendResult:
    return SendResult(SendOutcome.REJECTED, error_code=code, error_reason=reason(code, detail))


def retry(code: int, detail: str | None = None) -> SendResult:
    return SendResult(SendOutcome.RETRY, error_code=code, error_reason=reason(code, detail))


def reason(code: int, detail: str | None = None) -> str:
    """``<reason of the code>: <detail>``, without saying the reason twice when the provider's text repeats it
    (SMS status 7 "Number Barred" is ``Number barred: status 7``, not ``Number barred: status 7 Number Barred``)."""
    text = REASONS.get(code, "Unknown")
    if detail and detail.lower().endswith(text.lower()):
        detail = detail[: len(detail) - len(text)].strip()
    if detail:
        text = f"{text}: {detail}"
    return text[:_MAX_DETAIL_CHARS]


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced, for provider messages that may echo a credential."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
