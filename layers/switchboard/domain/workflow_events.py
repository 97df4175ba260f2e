"""What goes on the WorkflowEventsQueue: a step message's status change, or a step's expiry timer.

Bodies (JSON)::

    {"kind": "status", "workflow_uuid": "<uuid>", "step": 0, "message_uuid": "<uuid>", "status": "delivered"}
    {"kind": "timer", "workflow_uuid": "<uuid>", "step": 0, "due_at": 1790000600}

SQS delays a message by at most 900 s, so a timer due later is sent with the longest delay and the
engine sends it again ("re-arms" it) with the time still left when it arrives early.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from switchboard.domain.message_record import MAX_DELAY_SECONDS

STATUS_EVENT = "status"
TIMER_EVENT = "timer"


@dataclass(frozen=True)
class StatusEvent:
    workflow_uuid: str
    step: int
    message_uuid: str
    status: str

    def to_json(self) -> str:
        return _dumps({"kind": STATUS_EVENT, "workflow_uuid": self.workflow_uuid, "step": self.step,
                       "message_uuid": self.message_uuid, "status": self.status})


@dataclass(frozen=True)
class TimerEvent:
    workflow_uuid: str
    step: int
    due_at: int

    def to_json(self) -> str:
        return _dumps({"kind": TIMER_EVENT, "workflow_uuid": self.workflow_uuid, "step": self.step,
                       "due_at": self.due_at})


WorkflowEvent = StatusEvent | TimerEvent


def parse_event(raw: str | None) -> WorkflowEvent | None:
    """The event in a queue body, or ``None`` if the body is not one."""
    try:
        data = json.loads(raw or "")
    except (TypeError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    workflow_uuid, step = data.get("workflow_uuid"), data.get("step")
    if not isinstance(workflow_uuid, str) or not workflow_uuid or not _is_index(step):
        return None
    kind = data.get("kind")
    if kind == STATUS_EVENT:
        message_uuid, state = data.get("message_uuid"), data.get("status")
        if isinstance(message_uuid, str) and isinstance(state, str):
            return StatusEvent(workflow_uuid, step, message_uuid, state)
    if kind == TIMER_EVENT:
        due_at = data.get("due_at")
        if isinstance(due_at, (int, float)) and not isinstance(due_at, bool):
            return TimerEvent(workflow_uuid, step, int(due_at))
    return None


def timer_delay(due_at: float, now: float) -> int:
    """The DelaySeconds for a timer due at ``due_at``: what is left, rounded up, at most 900."""
    return max(0, min(math.ceil(due_at - now), MAX_DELAY_SECONDS))


def _is_index(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))
