"""Exactly one webhook per status change: a transactional outbox on the message record.

1. The conditional write that changes the status also decides its webhook: it sets the webhook's
   lease attribute (``outbox_<status>``, 60 s ahead) on the record.
2. ``publish`` queues the webhook on the NotifyQueue, carrying that lease (``publish_together``
   queues several in as few SQS calls as it allows: the sender's batch). Nothing is written
   afterwards: the notifier's first attempt, recorded in the message's webhook-attempts item (a
   write it makes anyway), is the evidence that the webhook was queued.
3. If queuing fails the lease is released and the exception propagates: the caller fails (the
   sender reports its SQS record for redelivery, the provider-webhook handler answers 5xx so the
   provider retries).
4. When that record or receipt comes back (the status is already applied: a duplicate),
   ``republish`` looks at the webhook: with a recorded attempt it reached the notifier
   (``NOT_PENDING``); under a live lease someone may still be queuing it (``HELD``: the caller
   answers 5xx or asks for redelivery, so the trigger comes back once the lease has run out);
   otherwise it takes the lease over and queues it again. A duplicate that arrives before the
   notifier's first attempt is therefore told to come back later (and costs one read), unless
   this process queued the webhook itself within the lease: then it is known to be on the queue.

A republished copy and the copy it replaces must not both be delivered. The notifier delivers a
copy straight away only while its lease outlives the whole delivery (``DELIVERY_GUARD_SECONDS``),
so no republisher can take the lease meanwhile; a copy that arrives later first takes its own lease
over (one conditional write) and is dropped if another copy took it first
(``switchboard.notifier.delivery``). Of two copies, exactly one is delivered.

What is left is at-least-once, in one place: the notifier's POST reached the customer but its
attempt could not be recorded (SQS delivers the copy again, or a later duplicate republishes it).
"""
from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any, Protocol

from switchboard import clock
from switchboard.domain.message_record import transition_entry
from switchboard.domain.notification import Notification
from switchboard.domain.outbox_markers import (
    INBOUND_NOTIFICATION,
    NOTIFY_LEASE_SECONDS,
    STATUS_PREFIX,
    LeaseState,
    NotifyLease,
    lease_of,
)
from switchboard.observability import logger
from switchboard.ttl_cache import MISSING, TtlCache


class NotificationInProgress(Exception):
    """Another writer holds the webhook's lease and is queuing it: try again later (answer 5xx)."""


class Republish(Enum):
    QUEUED = "queued"  # it was not queued and now is
    NOT_PENDING = "not_pending"  # not decided, or queued already (the notifier recorded an attempt)
    HELD = "held"  # someone else is queuing or delivering it right now


class OutboxRecords(Protocol):
    def take_notify_lease(self, message_uuid: str, marker: str, held_until: int) -> NotifyLease: ...

    def release_notify_lease(self, message_uuid: str, marker: str, lease_until: int) -> None: ...

    def webhook_attempts(self, message_uuid: str) -> list[dict[str, Any]]: ...


class Publisher(Protocol):
    """``switchboard.notifier.publisher.NotificationPublisher``."""

    def status_changed(
        self, record: dict[str, Any], status: str, occurred_at_iso: str, error: dict[str, Any] | None = None
    ) -> None: ...

    def status_change(
        self, record: dict[str, Any], status: str, occurred_at_iso: str, error: dict[str, Any] | None = None
    ) -> Notification: ...

    def queue_all(self, notifications: Sequence[Notification]) -> set[int]: ...

    def inbound_received(self, inbound_record: dict[str, Any], target: dict[str, Any] | None = None) -> None: ...


class Outbox:
    def __init__(self, records: OutboxRecords, notifications: Publisher) -> None:
        self.records = records
        self.notifications = notifications
        # Webhooks this process queued itself within a lease: a duplicate of the same event handled
        # here (a Messenger delivery names its mids and its watermark; watermarks follow one another)
        # knows they are on the queue without waiting for the notifier's attempt.
        self._queued_here: TtlCache[tuple[str, str], bool] = TtlCache(NOTIFY_LEASE_SECONDS)

    def publish(self, record: dict[str, Any], marker: str) -> None:
        """Queue the webhook ``marker`` names, from the record the deciding write returned."""
        try:
            self._enqueue(record, marker)
        except Exception:
            self._release(record, marker)
            raise
        self._queued_here.put((str(record["message_uuid"]), marker), True)

    def publish_together(self, decided: Sequence[tuple[dict[str, Any], str]]) -> set[int]:
        """``publish`` for several decided status webhooks, queued in as few SQS calls as it allows.

        Answers the indexes of those that could not be queued; their leases are released, as
        ``publish`` does before it raises, so a redelivered trigger queues them again.
        """
        built: list[Notification] = []
        built_from: list[int] = []
        not_queued: set[int] = set()
        for index, (record, marker) in enumerate(decided):
            try:
                built.append(self.notifications.status_change(record, *_status_change_of(record, marker)))
                built_from.append(index)
            except Exception:
                logger.exception("could not build a status webhook", extra={"webhook": marker})
                not_queued.add(index)
        if built:
            not_queued.update(built_from[position] for position in self.notifications.queue_all(built))
        for index, (record, marker) in enumerate(decided):
            if index in not_queued:
                self._release(record, marker)
            else:
                self._queued_here.put((str(record["message_uuid"]), marker), True)
        return not_queued

    def republish(self, record: dict[str, Any], marker: str) -> Republish:
        """Queue a decided webhook again if its first queuing may have failed (module docstring, 4)."""
        message_uuid = record["message_uuid"]
        held_until = lease_of(record, marker)
        if held_until is None or self._queued_here.get((message_uuid, marker)) is not MISSING:
            return Republish.NOT_PENDING
        if any(attempt.get("webhook") == marker for attempt in self.records.webhook_attempts(message_uuid)):
            return Republish.NOT_PENDING
        if held_until > clock.now():
            return Republish.HELD
        lease = self.records.take_notify_lease(message_uuid, marker, held_until)
        if lease.state is LeaseState.HELD:
            return Republish.HELD
        if lease.state is not LeaseState.TAKEN or lease.record is None:
            return Republish.NOT_PENDING
        logger.info("queuing a webhook whose first queuing is not confirmed", extra={"webhook": marker})
        self.publish(lease.record, marker)
        return Republish.QUEUED

    def _enqueue(self, record: dict[str, Any], marker: str) -> None:
        if marker == INBOUND_NOTIFICATION:
            self.notifications.inbound_received(record)
            return
        self.notifications.status_changed(record, *_status_change_of(record, marker))

    def _release(self, record: dict[str, Any], marker: str) -> None:
        lease_until = lease_of(record, marker)
        if lease_until is None:
            return
        try:
            self.records.release_notify_lease(record["message_uuid"], marker, lease_until)
        except Exception:
            logger.exception("could not release the webhook lease; a retry waits for it to run out")


def _status_change_of(record: dict[str, Any], marker: str) -> tuple[str, str, dict[str, Any] | None]:
    """The status, its time and its error, of the status webhook ``marker`` names."""
    if not marker.startswith(STATUS_PREFIX):
        raise ValueError(f"unknown webhook marker {marker!r}")
    state = marker[len(STATUS_PREFIX):]
    entry = transition_entry(record, state) or {}
    occurred_at = entry.get("occurred_at") or entry.get("timestamp") or record.get("updated_at")
    return state, str(occurred_at), entry.get("error")
