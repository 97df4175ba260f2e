"""Reading a failover workflow: ``GET /beta/workflows/{id}``, ``/v0.1/workflows/{id}``,
``/v0.1/dispatch/{id}``, ``/v1/workflows/{id}``.

Only the owning account (or its applications) sees a workflow; anyone else gets the 404 of an
unknown id.
"""
from __future__ import annotations

import uuid
from typing import Any, Protocol

from switchboard import clock
from switchboard.domain.message import Principal
from switchboard.domain.errors import NotFound
from switchboard.domain.workflow import FLAVOUR_V1, TEMPLATE, id_field
from switchboard.workflows.report import message_status, step_channel


class WorkflowReader(Protocol):
    def get(self, workflow_uuid: str) -> dict[str, Any] | None: ...


class MessageReader(Protocol):
    def get(self, message_uuid: str) -> dict[str, Any] | None: ...


def find_workflow(
    workflows: WorkflowReader, messages: MessageReader, workflow_uuid: str, principal: Principal, route_flavour: str,
    self_href: str,
) -> dict[str, Any]:
    not_found = NotFound(f"Workflow {workflow_uuid} was not found.")
    try:
        canonical = str(uuid.UUID(workflow_uuid))
    except ValueError:
        raise not_found from None
    workflow = workflows.get(canonical)
    if workflow is None or workflow.get("api_key") != principal.api_key:
        raise not_found
    return workflow_view(workflow, messages, route_flavour, self_href)


def workflow_view(
    workflow: dict[str, Any], messages: MessageReader, route_flavour: str, self_href: str
) -> dict[str, Any]:
    """The workflow as ``GET`` shows it: ids under the route's names, each started step's live status."""
    current = int(workflow["current_step"])
    steps = []
    for index, spec in enumerate(workflow["steps"]):
        message = spec["message"]
        view: dict[str, Any] = {"step": index, "channel": step_channel(workflow, index)}
        if route_flavour == FLAVOUR_V1:
            view["to"] = message["to"].get("id") or message["to"].get("number")
        else:
            view["to"] = message["to"]
        if spec.get("failover"):
            view["failover"] = spec["failover"]
        if index <= current:
            view["message_uuid"] = spec["message_uuid"]
            view["status"] = message_status(messages.get(str(spec["message_uuid"])))
            view["started_at"] = (workflow.get("started_at") or {}).get(str(index))
            due_at = (workflow.get("due_at") or {}).get(str(index))
            if due_at is not None:
                view["expires_at"] = clock.iso(int(due_at))
        else:
            view["status"] = "not_started"
        steps.append(view)
    return {
        id_field(route_flavour): workflow["workflow_uuid"],
        "template": workflow.get("template", TEMPLATE),
        "status": workflow["status"],
        "current_step": current,
        "steps": steps,
        "outcome": workflow.get("outcome"),
        "created_at": workflow.get("created_at"),
        "updated_at": workflow.get("updated_at"),
        "history": workflow.get("history", []),
        # Delivery attempts of the final report, as a message's status webhooks are on the message.
        "webhook_attempts": workflow.get("webhook_attempts", []),
        "_links": {"self": {"href": self_href}},
    }
