"""The final report of a workflow (protocols.md 4.3), queued on the NotifyQueue like every webhook.

Body::

    {"workflow_uuid" | "dispatch_uuid" | "workflow_id": "<uuid>", "template": "failover",
     "status": "completed" | "error", "timestamp": "<iso>",
     "_links": {"messages": [{"message_uuid", "href", "channel", "status"}]}}   # one per started step

It goes to the status URL of the workflow's owner (the application's for JWT requests, else the
account's); a v1 request's ``webhook_url`` on its first message takes precedence, as it does for
that message's status webhooks. The notifier signs it and retries it for 24 hours.
"""
from __future__ import annotations

from typing import Any, Protocol

from switchboard import clock
from switchboard.domain import status
from switchboard.domain.notification import STATUS_URL, WORKFLOW_KIND, Notification, owner_target
from switchboard.domain.workflow import FLAVOUR_V1, TEMPLATE, id_field

_V1_CHANNEL_NAMES = {"viber_service_msg": "viber_service"}
_PRE_SEND = frozenset({status.ACCEPTED, status.SENDING})


class MessageReader(Protocol):
    def get(self, message_uuid: str) -> dict[str, Any] | None: ...


class NotificationQueue(Protocol):
    def send(self, notification: Notification, delay_seconds: int = 0) -> None: ...


def started_steps(workflow: dict[str, Any]) -> range:
    return range(int(workflow["current_step"]) + 1)


def message_status(record: dict[str, Any] | None) -> str:
    """The public status of a step message; before it was submitted it is ``accepted``."""
    current = (record or {}).get("status", status.ACCEPTED)
    return "accepted" if current in _PRE_SEND else str(current)


def step_channel(workflow: dict[str, Any], step: int) -> str:
    channel = str(workflow["steps"][step]["message"]["channel"])
    return _V1_CHANNEL_NAMES.get(channel, channel) if workflow["flavour"] == FLAVOUR_V1 else channel


def message_href(workflow: dict[str, Any], message_uuid: str) -> str:
    return f"/{'v1' if workflow['flavour'] == FLAVOUR_V1 else 'v0.1'}/messages/{message_uuid}"


def report_body(workflow: dict[str, Any], messages: MessageReader) -> dict[str, Any]:
    links = []
    for step in started_steps(workflow):
        message_uuid = str(workflow["steps"][step]["message_uuid"])
        links.append(
            {
                "message_uuid": message_uuid,
                "href": message_href(workflow, message_uuid),
                "channel": step_channel(workflow, step),
                "status": message_status(messages.get(message_uuid)),
            }
        )
    outcome = workflow["outcome"]
    return {
        id_field(workflow["flavour"]): workflow["workflow_uuid"],
        "template": TEMPLATE,
        "status": outcome["status"],
        "timestamp": outcome["at"],
        "_links": {"messages": links},
    }


def report_target(workflow: dict[str, Any]) -> dict[str, Any]:
    target = owner_target(workflow, STATUS_URL)
    webhook_url = workflow["steps"][0]["message"].get("webhook_url")
    if webhook_url:
        target["webhook_url"] = webhook_url
    return target


class Reports:
    def __init__(self, messages: MessageReader, queue: NotificationQueue) -> None:
        self.messages = messages
        self.queue = queue

    def send(self, workflow: dict[str, Any]) -> None:
        body = report_body(workflow, self.messages)
        self.queue.send(
            Notification(
                kind=WORKFLOW_KIND,
                message_uuid=workflow["workflow_uuid"],
                notification=f"workflow:{body['status']}",
                body=body,
                target=report_target(workflow),
                attempt=1,
                first_attempt_at=clock.now(),
            )
        )
