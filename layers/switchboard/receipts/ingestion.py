"""Applying parsed provider events, in the order the provider sent them.

The first failure (our storage or queue) stops the batch and propagates, so the webhook answers
500 and the provider resends the whole body. Re-applying the events before the failure is safe:
the status state machine reports repeats as ``duplicate`` and inbound messages are de-duplicated.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from aws_lambda_powertools.metrics import MetricUnit

from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt
from switchboard.observability import logger, new_metrics
from switchboard.receipts.receipt_ports import Effect, InboundAcceptor, ProviderEvent, StatusUpdates

UNKNOWN_MESSAGE = "unknown_message"


class Ingestion:
    def __init__(self, statuses: StatusUpdates, inbound: InboundAcceptor) -> None:
        self.statuses = statuses
        self.inbound = inbound

    def apply(self, events: Iterable[ProviderEvent]) -> Counter[str]:
        """Apply every event; the count of each effect (``receipt:applied``, ``inbound:accepted``, ...)."""
        effects: Counter[str] = Counter()
        for event in events:
            if isinstance(event, StatusReceipt):
                effect = effect_name(self.statuses.apply_receipt(event))
                effects[f"receipt:{effect}"] += 1
                _log_receipt(event, effect)
            elif isinstance(event, WatermarkReceipt):
                results = self.statuses.apply_watermark(event)
                for result in results:
                    effects[f"watermark:{effect_name(result)}"] += 1
                logger.info(
                    "messenger watermark applied",
                    extra={"status": event.status, "watermark_ms": event.watermark_ms, "messages": len(results)},
                )
            elif isinstance(event, InboundMessage):
                effects[f"inbound:{effect_name(self.inbound.accept(event))}"] += 1
        return effects


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
    """One EMF document per request, dimension ``provider``: a count per effect."""
    if not effects:
        return
    try:
        emf = new_metrics()
        emf.add_dimension(name="provider", value=provider)
        for name, value in sorted(effects.items()):
            emf.add_metric(name=name.replace(":", "_"), unit=MetricUnit.Count, value=value)
        emf.flush_metrics()
    except Exception:  # metrics must never fail a webhook the provider would then resend
        logger.warning("webhook metrics not emitted", exc_info=True)
