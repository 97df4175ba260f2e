"""Starting a step: its message record (tagged with the workflow), its expiry timer, then the send.

Every part may run twice (a retry after a failure, or a takeover after a lease ran out) without
sending twice: the message uuid was fixed when the workflow was created, the record is never
created twice, the sender claims a queued message only once, and a second timer for the same step
is absorbed by the engine's conditional writes. The timer goes out before the message is queued,
so a step that is being sent always has its timer.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from switchboard.domain.message import OutboundMessage, Principal
from switchboard.domain.message_record import OWNER_WEBHOOK_VERSION, MessageAlreadyExists


class StepMessages(Protocol):
    def create(self, message_uuid: str, message: OutboundMessage, principal: Principal) -> None: ...


class Outbound(Protocol):
    def enqueue(self, message_uuid: str, delay_seconds: int = 0, tenant: str | None = None) -> None: ...


class Timers(Protocol):
    def arm_timer(self, workflow_uuid: str, step: int, due_at: int) -> int: ...


class Tagger(Protocol):
    def __call__(self, message_uuid: str, workflow_uuid: str, step: int) -> None: ...


def principal_of(workflow: dict[str, Any]) -> Principal:
    return Principal(
        api_key=workflow["api_key"],
        application_id=workflow.get("application_id"),
        auth_method=workflow.get("auth_method", "basic"),
        webhook_version=workflow.get(OWNER_WEBHOOK_VERSION),
    )


def due_at_of(workflow: dict[str, Any], step: int) -> int | None:
    value = (workflow.get("due_at") or {}).get(str(step))
    return None if value is None else int(value)


@dataclass
class StepLauncher:
    messages: StepMessages
    tag: Tagger
    timers: Timers
    outbound: Outbound

    def create_message(self, workflow: dict[str, Any], step: int) -> str:
        """The step's message record, written once and tagged with the workflow; returns its uuid."""
        spec = workflow["steps"][step]
        message_uuid = str(spec["message_uuid"])
        try:
            self.messages.create(message_uuid, OutboundMessage.from_item(spec["message"]), principal_of(workflow))
        except MessageAlreadyExists:
            pass  # a previous attempt wrote it
        self.tag(message_uuid, workflow["workflow_uuid"], step)
        return message_uuid

    def queue(self, workflow: dict[str, Any], step: int, message_uuid: str) -> None:
        due_at = due_at_of(workflow, step)
        if due_at is not None:
            self.timers.arm_timer(workflow["workflow_uuid"], step, due_at)
        self.outbound.enqueue(message_uuid, tenant=str(workflow["api_key"]))

    def launch(self, workflow: dict[str, Any], step: int) -> str:
        message_uuid = self.create_message(workflow, step)
        self.queue(workflow, step, message_uuid)
        return message_uuid

