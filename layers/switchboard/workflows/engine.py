"""Moving a failover workflow on its events: step status changes and expiry timers.

For the current step N of a workflow in progress:

- its message reaches the step's ``condition_status`` (``read`` also meets ``delivered``): the
  workflow is completed and the final report is queued; no later step is ever sent. The last step
  has no condition: delivered (or read) completes the workflow.
- its message is rejected or undeliverable: step N+1 is started at once; on the last step the
  workflow ends in error.
- its timer is due and the message has not met the condition (read from the MessagesTable):
  step N+1 is started. A timer that arrives early (a hop of a longer expiry) is sent again with
  the time still left.

Each of those moves is one write conditional on ``status = in_progress AND current_step = N``, so
whatever arrives together or twice (a receipt and the timer, a duplicated timer or receipt, a
redelivered queue message), exactly one move happens. Events about any other step, and events that
lost the race, are only recorded in the workflow's history; timers for other steps do nothing.

A move's follow-up (starting the next step, queuing the final report) is marked on the record
under a lease by the same write. If it fails, the event is redelivered and whoever handles the
workflow's next event after the lease ran out finishes it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard import clock
from switchboard.domain.workflow import COMPLETED, ERROR, FAILED_STATUSES, IN_PROGRESS, meets_condition
from switchboard.domain.workflow_events import StatusEvent, TimerEvent, WorkflowEvent
from switchboard.observability import logger
from switchboard.workflows.launcher import StepLauncher, due_at_of

# Longer than the function's timeout (30 s), shorter than the queue's visibility timeout (180 s):
# a redelivered event always finds the lease of the failed attempt run out.
LEASE_SECONDS = 60

CONDITION_MET = "condition_met"  # a step before the last reached its condition_status
DELIVERED = "delivered"  # the last step was delivered (or read)
FAILED = "failed"  # the step's message was rejected or undeliverable
EXPIRED = "expired"  # the step's expiry_time passed without its condition being met


class Store(Protocol):
    def get(self, workflow_uuid: str) -> dict[str, Any] | None: ...
    def advance(self, workflow_uuid: str, from_step: int, due_at: int | None, lease_until: int,
                entries: list[dict[str, Any]]) -> tuple[bool, dict[str, Any] | None]: ...
    def finish(self, workflow_uuid: str, step: int, outcome: dict[str, Any], report_until: int | None,
               entries: list[dict[str, Any]]) -> tuple[bool, dict[str, Any] | None]: ...
    def note(self, workflow_uuid: str, entry: dict[str, Any]) -> None: ...
    def take_launch_lease(self, workflow_uuid: str, step: int, lease_until: int) -> dict[str, Any] | None: ...
    def clear_launch(self, workflow_uuid: str, step: int) -> None: ...
    def take_report_lease(self, workflow_uuid: str, lease_until: int) -> dict[str, Any] | None: ...
    def clear_report(self, workflow_uuid: str) -> None: ...


class MessageReader(Protocol):
    def get(self, message_uuid: str) -> dict[str, Any] | None: ...


class Timers(Protocol):
    def arm_timer(self, workflow_uuid: str, step: int, due_at: int) -> int: ...


class ReportSender(Protocol):
    def send(self, workflow: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Move:
    """What an event does to the current step: end the workflow (``status``) or start the next step."""

    reason: str
    status: str | None = None  # COMPLETED | ERROR; None: advance


def decide(workflow: dict[str, Any], step: int, message_status: str | None, expired: bool) -> Move | None:
    steps = workflow["steps"]
    last = step == len(steps) - 1
    failover = steps[step].get("failover") or {}
    if meets_condition(failover.get("condition_status"), message_status):
        return Move(DELIVERED, COMPLETED) if last else Move(CONDITION_MET, COMPLETED)
    if message_status in FAILED_STATUSES:
        return Move(FAILED, ERROR) if last else Move(FAILED)
    if expired and not last:
        return Move(EXPIRED)
    return None


@dataclass
class WorkflowEngine:
    store: Store
    messages: MessageReader
    launcher: StepLauncher
    timers: Timers
    reports: ReportSender

    def handle(self, event: WorkflowEvent) -> None:
        """Apply one event. Any exception means "not done": the event must be delivered again."""
        workflow = self.store.get(event.workflow_uuid)
        if workflow is None:
            logger.info("event for an unknown workflow", extra={"workflow_uuid": event.workflow_uuid})
            return
        self._finish_pending_work(workflow)
        if isinstance(event, TimerEvent):
            self._on_timer(workflow, event)
        else:
            self._on_status(workflow, event)

    # ------------------------------------------------------------------ events

    def _on_status(self, workflow: dict[str, Any], event: StatusEvent) -> None:
        entry = {"timestamp": clock.iso(), "event": "status", "step": event.step,
                 "message_uuid": event.message_uuid, "status": event.status}
        if not self._is_current(workflow, event.step) or not _is_step_message(workflow, event):
            self.store.note(workflow["workflow_uuid"], {**entry, "effect": "none", "note": "not the current step"})
            return
        move = decide(workflow, event.step, event.status, expired=False)
        if move is None:
            self.store.note(workflow["workflow_uuid"], {**entry, "effect": "none"})
            return
        self._move(workflow, event.step, move, entry)

    def _on_timer(self, workflow: dict[str, Any], event: TimerEvent) -> None:
        uuid, step = workflow["workflow_uuid"], event.step
        due_at = due_at_of(workflow, step)
        if not self._is_current(workflow, step) or due_at is None:
            logger.info("timer for a step that is no longer current", extra={"workflow_uuid": uuid, "step": step})
            return
        if due_at > clock.now():
            delay = self.timers.arm_timer(uuid, step, due_at)
            logger.info("timer re-armed", extra={"workflow_uuid": uuid, "step": step, "delay_seconds": delay})
            return
        message = self.messages.get(str(workflow["steps"][step]["message_uuid"]))
        message_status = (message or {}).get("status")
        entry = {"timestamp": clock.iso(), "event": "expired", "step": step, "status": message_status}
        move = decide(workflow, step, message_status, expired=True)
        if move is not None:
            self._move(workflow, step, move, entry)

    # ------------------------------------------------------------------ moves

    def _move(self, workflow: dict[str, Any], step: int, move: Move, entry: dict[str, Any]) -> None:
        uuid = workflow["workflow_uuid"]
        entry = {**entry, "effect": "advanced" if move.status is None else move.status, "reason": move.reason}
        lease_until = _lease_until()
        if move.status is not None:
            outcome = {"status": move.status, "step": step, "reason": move.reason, "at": clock.iso()}
            won, record = self.store.finish(uuid, step, outcome, lease_until, [entry])
        else:
            next_step = step + 1
            expiry = (workflow["steps"][next_step].get("failover") or {}).get("expiry_time")
            due_at = None if expiry is None else math.ceil(clock.now()) + int(expiry)
            started = {"timestamp": clock.iso(), "event": "step_started", "step": next_step,
                       "message_uuid": str(workflow["steps"][next_step]["message_uuid"])}
            won, record = self.store.advance(uuid, step, due_at, lease_until, [entry, started])
        if not won:
            if entry["event"] == "status":
                self.store.note(uuid, {**entry, "effect": "none", "note": "the step had already moved on"})
            logger.info("workflow already moved on", extra={"workflow_uuid": uuid, "step": step})
            return
        assert record is not None
        logger.info("workflow moved", extra={"workflow_uuid": uuid, "step": step, "effect": entry["effect"]})
        if move.status is not None:
            self._report(record)
        else:
            self._launch(record, step + 1)

    def _launch(self, workflow: dict[str, Any], step: int) -> None:
        self.launcher.launch(workflow, step)
        self.store.clear_launch(workflow["workflow_uuid"], step)

    def _report(self, workflow: dict[str, Any]) -> None:
        self.reports.send(workflow)
        self.store.clear_report(workflow["workflow_uuid"])

    def _finish_pending_work(self, workflow: dict[str, Any]) -> None:
        """Start a step or queue a report whose writer failed (its lease ran out)."""
        uuid, now = workflow["workflow_uuid"], clock.now()
        launch_step = workflow.get("launch_step")
        if (
            launch_step is not None
            and self._is_current(workflow, int(launch_step))
            and int(workflow.get("launch_until", 0)) <= now
        ):
            taken = self.store.take_launch_lease(uuid, int(launch_step), _lease_until())
            if taken is not None:
                logger.info("starting a step left pending", extra={"workflow_uuid": uuid, "step": launch_step})
                self._launch(taken, int(launch_step))
                workflow.update(taken)
        if workflow.get("report_until") is not None and int(workflow["report_until"]) <= now:
            taken = self.store.take_report_lease(uuid, _lease_until())
            if taken is not None:
                logger.info("queuing a final report left pending", extra={"workflow_uuid": uuid})
                self._report(taken)

    @staticmethod
    def _is_current(workflow: dict[str, Any], step: int) -> bool:
        return workflow.get("status") == IN_PROGRESS and int(workflow.get("current_step", -1)) == step


def _is_step_message(workflow: dict[str, Any], event: StatusEvent) -> bool:
    steps = workflow["steps"]
    return 0 <= event.step < len(steps) and str(steps[event.step]["message_uuid"]) == event.message_uuid


def _lease_until() -> int:
    return math.ceil(clock.now()) + LEASE_SECONDS
