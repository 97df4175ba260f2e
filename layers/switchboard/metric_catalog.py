"""Every metric Switchboard emits: the one list the code, the dashboard and docs/operations.md follow.

Metrics are CloudWatch embedded metric format (EMF) documents written to the function's log by
Powertools Metrics: no API call, nothing sent at cold start. Namespace ``Switchboard``
(``POWERTOOLS_METRICS_NAMESPACE``); every metric also has the ``service`` dimension, the emitting
function's ``POWERTOOLS_SERVICE_NAME`` (``SERVICES``).

The CloudWatch dashboard in ``template.yaml`` is generated from this list (``python -m
switchboard.dashboard_template``, ``make dashboard``), and ``tests/unit/test_metric_catalog.py``
fails when the template's dashboard differs from what it generates, or when the code emits a
metric this list does not name, so a renamed metric fails a test instead of emptying a graph.

``emit`` writes one EMF document (one log line) with metrics of the list; it refuses (and logs) a
name that is not in it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from switchboard.observability import logger, new_metrics

NAMESPACE = "Switchboard"
COUNT = "Count"
MILLISECONDS = "Milliseconds"
NONE = "None"

# The template's function logical id -> its POWERTOOLS_SERVICE_NAME (the ``service`` dimension).
SERVICES: dict[str, str] = {
    "ApiFunction": "switchboard-api",
    "SenderFunction": "switchboard-sender",
    "WebhooksFunction": "switchboard-webhooks",
    "NotifierFunction": "switchboard-notifier",
    "WorkflowFunction": "switchboard-workflows",
}


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str  # the CloudWatch unit: Count, Milliseconds, None
    dimensions: tuple[str, ...]  # besides ``service``
    function: str  # the template's logical id of the function that emits it
    description: str

    @property
    def service(self) -> str:
        return SERVICES[self.function]


def _effects(prefix: str, effects: tuple[str, ...], what: str) -> tuple[Metric, ...]:
    return tuple(
        Metric(f"{prefix}_{effect}", COUNT, ("provider",), "WebhooksFunction", f"{what}: {effect.replace('_', ' ')}")
        for effect in effects
    )


# Effects of provider events (receipts.status_machine.ReceiptEffect, receipts.inbound_intake.InboundEffect).
WATERMARK_EFFECTS = ("applied", "late", "duplicate", "unknown_message")
RECEIPT_EFFECTS = (*WATERMARK_EFFECTS, "part_delivered")  # parts are SMS only; watermarks are Messenger
INBOUND_EFFECTS = ("accepted", "duplicate", "unlinked")
WEBHOOK_REFUSED = "webhook_refused"

METRICS: tuple[Metric, ...] = (
    Metric("accepted", COUNT, ("channel", "api_version"), "ApiFunction",
           "messages accepted by the API (record written, queued for sending), by channel and API version "
           "(beta, v0.1, v1)"),
    Metric("workflow_started", COUNT, (), "ApiFunction", "failover workflows started"),
    Metric("rate_limited", COUNT, (), "ApiFunction", "requests refused with 429 by the per-account rate limit"),
    Metric("submitted", COUNT, ("channel",), "SenderFunction", "sends the provider accepted"),
    Metric("rejected", COUNT, ("channel",), "SenderFunction",
           "sends that ended rejected (the provider refused, attempts ran out, or the outcome stayed unknown)"),
    Metric("rejected_by_code", COUNT, ("channel", "error_code"), "SenderFunction",
           "rejected sends by the Messages API error code given to the customer (docs/errors.md)"),
    Metric("retried", COUNT, ("channel",), "SenderFunction", "provider attempts that failed transiently and were retried"),
    Metric("outcome_unknown", COUNT, ("channel",), "SenderFunction",
           "sends whose provider answer was lost, held for a delivery receipt (never resent)"),
    Metric("provider_latency", MILLISECONDS, ("channel",), "SenderFunction",
           "time of one provider send call, request to answer (or to the timeout)"),
    *_effects("receipt", RECEIPT_EFFECTS, "provider status receipts"),
    *_effects("watermark", WATERMARK_EFFECTS, "messages a Messenger delivery/read watermark covered"),
    *_effects("inbound", INBOUND_EFFECTS, "inbound messages from providers"),
    Metric(WEBHOOK_REFUSED, COUNT, ("provider", "reason"), "WebhooksFunction",
           "provider webhooks refused with 403 (reason: signature, signature_not_configured, signature_stale, "
           "source, handshake, ...): forged requests, or a secret that does not match the provider's"),
    Metric("status_transition", COUNT, ("channel", "status"), "WebhooksFunction",
           "status changes provider webhooks applied to messages, by the new status (delivered, read, rejected, "
           "undeliverable, ...)"),
    Metric("webhook_delivery", COUNT, ("kind", "outcome"), "NotifierFunction",
           "customer webhook attempts by kind (status, inbound) and outcome (delivered, failed: a retry is "
           "scheduled, gave_up: 24 hours of failures, to the NotifyDLQ, dropped: no usable URL or secret)"),
    Metric("webhook_attempt", NONE, ("kind", "outcome"), "NotifierFunction",
           "the attempt number of each customer webhook attempt (1 = first try): the retry depth"),
)

BY_NAME: dict[str, Metric] = {metric.name: metric for metric in METRICS}


class UnknownMetric(ValueError):
    """A metric name that is not in ``METRICS``: add it there (and regenerate the dashboard)."""


def metric(name: str) -> Metric:
    try:
        return BY_NAME[name]
    except KeyError:
        raise UnknownMetric(f"metric {name!r} is not in switchboard.metric_catalog.METRICS") from None


def emit(values: Mapping[str, float | list[float]], dimensions: Mapping[str, str]) -> None:
    """One EMF document: ``values`` (metric name -> a value or several) with ``dimensions`` and the
    current function's ``service``.

    A metric missing from the list, or given other dimensions than the list says, is not emitted
    and logged as an error (the unit tests check every name the code emits is listed); nothing here
    raises, so metrics never fail the work they count.
    """
    try:
        specs = [metric(name) for name in values]
        for spec in specs:
            if set(spec.dimensions) != set(dimensions):
                raise UnknownMetric(f"metric {spec.name!r} takes dimensions {spec.dimensions}, not {tuple(dimensions)}")
        emf = new_metrics()
        for name, value in dimensions.items():
            emf.add_dimension(name=name, value=value or "none")
        for spec in specs:
            value = values[spec.name]
            for each in value if isinstance(value, list) else [value]:
                emf.add_metric(name=spec.name, unit=spec.unit, value=each)
        emf.flush_metrics()
    except UnknownMetric as exc:
        logger.error("metric not emitted: not in the catalog", extra={"error": str(exc)})
    except Exception:
        logger.warning("metrics not emitted", extra={"metrics": sorted(values)}, exc_info=True)
