"""What webhook ingestion needs from the rest of the system, as protocols, so tests can inject fakes.

Production wiring (``switchboard.composition.webhooks_function``) plugs in ``status_machine.StatusService``
and ``inbound_routing.InboundService``; both are matched structurally, never imported here.
Both raise to mean "not done" (our storage or queue failed): the webhook then answers 5xx.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, Union

from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt

ProviderEvent = Union[StatusReceipt, WatermarkReceipt, InboundMessage]


class Effect(Protocol):
    """What applying one event did: ``applied``, ``late``, ``duplicate``, ``unknown_message`` (statuses),
    ``accepted``, ``duplicate``, ``unlinked`` (inbound); a string or a string-valued Enum."""

    effect: Any


class StatusUpdates(Protocol):
    def apply_receipt(self, receipt: StatusReceipt) -> Effect: ...

    def apply_watermark(self, receipt: WatermarkReceipt) -> Sequence[Effect]: ...


class InboundAcceptor(Protocol):
    def accept(self, inbound: InboundMessage) -> Effect: ...


class ServiceWindows(Protocol):
    def record_inbound(self, business_number: str, customer_number: str, occurred_at: float) -> bool: ...


class RepliedMessages(Protocol):
    def message_uuid(self, business_number: str, customer_number: str, provider_message_id: str) -> str | None: ...


class WebhookServices(Protocol):
    """Everything the webhook routes use. Production builds each service on first use, so a
    Messenger handshake, say, builds no status service."""

    @property
    def statuses(self) -> StatusUpdates: ...

    @property
    def inbound(self) -> InboundAcceptor: ...

    @property
    def whatsapp_replies(self) -> RepliedMessages:
        """Our uuid of the message a WhatsApp customer replied to (``receipts.whatsapp_replies``)."""
        ...

    @property
    def viber_allowed_cidrs(self) -> Sequence[str]: ...

    @property
    def whatsapp_windows(self) -> ServiceWindows:
        """Where each inbound WhatsApp message's time is recorded (the 24-hour customer service window)."""
        ...

    @property
    def allow_unsigned_sms(self) -> bool:
        """The AllowUnsignedSmsWebhooks opt-in: SMS webhooks are accepted unsigned while no secret is set."""
        ...

    def channels_config(self) -> Mapping[str, Any]:
        """The channels secret (provider credentials and webhook secrets)."""
        ...
