"""What the sender needs from the outside world, as protocols, so tests can inject fakes.

The channel adapters' types (``switchboard.channels.base``) are matched structurally: the sender
reads ``result.outcome`` by member name, so this package does not import the channels package at
load time and the production wiring can import it lazily.
"""
from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any, Protocol

from switchboard.domain.message import Channel, OutboundMessage
from switchboard.store.messages import ClaimAttempt


class Outcome(str, Enum):
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    RETRY = "RETRY"


class SendResultLike(Protocol):
    outcome: Any  # switchboard.channels.base.SendOutcome
    provider_message_id: str | None
    error_code: int | None
    error_reason: str | None


class ChannelAdapter(Protocol):
    def send(self, message: OutboundMessage, message_uuid: str, config: dict) -> SendResultLike: ...


AdapterLookup = Callable[[Channel], ChannelAdapter]


def outcome_of(result: SendResultLike) -> Outcome:
    """The sender's view of ``result.outcome`` (a ``SendOutcome`` member, or its name)."""
    raw = result.outcome
    name = raw.name if isinstance(raw, Enum) else str(raw)
    return Outcome(name.upper())


class MessageRecords(Protocol):
    def claim(self, message_uuid: str, claim_token: str, lease_expires_at: int) -> ClaimAttempt: ...

    def take_over(
        self, message_uuid: str, expired_token: str, claim_token: str, lease_expires_at: int
    ) -> dict[str, Any]: ...

    def reject_abandoned(self, message_uuid: str, expired_token: str, err: dict[str, Any]) -> dict[str, Any]: ...

    def mark_submitted(
        self,
        message_uuid: str,
        claim_token: str,
        provider_message_id: str | None,
        provider_ref: str | None,
        conversation: str | None = None,
        sent_at_ms: int | None = None,
    ) -> dict[str, Any]: ...

    def mark_rejected(self, message_uuid: str, claim_token: str, err: dict[str, Any]) -> dict[str, Any]: ...

    def release_for_retry(
        self, message_uuid: str, claim_token: str, attempt: int, err: dict[str, Any], retry_in_seconds: int
    ) -> None: ...


class StatusWebhooks(Protocol):
    """``switchboard.notifications.outbox.Outbox``: the final writes mark a webhook pending; this queues it."""

    def publish(self, record: dict[str, Any], marker: str) -> None: ...

    def republish(self, message_uuid: str, marker: str) -> Any: ...


class TransactionContacts(Protocol):
    def record_transaction_contact(self, service_id: str, number: str) -> None: ...


class RedeliveryDelay(Protocol):
    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None: ...


class OutcomeRecorder(Protocol):
    def count(self, channel: str, outcome: str) -> None: ...

    def flush(self) -> None: ...
