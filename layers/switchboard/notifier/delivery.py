"""Delivering one queued webhook: resolve, sign, POST, and on failure schedule the next attempt.

Retries are new NotifyQueue messages with ``DelaySeconds`` (5 s, doubling, at most 900 s) and
``attempt + 1``; the received message is then acknowledged, so a failing endpoint never holds a
batch or another customer back. Attempts go on while the next one would still start within 24
hours of ``first_attempt_at``; then the notification goes to the NotifyDLQ and the message history
says so. Every attempt is appended to the record's ``webhook_attempts``:

    {"webhook": "status:delivered", "kind": "status", "status": "delivered", "attempt": 3,
     "at": "<iso>", "outcome": "delivered" | "failed" | "gave_up" | "dropped", "target": "application",
     "http_status": 500, "error": "http 500", "next_retry_in": 20, "reason": "no webhook URL configured"}

(keys without a value are left out). They are kept in the message's webhook-attempts item, not on
the record. The final report of a failover workflow has no message record: its attempts go to the
workflow record's ``webhook_attempts`` (``workflow_attempts``), shown by ``GET`` of the workflow.
Recording is best effort: once the POST succeeded or the retry is queued, the received message must
be acknowledged whatever happens to the record, or SQS would deliver it again and the customer would
get it twice.

A first attempt carries the outbox lease it was queued under (``switchboard.notifier.outbox``).
While that lease outlives the whole delivery it is delivered at once; otherwise the notifier first
takes the lease over, and a copy whose lease another copy took is dropped (``SUPERSEDED``).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from switchboard import clock
from switchboard.domain.message_record import MAX_DELAY_SECONDS
from switchboard.domain.notification import WORKFLOW_KIND, Notification
from switchboard.domain.outbox_markers import LeaseState, NotifyLease, deliverable_without_lease_write
from switchboard.domain.webhook_post import PostResult
from switchboard.metric_catalog import emit
from switchboard.notifier.targets import ResolvedTarget, WebhookTargets
from switchboard.notifier.webhook_signing import authorization_header
from switchboard.observability import logger

FIRST_RETRY_SECONDS = 5
RETRY_WINDOW_SECONDS = 24 * 3600
UNDELIVERABLE_EVENT = "webhook_undeliverable"


@dataclass(frozen=True)
class RetrySchedule:
    first_delay: int = FIRST_RETRY_SECONDS
    max_delay: int = MAX_DELAY_SECONDS
    window: int = RETRY_WINDOW_SECONDS

    def delay_after(self, attempt: int) -> int:
        """Seconds before the attempt after failed attempt ``attempt`` (1-based): 5, 10, 20, ... 900."""
        exponent = max(attempt - 1, 0)
        if exponent >= 30:
            return self.max_delay
        return min(self.first_delay * 2**exponent, self.max_delay)

    def gives_up(self, first_attempt_at: float, now: float, delay: int) -> bool:
        return now + delay > first_attempt_at + self.window


class DeliveryOutcome(Enum):
    DELIVERED = "delivered"
    RETRY_SCHEDULED = "retry_scheduled"
    GAVE_UP = "gave_up"
    DROPPED = "dropped"  # nowhere to send it: not an error, not retried
    POSTPONED = "postponed"  # not attempted: queued again unchanged for another invocation
    SUPERSEDED = "superseded"  # a republished copy of the same webhook took its place: not sent


class Poster(Protocol):
    def post(self, url: str, body: bytes, authorization: str) -> PostResult: ...


class RetryQueues(Protocol):
    def retry(self, notification: Notification, delay_seconds: int) -> None: ...

    def dead_letter(self, notification: Notification) -> None: ...


class AttemptLog(Protocol):
    def record_webhook_attempt(
        self, message_uuid: str, attempt: dict[str, Any], history_note: dict[str, Any] | None = None
    ) -> bool: ...


class OutboxLeases(Protocol):
    def take_notify_lease(self, message_uuid: str, marker: str, held_until: int) -> NotifyLease: ...


class Notifier:
    def __init__(
        self,
        targets: WebhookTargets,
        poster: Poster,
        queues: RetryQueues,
        attempts: AttemptLog,
        schedule: RetrySchedule = RetrySchedule(),
        workflow_attempts: AttemptLog | None = None,
        leases: OutboxLeases | None = None,
    ) -> None:
        self.targets = targets
        self.poster = poster
        self.queues = queues
        self.attempts = attempts
        self.schedule = schedule
        self.workflow_attempts = workflow_attempts
        self.leases = leases

    def deliver(self, notification: Notification) -> DeliveryOutcome:
        """One attempt. Raises only if the retry or dead-letter message could not be queued (or the
        lease of a late first attempt could not be taken over)."""
        started = clock.now()
        if not self._is_current_copy(notification, started):
            logger.info("webhook copy superseded by a republished one; not sent", extra={"webhook": notification.notification})
            return DeliveryOutcome.SUPERSEDED
        target = self.targets.resolve(notification.target)
        if target.url is None or not target.signature_secret:
            logger.info("webhook dropped", extra={"webhook": notification.notification, "reason": target.problem})
            self._record(notification, started, target, "dropped", reason=target.problem)
            return DeliveryOutcome.DROPPED
        body = notification.body_bytes()
        authorization = authorization_header(body, target.signature_secret, target.api_key, target.application_id)
        result = self.poster.post(target.url, body, authorization)
        if result.delivered:
            logger.info("webhook delivered", extra=_log_fields(notification, result))
            self._record(notification, started, target, "delivered", http_status=result.http_status)
            return DeliveryOutcome.DELIVERED
        delay = self.schedule.delay_after(notification.attempt)
        if self.schedule.gives_up(notification.first_attempt_at, clock.now(), delay):
            self.queues.dead_letter(notification)
            logger.warning("webhook given up after 24 hours", extra=_log_fields(notification, result))
            note = {
                "timestamp": clock.iso(),
                "event": UNDELIVERABLE_EVENT,
                "webhook": notification.notification,
                "attempts": notification.attempt,
            }
            self._record(notification, started, target, "gave_up", result=result, history_note=note)
            return DeliveryOutcome.GAVE_UP
        self.queues.retry(notification.next_attempt(), delay)
        logger.info("webhook failed; retry scheduled", extra={**_log_fields(notification, result), "retry_in_seconds": delay})
        self._record(notification, started, target, "failed", result=result, next_retry_in=delay)
        return DeliveryOutcome.RETRY_SCHEDULED

    def postpone(self, notification: Notification) -> DeliveryOutcome:
        """Queue ``notification`` again as it is (same attempt, no delay) instead of attempting it now.

        For an invocation too close to its timeout to finish a POST: were the function killed
        mid-batch, SQS would deliver the whole batch again, webhooks already answered 2xx included.
        """
        self.queues.retry(notification, 0)
        logger.info("webhook postponed to another invocation", extra={"webhook": notification.notification})
        return DeliveryOutcome.POSTPONED

    def _is_current_copy(self, notification: Notification, now: float) -> bool:
        """Whether this copy of a first attempt is the one to deliver (module docstring)."""
        lease = notification.lease_until
        if notification.attempt != 1 or lease is None or self.leases is None:
            return True
        if deliverable_without_lease_write(lease, now):
            return True
        taken = self.leases.take_notify_lease(notification.message_uuid, notification.notification, lease)
        # MISSING: the record is gone (its retention ended); nothing can have replaced this copy.
        return taken.state is not LeaseState.HELD

    def _record(
        self,
        notification: Notification,
        at: float,
        target: ResolvedTarget,
        outcome: str,
        result: PostResult | None = None,
        history_note: dict[str, Any] | None = None,
        **details: Any,
    ) -> None:
        emit({"webhook_delivery": 1, "webhook_attempt": notification.attempt}, {"kind": notification.kind, "outcome": outcome})
        attempt: dict[str, Any] = {
            "webhook": notification.notification,
            "kind": notification.kind,
            "status": notification.status,
            "attempt": notification.attempt,
            "at": clock.iso(at),
            "outcome": outcome,
            "target": target.source,
        }
        if result is not None:
            attempt.update(http_status=result.http_status, error=result.error)
        attempt.update(details)
        attempt = {k: v for k, v in attempt.items() if v is not None}
        log = self.attempts
        if notification.kind == WORKFLOW_KIND:
            if self.workflow_attempts is None:
                logger.info("webhook attempt not recorded: no workflow store", extra={"outcome": outcome})
                return
            log = self.workflow_attempts
        try:
            if not log.record_webhook_attempt(notification.message_uuid, attempt, history_note):
                logger.info(f"webhook attempt not recorded: the {notification.kind} record is gone")
        except Exception:
            logger.exception("could not record the webhook attempt", extra={"outcome": outcome})


def _log_fields(notification: Notification, result: PostResult) -> dict[str, Any]:
    return {
        "webhook": notification.notification,
        "attempt": notification.attempt,
        "http_status": result.http_status,
        "error": result.error,
    }
