"""The webhook function's services in memory: status receipts, inbound messages, and the inbound intake."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt

KNOWN_PROVIDER_IDS = frozenset({"m_known", "5741311803571721087", "0A0000001234567B"})


@dataclass(frozen=True)
class Result:
    effect: str


@dataclass
class FakeStatuses:
    """The status service: a receipt for a provider id in ``known`` is applied, others are unknown."""

    known: set[str] = field(default_factory=lambda: set(KNOWN_PROVIDER_IDS))
    receipts: list[StatusReceipt] = field(default_factory=list)
    watermarks: list[WatermarkReceipt] = field(default_factory=list)
    fail: bool = False  # every receipt raises, with text that must never reach a response

    def apply_receipt(self, receipt: StatusReceipt) -> Result:
        if self.fail:
            raise RuntimeError("ProvisionedThroughputExceededException for message 'secret text'")
        self.receipts.append(receipt)
        return Result("applied" if receipt.provider_message_id in self.known else "unknown_message")

    def apply_watermark(self, receipt: WatermarkReceipt) -> list[Result]:
        self.watermarks.append(receipt)
        return [Result("applied"), Result("duplicate")]


@dataclass
class FakeWindows:
    """The WhatsApp service windows: records every inbound message's (business number, customer, time)."""

    recorded: list[tuple[str, str, float]] = field(default_factory=list)

    def record_inbound(self, business_number: str, customer_number: str, occurred_at: float) -> bool:
        self.recorded.append((business_number, customer_number, occurred_at))
        return True


@dataclass
class FakeReplies:
    """Replied messages: ``known`` maps a (business number, customer, wamid) to our message uuid."""

    known: dict[tuple[str, str, str], str] = field(default_factory=dict)

    def message_uuid(self, business_number: str, customer_number: str, provider_message_id: str) -> str | None:
        return self.known.get((business_number, customer_number, provider_message_id))


@dataclass
class FakeInbound:
    """The inbound service: accepts every message."""

    accepted: list[InboundMessage] = field(default_factory=list)

    def accept(self, inbound: InboundMessage) -> Result:
        self.accepted.append(inbound)
        return Result("accepted")


class IntakeEffect(str, Enum):  # the real intake answers with a str-valued Enum
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class IntakeResult:
    effect: IntakeEffect
    message_uuid: str | None


class FakeIntake:
    """The inbound intake: records by de-duplication key, as ``InboundIntake`` does."""

    def __init__(self) -> None:
        self.received: list[tuple[InboundMessage, str, str | None, str | None]] = []
        self.by_key: dict[str, str] = {}
        self.fail = False
        self.webhook_versions: list[str | None] = []

    def receive(
        self,
        inbound: InboundMessage,
        api_key: str,
        application_id: str | None,
        dedupe_key: str | None,
        webhook_version: str | None = None,
    ) -> IntakeResult:
        self.webhook_versions.append(webhook_version)
        if self.fail:
            raise RuntimeError("DynamoDB is down")
        self.received.append((inbound, api_key, application_id, dedupe_key))
        if dedupe_key is not None and dedupe_key in self.by_key:
            return IntakeResult(IntakeEffect.DUPLICATE, self.by_key[dedupe_key])
        message_uuid = f"uuid-{len(self.received)}"
        if dedupe_key is not None:
            self.by_key[dedupe_key] = message_uuid
        return IntakeResult(IntakeEffect.ACCEPTED, message_uuid)

    @property
    def owners(self) -> list[tuple[str, str | None]]:
        return [(api_key, application_id) for _, api_key, application_id, _ in self.received]
