"""Applying parsed provider events, in the order the provider sent them.

The first failure (our storage or queue) stops the batch and propagates, so the webhook answers
500 and the provider resends the whole body. Re-applying the events before the failure is safe:
the status state machine reports repeats as ``duplicate`` and inbound messages are de-duplicated.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from switchboard.domain.message import Channel
from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt
from switchboard.metric_catalog import emit
from switchboard.observability import logger
from switchboard.receipts.receipt_ports import Effect, InboundAcceptor, ProviderEvent, StatusUpdates

UNKNOWN_MESSAGE = "unknown_message"
APPLIED = "applied"
TRANSITION = "transition"


class Ingestion:
    def __init__(self, statuses: StatusUpdates, inbound: InboundAcceptor) -> None:
        self.statuses = statuses
        self.inbound = inbound

    def apply(self, events: Iterable[ProviderEvent]) -> Counter[str]:
        """Apply every event; the count of each effect (``receipt:applied``, ``inbound:accepted``, ...) and
        of each status change (``transition:<channel>:<status>``)."""
        effects: Counter[str] = Counter()
        for event in events:
            if isinstance(event, StatusReceipt):
                result = self.statuses.apply_receipt(event)
                effect = effect_name(result)
                effects[f"receipt:{effect}"] += 1
                effects.update(_transition(event.channel.value, result))
                _log_receipt(event, effect)
            elif isinstance(event, WatermarkReceipt):
                results = self.statuses.apply_watermark(event)
                for result in results:
                    effects[f"watermark:{effect_name(result)}"] += 1
                    effects.update(_transition(Channel.MESSENGER.value, result))
                logger.info(
                    "messenger watermark applied",
                    extra={"status": event.status, "watermark_ms": event.watermark_ms, "messages": len(results)},
                )
            elif isinstance(event, InboundMessage):
                effects[f"inbound:{effect_name(self.inbound.accept(event))}"] += 1
        return effects


def _transition(channel: str, result: Effect) -> Counter[str]:
    """``transition:<channel>:<status>`` once when the event changed the message's status."""
    if effect_name(result) != APPLIED or not getattr(result, "status", None):
        return Counter()
    return Counter({f"{TRANSITION}:{channel}:{result.status}": 1})


def effect_name(result: Effect) -> str:
    """``result.effect`` as plain text, whether the service gives a string or a string-valued Enum."""
    return str(getattr(result.effect, "value", result.effect))


def _log_receipt(receipt: StatusReceipt, effect: str) -> None:
    details = {
        "channel": receipt.channel.value,
        "provider_ref": receipt.provider_ref,
        "status": receipt.status,
        "effect": effect,
    }
    if effect == UNKNOWN_MESSAGE:
        logger.info("receipt for an unknown message ignored", extra=details)
    else:
        logger.info("receipt applied", extra=details)


def emit_metrics(provider: str, effects: Counter[str]) -> None:
    """EMF documents (``switchboard.metric_catalog``): a count per effect with dimension ``provider``, and
    ``status_transition`` per channel and new status."""
    per_provider: dict[str, float] = {}
    for name, value in sorted(effects.items()):
        kind, _, rest = name.partition(":")
        if kind == TRANSITION:
            channel, _, status = rest.partition(":")
            emit({"status_transition": value}, {"channel": channel, "status": status})
        else:
            per_provider[name.replace(":", "_")] = value
    if per_provider:
        emit(per_provider, {"provider": provider})
