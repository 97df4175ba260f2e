"""WorkflowFunction: the WorkflowEventsQueue -> failover engine, wired once per process.

Settings are read and checked on the first invocation; the adapters are built once.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from switchboard.adapters import aws_clients
from switchboard.adapters.dynamodb.messages_table import MessagesTable
from switchboard.adapters.dynamodb.workflow_store import WorkflowStore
from switchboard.adapters.sqs.batch_runner import BatchRunner
from switchboard.adapters.sqs.notify_queue import NotifyQueue
from switchboard.adapters.sqs.outbound_queue import OutboundQueue
from switchboard.adapters.sqs.workflow_events_queue import WorkflowEventsQueue
from switchboard.domain.workflow_events import WorkflowEvent, parse_event
from switchboard.settings import WorkflowSettings, load_settings
from switchboard.workflows.engine import WorkflowEngine
from switchboard.workflows.event_handler import EventHandler, workflow_of
from switchboard.workflows.launcher import StepLauncher
from switchboard.workflows.report import Reports


@dataclass(frozen=True)
class WorkflowServices:
    handler: EventHandler
    runner: BatchRunner[WorkflowEvent]  # one event after another


@cache
def settings() -> WorkflowSettings:
    return load_settings(WorkflowSettings)


@cache
def services() -> WorkflowServices:
    s = settings()
    sqs, dynamodb = aws_clients.client("sqs"), aws_clients.client("dynamodb")
    messages = MessagesTable(dynamodb, s.messages_table, s.retention_seconds)
    events = WorkflowEventsQueue(sqs, s.workflow_events_queue_url)
    launcher = StepLauncher(
        messages=messages,
        tag=messages.tag_workflow_step,
        timers=events,
        outbound=OutboundQueue(sqs, s.outbound_queue_url),
    )
    engine = WorkflowEngine(
        store=WorkflowStore(dynamodb, s.workflows_table),
        messages=messages,
        launcher=launcher,
        timers=events,
        reports=Reports(messages, NotifyQueue(sqs, s.notify_queue_url, s.notify_dlq_url)),
    )
    return WorkflowServices(handler=EventHandler(engine), runner=workflow_runner())


def workflow_runner() -> BatchRunner[WorkflowEvent]:
    """The WorkflowEventsQueue's batch runner: events in order, on the invoking thread."""
    return BatchRunner("workflows", parse_event, workflow_of)


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Apply every event of an SQS batch; ``{"batchItemFailures": [...]}``."""
    current = services()
    return dict(current.handler.run(current.runner, event, context))
