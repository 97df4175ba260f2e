"""Exactly one webhook per status change: a transactional outbox on the message record.

1. The conditional write that changes the status also adds its marker (``"status:<status>"``) to
   the record's ``pending_notifications`` with a lease (``notify_lease_<marker>``, 60 s).
2. ``publish`` queues the webhook on the NotifyQueue, then removes the marker and lease.
3. If queuing fails the marker stays, the lease is released and the exception propagates: the
   caller fails (the sender reports its SQS record for redelivery, the provider-webhook handler
   answers 5xx so the provider retries).
4. When that record or receipt comes back, the status is already applied (a duplicate) but its
   marker is pending: ``republish`` takes the lease and queues it again.

The lease keeps a duplicate that arrives while the first writer is still queuing from queuing a
second copy: ``republish`` answers ``HELD`` and does nothing. A lease outlives any function's
timeout, so once it has run out its holder is certainly gone.

What is left is at-least-once, in two places: the queue accepted the message but the marker
could not be removed (the next duplicate of that receipt queues it again), and the notifier's
POST reached the customer but its outcome was not recorded (SQS delivers it again).
"""
from __future__ import annotations

from enum import Enum
from typing import Any, Protocol

from switchboard.domain.message_record import transition_entry
from switchboard.domain.outbox_markers import INBOUND_NOTIFICATION, LeaseState, NotifyLease, notify_lease_attribute
from switchboard.observability import logger

_STATUS_PREFIX = "status:"


class NotificationInProgress(Exception):
    """Another writer holds the webhook's lease and is queuing it: try again later (answer 5xx)."""


class Republish(Enum):
    QUEUED = "queued"  # it was pending and is now queued
    NOT_PENDING = "not_pending"  # someone else queued it already
    HELD = "held"  # someone else is queuing it right now


class OutboxRecords(Protocol):
    def take_notify_lease(self, message_uuid: str, marker: str) -> NotifyLease: ...

    def clear_notification(self, message_uuid: str, marker: str) -> None: ...

    def release_notify_lease(self, message_uuid: str, marker: str, lease_until: int) -> None: ...


class Publisher(Protocol):
    """``switchboard.notifier.publisher.NotificationPublisher``."""

    def status_changed(
        self, record: dict[str, Any], status: str, occurred_at_iso: str, error: dict[str, Any] | None = None
    ) -> None: ...

    def inbound_received(self, inbound_record: dict[str, Any], target: dict[str, Any] | None = None) -> None: ...


class Outbox:
    def __init__(self, records: OutboxRecords, notifications: Publisher) -> None:
        self.records = records
        self.notifications = notifications

    def publish(self, record: dict[str, Any], marker: str) -> None:
        """Queue the webhook ``marker`` names, from the record the marking write returned."""
        message_uuid = record["message_uuid"]
        try:
            self._enqueue(record, marker)
        except Exception:
            self._release(record, marker)
            raise
        try:
            self.records.clear_notification(message_uuid, marker)
        except Exception:
            # Queued already: failing the caller now would only make its retry queue it twice.
            logger.exception("webhook queued but its pending marker was not removed", extra={"webhook": marker})

    def republish(self, message_uuid: str, marker: str) -> Republish:
        """Queue a webhook whose marker a previous writer left pending (its queuing failed)."""
        lease = self.records.take_notify_lease(message_uuid, marker)
        if lease.state is LeaseState.HELD:
            return Republish.HELD
        if lease.state is not LeaseState.TAKEN or lease.record is None:
            return Republish.NOT_PENDING
        logger.info("queuing a webhook left pending", extra={"webhook": marker})
        self.publish(lease.record, marker)
        return Republish.QUEUED

    def _enqueue(self, record: dict[str, Any], marker: str) -> None:
        if marker == INBOUND_NOTIFICATION:
            self.notifications.inbound_received(record)
            return
        if not marker.startswith(_STATUS_PREFIX):
            raise ValueError(f"unknown webhook marker {marker!r}")
        state = marker[len(_STATUS_PREFIX):]
        entry = transition_entry(record, state) or {}
        occurred_at = entry.get("occurred_at") or entry.get("timestamp") or record.get("updated_at")
        self.notifications.status_changed(record, state, str(occurred_at), entry.get("error"))

    def _release(self, record: dict[str, Any], marker: str) -> None:
        lease_until = record.get(notify_lease_attribute(marker))
        if lease_until is None:
            return
        try:
            self.records.release_notify_lease(record["message_uuid"], marker, int(lease_until))
        except Exception:
            logger.exception("could not release the webhook lease; a retry waits for it to run out")
