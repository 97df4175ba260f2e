"""Customer webhooks: building them from message records and queuing them on the NotifyQueue.

``Notifications`` only builds and queues. Exactly-once publishing (the pending marker written with
the status change, cleared once queued) is ``switchboard.notifications.outbox.Outbox``; delivery
is ``switchboard.notifications.notifier``.
"""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.notifications.messages import (
    INBOUND_KIND,
    INBOUND_URL,
    STATUS_KIND,
    Notification,
    inbound_body,
    owner_target,
    status_body,
    status_target,
)
from switchboard.notifications.queues import NotifyQueues
from switchboard.store.messages import INBOUND_NOTIFICATION, status_notification

__all__ = ["Notifications", "Notification"]


class Notifications:
    def __init__(self, queue_url: str | None = None, workflow_events: Any = None) -> None:
        self._queues = NotifyQueues(queue_url=queue_url)
        self._workflow_events = workflow_events  # created on first use: most messages are not workflow steps

    def status_changed(
        self, record: dict[str, Any], status: str, occurred_at_iso: str, error: dict[str, Any] | None = None
    ) -> None:
        """Queue the status webhook for ``record``'s change to ``status`` (botocore errors propagate).

        The target is the message's v1 ``webhook_url`` if it had one, else its application's status
        URL, else its account's (resolved at delivery).

        A step of a failover workflow (a record with ``workflow_uuid``) first tells the workflow
        engine, then queues the webhook: if the webhook cannot be queued the change is published
        again later (the outbox), and the engine takes the repeated event as a duplicate. The
        other order could lose the engine's event for good.
        """
        if record.get("workflow_uuid"):
            self._workflow_events_queue().status_changed(record, status)
        self._queues.send(
            self._first_attempt(
                kind=STATUS_KIND,
                record=record,
                notification=status_notification(status),
                body=status_body(record, status, occurred_at_iso, error),
                target=status_target(record),
            )
        )

    def inbound_received(self, inbound_record: dict[str, Any], target: dict[str, Any] | None = None) -> None:
        """Queue the inbound webhook; ``target`` defaults to the record's application/account inbound URL."""
        self._queues.send(
            self._first_attempt(
                kind=INBOUND_KIND,
                record=inbound_record,
                notification=INBOUND_NOTIFICATION,
                body=inbound_body(inbound_record),
                target=target or owner_target(inbound_record, INBOUND_URL),
            )
        )

    def _workflow_events_queue(self) -> Any:
        if self._workflow_events is None:
            from switchboard.workflows.events import WorkflowEventsQueue

            self._workflow_events = WorkflowEventsQueue()
        return self._workflow_events

    @staticmethod
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
        )
