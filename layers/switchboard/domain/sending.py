"""The one contract between the sender and the channel adapters: what a send achieved, and how.

An adapter turns one ``OutboundMessage`` into one provider request and reads the reply as a
``SendResult``; the sender records it. What the sender must do differently per channel is an
adapter capability (``abandoned_send``, ``contact_after_submit``), not a test of the channel name.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from switchboard.domain.error_codes import ALREADY_SENT, INTERNAL_ERROR, REASONS, error
from switchboard.domain.message import Channel, OutboundMessage

_MAX_DETAIL_CHARS = 300
# Every final status of a message whose provider outcome stayed unknown: rejected 1030 with this
# reason prefix (docs/errors.md), so a customer can tell it from a certain failure.
OUTCOME_UNKNOWN_PREFIX = "Internal error: outcome unknown"


def outcome_unknown_error(detail: str) -> dict[str, Any]:
    """The ``error`` of a message rejected because its outcome is unknown; ``detail`` says why."""
    return error(INTERNAL_ERROR, f"{OUTCOME_UNKNOWN_PREFIX}: {detail}; it was not sent again"[:_MAX_DETAIL_CHARS])


class SendOutcome(str, Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RETRY = "retry"  # the provider certainly did not take the request: sending again cannot duplicate
    # The request may have reached the provider and been accepted, but its answer was lost (read
    # timeout, connection reset while reading, a 5xx that can follow an acceptance). What the sender
    # does about it is the adapter's ``abandoned_send`` capability.
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class SendResult:
    """What one send attempt achieved.

    ``provider_message_id``: for ACCEPTED, the Messenger ``message_id``, the Viber ``message_token``
    (as a string) or the SMS ``message-id``.
    ``error_code``: for REJECTED, the Nexmo asynchronous code; for RETRY and UNKNOWN, the code to
    report if this was the last attempt (1000 throttled or 1100 communication failed).
    ``error_reason``: the code's reason text, optionally followed by provider detail (never secrets).
    """

    outcome: SendOutcome
    provider_message_id: str | None = None
    error_code: int | None = None
    error_reason: str | None = None
    # A long SMS split by the provider: how many parts, the provider ids of the parts after the
    # first (each gets its own receipts), and the destination network it named (MCCMNC).
    part_count: int = 1
    part_message_ids: tuple[str, ...] = ()
    network_code: str | None = None
    # RETRY only: the provider asked us to wait this long (HTTP 429 ``Retry-After``) before sending again.
    retry_after_seconds: float | None = None

    @property
    def already_sent(self) -> bool:
        """The provider refused a repeat of this request as a duplicate (so the first one went through)."""
        return self.outcome is SendOutcome.REJECTED and self.error_code == ALREADY_SENT


class AbandonedSend(Enum):
    """What the sender does with a send whose outcome is unknown: its answer was lost
    (``SendOutcome.UNKNOWN``) or its sender died mid-send (the lease expired). Never a silent resend
    on a provider that cannot recognise the repeat.
    """

    RESEND = "resend"  # the provider de-duplicates a repeat (Viber: ``seq`` derived from the uuid)
    # No idempotency key, but the provider's delivery reports carry our reference (SMS: ``client-ref``):
    # hold the message as outcome unknown until a report settles it or the window runs out.
    AWAIT_EVIDENCE = "await_evidence"
    REJECT_UNKNOWN = "reject_unknown"  # no idempotency key, no evidence (Messenger): reject 1030 at once


@dataclass(frozen=True)
class TransactionContact:
    """A Viber service and number that exchanged a transaction message (recorded after the submit)."""

    service_id: str
    number: str


class ChannelAdapter(Protocol):
    channel: Channel
    abandoned_send: AbandonedSend

    def send(self, message: OutboundMessage, message_uuid: str, config: Mapping[str, Any]) -> SendResult:
        """Send ``message`` through the provider. ``config`` is the whole channels configuration."""
        ...

    def contact_after_submit(self, message: OutboundMessage) -> TransactionContact | None:
        """The contact to record once ``message`` is submitted, if the channel keeps one."""
        ...


def accepted(provider_message_id: str | None) -> SendResult:
    return SendResult(SendOutcome.ACCEPTED, provider_message_id=provider_message_id)


def rejected(code: int, detail: str | None = None) -> SendResult:
    return SendResult(SendOutcome.REJECTED, error_code=code, error_reason=reason(code, detail))


def retry(code: int, detail: str | None = None) -> SendResult:
    return SendResult(SendOutcome.RETRY, error_code=code, error_reason=reason(code, detail))


def unknown(code: int, detail: str | None = None) -> SendResult:
    return SendResult(SendOutcome.UNKNOWN, error_code=code, error_reason=reason(code, detail))


def reason(code: int, detail: str | None = None) -> str:
    """``<reason of the code>: <detail>``, without saying the reason twice when the provider's text repeats it
    (SMS status 7 "Number Barred" is ``Number barred: status 7``, not ``Number barred: status 7 Number Barred``)."""
    text = REASONS.get(code, "Unknown")
    if detail and detail.lower().endswith(text.lower()):
        detail = detail[: len(detail) - len(text)].strip()
    if detail:
        text = f"{text}: {detail}"
    return text[:_MAX_DETAIL_CHARS]
