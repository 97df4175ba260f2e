"""Moved to ``switchboard.notifier.publisher``; this shim is removed when the restructuring completes.

``Notifications()`` keeps the old optional arguments (queues from ``switchboard.config``) for
callers not yet wired by a composition module; ``NotificationPublisher`` requires both queues.
"""
from __future__ import annotations

from typing import Any

from switchboard.adapters import aws_clients as aws
from switchboard.adapters.sqs.workflow_events_queue import WorkflowEventsQueue
from switchboard.config import settings
from switchboard.domain.notification import Notification
from switchboard.notifications.queues import NotifyQueues
from switchboard.notifier.publisher import NotificationPublisher

__all__ = ["Notifications", "Notification"]


class Notifications(NotificationPublisher):
    def __init__(self, queue_url: str | None = None, workflow_events: Any = None) -> None:
        super().__init__(NotifyQueues(queue_url=queue_url), workflow_events or _LazyWorkflowEvents())


class _LazyWorkflowEvents:
    """The WorkflowEventsQueue, built on first use as before (most messages are not workflow steps)."""

    def status_changed(self, record: dict[str, Any], state: str) -> None:
        WorkflowEventsQueue(aws.client("sqs"), settings().workflow_events_queue_url).status_changed(record, state)
