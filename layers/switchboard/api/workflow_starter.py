"""Starting a failover workflow over HTTP (beta Workflows, v0.1 Dispatch, v1 ``failover``).

Starting: every step is validated and checked against the sender rules (linked to the calling
account, configured for the deployment) and the channel rules exactly as a single send, all before
anything is written: a later step's sender is checked when the workflow starts, not when the step
does. Then the workflow record is written, and step 0 goes through the same path as a single send
(its message record, tagged with the workflow, then the OutboundQueue), after its expiry timer. If step 0 cannot be queued the client gets the single send's 503 and the
workflow ends in error without a report: nothing was sent. Reading one: ``workflow_view.py``.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from switchboard import clock
from switchboard.api.message_acceptor import MessageAcceptor
from switchboard.domain.message import ApiVersion, OutboundMessage, Principal
from switchboard.domain.message_record import OWNER_WEBHOOK_VERSION
from switchboard.domain.errors import InvalidParameter, ServiceUnavailable, ValidationFailed
from switchboard.observability import logger, metrics
from switchboard.workflows.engine import LEASE_SECONDS
from switchboard.workflows.launcher import StepLauncher
from switchboard.domain.workflow import ERROR, IN_PROGRESS, TEMPLATE, flavour_of, id_field
from switchboard.workflows.workflow_requests import Step, prefixed_failure

NOT_QUEUED = "not_queued"


class WorkflowRecords(Protocol):
    def create(self, item: dict[str, Any]) -> None: ...
    def get(self, workflow_uuid: str) -> dict[str, Any] | None: ...
    def finish(self, workflow_uuid: str, step: int, outcome: dict[str, Any], report_until: int | None,
               entries: list[dict[str, Any]]) -> tuple[bool, dict[str, Any] | None]: ...
    def clear_launch(self, workflow_uuid: str, step: int) -> None: ...


class MessageRecords(Protocol):
    def get(self, message_uuid: str) -> dict[str, Any] | None: ...
    def mark_enqueue_failed(self, message_uuid: str, detail: str) -> bool: ...


def step_prefix(version: ApiVersion, index: int) -> str:
    """Where step ``index`` sits in the request, for naming its invalid parameters."""
    if version is ApiVersion.V1:
        return "" if index == 0 else f"failover[{index - 1}]"
    return f"workflow[{index}]"


@dataclass
class WorkflowStarter:
    acceptor: MessageAcceptor  # its channel rules are the single send's
    workflows: WorkflowRecords
    messages: MessageRecords
    launcher: StepLauncher
    retention_seconds: int  # how long the workflow record is kept (RETENTION_DAYS)

    def start(self, steps: list[Step], version: ApiVersion, principal: Principal) -> dict[str, str]:
        self._check_channel_rules([s.message for s in steps], version, principal)
        workflow = new_workflow(steps, flavour_of(version), principal, self.retention_seconds)
        workflow_uuid = workflow["workflow_uuid"]
        self.workflows.create(workflow)
        message_uuid = self._send_first_step(workflow)
        try:
            self.workflows.clear_launch(workflow_uuid, 0)
        except Exception:  # the lease runs out and the next event of the workflow re-queues (harmlessly)
            logger.exception("could not clear the first step's pending start", extra={"workflow_uuid": workflow_uuid})
        metrics.add_metric(name="workflow_started", unit="Count", value=1)
        logger.info("workflow started", extra={"workflow_uuid": workflow_uuid, "steps": len(steps)})
        if version is ApiVersion.V1:
            return {"message_uuid": message_uuid, "workflow_id": workflow_uuid}
        return {id_field(workflow["flavour"]): workflow_uuid}

    def _check_channel_rules(self, messages: list[OutboundMessage], version: ApiVersion, principal: Principal) -> None:
        problems: list[InvalidParameter] = []
        for index, message in enumerate(messages):
            try:
                self.acceptor.check_channel_rules(message, principal)
            except ValidationFailed as exc:
                problems.extend(prefixed_failure(step_prefix(version, index), exc))
        if problems:
            raise ValidationFailed(problems)

    def _send_first_step(self, workflow: dict[str, Any]) -> str:
        workflow_uuid = workflow["workflow_uuid"]
        message_uuid = str(workflow["steps"][0]["message_uuid"])
        created = False
        try:
            self.launcher.create_message(workflow, 0)
            created = True
            self.launcher.queue(workflow, 0, message_uuid)
        except Exception as exc:
            logger.exception("first step not queued", extra={"workflow_uuid": workflow_uuid})
            reason = f"could not be queued for sending ({type(exc).__name__})"
            if created and not self.messages.mark_enqueue_failed(message_uuid, reason):
                return message_uuid  # the enqueue landed after all and a sender took the message
            outcome = {"status": ERROR, "step": 0, "reason": NOT_QUEUED, "at": clock.iso()}
            entry = {"timestamp": clock.iso(), "event": NOT_QUEUED, "step": 0, "effect": ERROR}
            self.workflows.finish(workflow_uuid, 0, outcome, None, [entry])
            raise ServiceUnavailable(
                "The workflow could not be queued for sending; nothing was sent. Please retry."
            ) from None
        return message_uuid


def new_workflow(steps: list[Step], flavour: str, principal: Principal, retention_seconds: int) -> dict[str, Any]:
    now = clock.now()
    timestamp = clock.iso(now)
    workflow_uuid = str(uuid.uuid4())
    items: list[dict[str, Any]] = []
    for step in steps:
        item: dict[str, Any] = {"message": step.message.to_item(), "message_uuid": str(uuid.uuid4())}
        if step.failover is not None:
            item["failover"] = step.failover.to_item()
        items.append(item)
    first_failover = steps[0].failover
    workflow: dict[str, Any] = {
        "workflow_uuid": workflow_uuid,
        "flavour": flavour,
        "template": TEMPLATE,
        "api_key": principal.api_key,
        "auth_method": principal.auth_method,
        "steps": items,
        "current_step": 0,
        "started_at": {"0": timestamp},
        "due_at": {} if first_failover is None else {"0": math.ceil(now) + first_failover.expiry_time},
        "status": IN_PROGRESS,
        "history": [
            {"timestamp": timestamp, "event": "created"},
            {"timestamp": timestamp, "event": "step_started", "step": 0, "message_uuid": items[0]["message_uuid"]},
        ],
        "launch_step": 0,
        "launch_until": math.ceil(now) + LEASE_SECONDS,
        "created_at": timestamp,
        "updated_at": timestamp,
        "expires_at": int(now) + retention_seconds,
    }
    if principal.application_id is not None:
        workflow["application_id"] = principal.application_id
    if principal.webhook_version is not None:
        workflow[OWNER_WEBHOOK_VERSION] = principal.webhook_version  # its step messages carry it
    return workflow
