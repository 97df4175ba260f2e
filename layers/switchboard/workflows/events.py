"""Moved to ``switchboard.domain.workflow_events`` and ``switchboard.adapters.sqs.workflow_events_queue``;
this shim is removed when the restructuring completes."""
from __future__ import annotations

from switchboard.adapters import aws_clients as aws
from switchboard.adapters.sqs import workflow_events_queue as _adapter
from switchboard.config import settings
from switchboard.domain.workflow_events import (  # noqa: F401
    STATUS_EVENT,
    TIMER_EVENT,
    StatusEvent,
    TimerEvent,
    WorkflowEvent,
    parse_event,
    timer_delay,
)


class WorkflowEventsQueue(_adapter.WorkflowEventsQueue):
    """The old optional-URL constructor, for callers not yet wired by a composition module."""

    def __init__(self, queue_url: str | None = None) -> None:
        super().__init__(aws.client("sqs"), queue_url or settings().workflow_events_queue_url)
