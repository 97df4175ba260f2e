"""The WorkflowFunction's work on one batch: one ``WorkflowEngine.handle`` per event, in order.

Each event is a few DynamoDB and SQS calls. A record whose handling raised becomes a batch item
failure (the shared SQS batch runner), so SQS delivers it again after the visibility timeout and,
after the queue's maxReceiveCount, moves it to the WorkflowEventsDLQ.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.domain.workflow_events import WorkflowEvent
from switchboard.workflows.engine import WorkflowEngine


class BatchRunner(Protocol):
    """``switchboard.adapters.sqs.batch_runner.BatchRunner`` decoding bodies to workflow events."""

    def run(self, event: dict[str, Any], context: Any, handle: Callable[[WorkflowEvent, Any], None]) -> Any: ...


def workflow_of(event: WorkflowEvent) -> str:
    return event.workflow_uuid


@dataclass(frozen=True)
class EventHandler:
    engine: WorkflowEngine

    def run(self, runner: BatchRunner, event: dict[str, Any], context: Any) -> Any:
        def apply(workflow_event: WorkflowEvent, record: Any) -> None:
            self.engine.handle(workflow_event)

        return runner.run(event, context, apply)
