"""What provider webhooks mean, independent of the provider: the ingestion parsers produce these,
the status state machine and the inbound pipeline consume them."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from switchboard.domain.message import Channel, Endpoint


@dataclass(frozen=True)
class StatusReceipt:
    """A delivery report for one message, found by the provider's message id."""

    channel: Channel
    provider_message_id: str
    status: str  # delivered | read | rejected | undeliverable
    occurred_at: float  # epoch seconds, as the provider reported it (or when received)
    error: dict[str, Any] | None = None  # {"code": int, "reason": str} for rejected/undeliverable
    # Our own reference echoed by the provider (SMS ``client-ref``: the message uuid), when it has one.
    client_ref: str | None = None

    @property
    def provider_ref(self) -> str:
        """The ProviderRefIndex key the sender wrote: ``<channel>#<provider message id>``."""
        return f"{self.channel.value}#{self.provider_message_id}"


@dataclass(frozen=True)
class WatermarkReceipt:
    """Messenger: every message the page sent to the user before ``watermark_ms`` is delivered/read."""

    page_id: str
    psid: str
    status: str  # delivered | read
    watermark_ms: int
    occurred_at: float

    @property
    def conversation(self) -> str:
        """The ConversationIndex key the sender wrote: ``messenger#<page id>#<psid>``."""
        return conversation_key(self.page_id, self.psid)


def conversation_key(page_id: str, psid: str) -> str:
    return f"{Channel.MESSENGER.value}#{page_id}#{psid}"


@dataclass(frozen=True)
class InboundMessage:
    """A message a customer's user sent to one of the customer's pages, services or numbers."""

    channel: Channel
    sender: Endpoint  # the user (PSID or phone number)
    recipient: Endpoint  # the customer's page / service / number
    content: dict[str, Any]  # protocols.md 3.2 content: {"type": "text", "text": ...} / {"type": "image", "image": {"url"}} / {"type": "location", "location": {...}}
    occurred_at: float
    provider_message_id: str | None = None  # for de-duplicating provider retries
    extra: dict[str, Any] = field(default_factory=dict)
