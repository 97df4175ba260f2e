"""Customer webhooks: building them from message records and queuing them on the NotifyQueue.

``NotificationPublisher`` only builds and queues. Exactly-once publishing (the webhook's lease
written with the status change, carried by the queued notification) is ``switchboard.notifier.outbox.Outbox``;
delivery is ``switchboard.notifier.delivery``.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from switchboard import clock
from switchboard.domain.notification import (
    INBOUND_KIND,
    INBOUND_URL,
    STATUS_KIND,
    Notification,
    owner_target,
    status_target,
)
from switchboard.domain.webhook_bodies import inbound_body_for, record_webhook_version, sms_extras_of, status_body_for
from switchboard.domain.outbox_markers import INBOUND_NOTIFICATION, lease_of, status_notification


class NotificationSink(Protocol):
    """``switchboard.adapters.sqs.notify_queue.NotifyQueue``."""

    def send(self, notification: Notification, delay_seconds: int = 0) -> None: ...

    def send_all(self, notifications: Sequence[Notification]) -> set[int]: ...


class WorkflowEventSink(Protocol):
    """``switchboard.adapters.sqs.workflow_events_queue.WorkflowEventsQueue``."""

    def status_changed(self, record: dict[str, Any], state: str) -> None: ...


class NotificationPublisher:
    def __init__(self, notify_queue: NotificationSink, workflow_events: WorkflowEventSink) -> None:
        self._queue = notify_queue
        self._workflow_events = workflow_events

    def status_changed(
        self, record: dict[str, Any], status: str, occurred_at_iso: str, error: dict[str, Any] | None = None
    ) -> None:
        """Queue the status webhook for ``record``'s change to ``status`` (botocore errors propagate)."""
        self._queue.send(self.status_change(record, status, occurred_at_iso, error))

    def status_change(
        self, record: dict[str, Any], status: str, occurred_at_iso: str, error: dict[str, Any] | None = None
    ) -> Notification:
        """The status webhook for ``record``'s change to ``status``, for the caller to queue.

        The target is the message's v1 ``webhook_url`` if it had one, else its application's status
        URL, else its account's (resolved at delivery). The body has the shape
        ``record_webhook_version`` picks from the record (2018 or v1; docs/webhooks.md).

        A step of a failover workflow (a record with ``workflow_uuid``) tells the workflow engine
        here, before its webhook can be queued: if the webhook then cannot be queued the change is
        published again later (the outbox), and the engine takes the repeated event as a duplicate.
        The other order could lose the engine's event for good.
        """
        if record.get("workflow_uuid"):
            self._workflow_events.status_changed(record, status)
        return _first_attempt(
            kind=STATUS_KIND,
            record=record,
            notification=status_notification(status),
            body=status_body_for(
                record_webhook_version(STATUS_KIND, record), record, status, occurred_at_iso, error,
                sms=sms_extras_of(record),
            ),
            target=status_target(record),
        )

    def queue_all(self, notifications: Sequence[Notification]) -> set[int]:
        """Queue built webhooks together; the indexes of those that could not be queued."""
        return self._queue.send_all(notifications)

    def inbound_received(self, inbound_record: dict[str, Any], target: dict[str, Any] | None = None) -> None:
        """Queue the inbound webhook; ``target`` defaults to the record's application/account inbound URL."""
        self._queue.send(
            _first_attempt(
                kind=INBOUND_KIND,
                record=inbound_record,
                notification=INBOUND_NOTIFICATION,
                body=inbound_body_for(record_webhook_version(INBOUND_KIND, inbound_record), inbound_record),
                target=target or owner_target(inbound_record, INBOUND_URL),
            )
        )


def _first_attempt(
    kind: str, record: dict[str, Any], notification: str, body: dict[str, Any], target: dict[str, Any]
) -> Notification:
    return Notification(
        kind=kind,
        message_uuid=record["message_uuid"],
        notification=notification,
        body=body,
        target=target,
        attempt=1,
        first_attempt_at=clock.now(),
        lease_until=lease_of(record, notification),
    )
