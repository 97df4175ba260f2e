"""What the sender needs from the outside world, as protocols, so tests can inject fakes.

The channel adapters' contract is ``switchboard.domain.sending.ChannelAdapter``.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from switchboard.domain.message import Channel
from switchboard.domain.message_record import ClaimAttempt
from switchboard.domain.sending import ChannelAdapter

T = TypeVar("T")

AdapterLookup = Callable[[Channel], ChannelAdapter]


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
        part_refs: tuple[str, ...] = (),
        part_count: int = 1,
        network_code: str | None = None,
    ) -> dict[str, Any]: ...

    def mark_rejected(self, message_uuid: str, claim_token: str, err: dict[str, Any]) -> dict[str, Any]: ...

    def release_for_retry(
        self,
        message_uuid: str,
        claim_token: str,
        attempt: int,
        err: dict[str, Any],
        retry_in_seconds: int,
        maybe_sent: bool = False,
    ) -> None: ...

    def hold_unknown(
        self, message_uuid: str, claim_token: str, err: dict[str, Any], unknown_until: int, abandoned: bool = False
    ) -> dict[str, Any]: ...

    def reject_unknown(self, message_uuid: str, err: dict[str, Any]) -> dict[str, Any]: ...


class StatusWebhooks(Protocol):
    """``switchboard.notifier.outbox.Outbox``: the final writes decide a webhook; this queues it."""

    def publish(self, record: dict[str, Any], marker: str) -> None: ...

    def publish_together(self, decided: Sequence[tuple[dict[str, Any], str]]) -> set[int]: ...

    def republish(self, record: dict[str, Any], marker: str) -> Any: ...


class DecidedWebhooks(Protocol):
    """``switchboard.sender.webhook_batch.WebhookBatch``: a batch's decided webhooks, queued once it is handled."""

    def publish(self, record: dict[str, Any], marker: str) -> None: ...


class TransactionContacts(Protocol):
    def record_transaction_contact(self, service_id: str, number: str) -> None: ...


class RedeliveryDelay(Protocol):
    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None: ...


class OutcomeRecorder(Protocol):
    def count(self, channel: str, outcome: str, error_code: int | str | None = None) -> None: ...

    def timed(self, channel: str, call: Callable[..., T], *args: Any) -> T: ...

    def flush(self) -> None: ...
