"""A channel adapter that answers with real ``SendResult``s and records every send."""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from switchboard.adapters.providers.registry import adapter_for as real_adapter_for
from switchboard.domain.message import Channel, OutboundMessage
from switchboard.domain.sending import AbandonedSend, SendOutcome, SendResult, TransactionContact
from switchboard.observability import logger


def accepted(provider_message_id: str) -> SendResult:
    return SendResult(SendOutcome.ACCEPTED, provider_message_id=provider_message_id)


def rejected(code: int, reason: str | None = None) -> SendResult:
    return SendResult(SendOutcome.REJECTED, error_code=code, error_reason=reason)


def retry(code: int) -> SendResult:
    return SendResult(SendOutcome.RETRY, error_code=code, error_reason="transient")


@dataclass
class SendCall:
    message_uuid: str
    channel: Channel
    config: Mapping[str, Any]
    correlation_id: str | None  # the log key the batch set on the sending thread


class FakeAdapter:
    """Answers with ``results`` in turn (the last one repeats); by default accepts with ``pid-<uuid>``.

    ``barrier`` makes concurrent sends meet before answering, ``raises`` makes every send raise,
    ``on_send`` runs inside each send. ``abandoned_send`` and ``contact`` are the adapter's
    capabilities (``switchboard.domain.sending.ChannelAdapter``).
    """

    def __init__(
        self,
        *results: SendResult,
        barrier: threading.Barrier | None = None,
        raises: Exception | None = None,
        on_send: Callable[[], None] | None = None,
        channel: Channel = Channel.MESSENGER,
        abandoned_send: AbandonedSend = AbandonedSend.REJECT_UNKNOWN,
        contact: TransactionContact | None = None,
    ) -> None:
        self.results = list(results)
        self.barrier = barrier
        self.raises = raises
        self.on_send = on_send
        self.channel = channel
        self.abandoned_send = abandoned_send
        self.contact = contact
        self.calls: list[SendCall] = []
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage, message_uuid: str, config: Mapping[str, Any]) -> SendResult:
        with self._lock:
            correlation_id = logger.thread_safe_get_current_keys().get("correlation_id")
            self.calls.append(SendCall(message_uuid, message.channel, config, correlation_id))
            result = self.results.pop(0) if len(self.results) > 1 else (self.results[0] if self.results else None)
        if self.on_send:
            self.on_send()
        if self.barrier:
            self.barrier.wait(timeout=30)
        if self.raises:
            raise self.raises
        return result or accepted(f"pid-{message_uuid}")

    def contact_after_submit(self, message: OutboundMessage) -> TransactionContact | None:
        return self.contact

    def for_channel(self, channel: Channel) -> "ChannelView":
        """The sender's ``adapter_for``: these sends, with the capabilities of the channel's real adapter."""
        return ChannelView(self, real_adapter_for(channel))


class ChannelView:
    """A ``FakeAdapter``'s sends with the capabilities of one channel's real adapter."""

    def __init__(self, fake: FakeAdapter, real: Any) -> None:
        self.channel = real.channel
        self.abandoned_send = real.abandoned_send
        self.contact_after_submit = real.contact_after_submit
        self.send = fake.send
