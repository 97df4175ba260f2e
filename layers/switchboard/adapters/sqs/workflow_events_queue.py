"""The WorkflowEventsQueue; the event types are ``switchboard.domain.workflow_events``."""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.adapters.sqs.queue_url import required_url
from switchboard.domain.workflow_events import StatusEvent, TimerEvent, timer_delay


class WorkflowEventsQueue:
    def __init__(self, client: Any, queue_url: str) -> None:
        self.queue_url = required_url("WorkflowEventsQueue", queue_url)
        self._client = client

    def status_changed(self, record: dict[str, Any], state: str) -> None:
        """Tell the engine that a step message (a record with ``workflow_uuid``) changed status."""
        event = StatusEvent(str(record["workflow_uuid"]), int(record["workflow_step"]), record["message_uuid"], state)
        self._send(event.to_json(), 0)

    def arm_timer(self, workflow_uuid: str, step: int, due_at: int) -> int:
        """Queue the step's timer (one hop of at most 900 s); returns the delay used."""
        delay = timer_delay(due_at, clock.now())
        self._send(TimerEvent(workflow_uuid, step, due_at).to_json(), delay)
        return delay

    def _send(self, body: str, delay_seconds: int) -> None:
        self._client.send_message(QueueUrl=self.queue_url, MessageBody=body, DelaySeconds=delay_seconds)
