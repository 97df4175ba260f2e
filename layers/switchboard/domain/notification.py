"""What goes on the NotifyQueue: one customer webhook, its body built when it was published.

Queue message body (JSON)::

    {"kind": "status" | "inbound" | "workflow",
     "message_uuid": "<uuid>",                           # a workflow's final report: the workflow uuid
     "notification": "status:delivered" | "inbound" | "workflow:completed",  # the outbox marker it came from
     "body": {...},                                      # the exact webhook JSON object
     "target": {"api_key": "...", "application_id": "...",   # application_id when known
                "url_kind": "status" | "inbound",
                "webhook_url": "..."},                   # v1 per-message URL, status only, when given
     "attempt": 1,                                       # the delivery attempt this message is for
     "first_attempt_at": 1790000000.0,                   # epoch seconds of the first publish
     "lease_until": 1790000060}                          # the outbox lease it was queued under, if any

The URL is resolved only when delivering (``target``), so a changed application or account URL
applies to webhooks already queued. The body is fixed at publish time.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from switchboard.domain.workflow import flavour_of, href, id_field

STATUS_KIND = "status"
INBOUND_KIND = "inbound"
WORKFLOW_KIND = "workflow"  # the final report of a failover workflow (switchboard.workflows.report)
STATUS_URL = "status"
INBOUND_URL = "inbound"


@dataclass(frozen=True)
class Notification:
    kind: str
    message_uuid: str
    notification: str
    body: dict[str, Any]
    target: dict[str, Any]
    attempt: int
    first_attempt_at: float
    # The outbox lease (epoch seconds) the message record held for this webhook when it was queued
    # (``switchboard.notifier.outbox``); None for webhooks without one (a workflow's final report).
    lease_until: int | None = None

    def to_json(self) -> str:
        document: dict[str, Any] = {
            "kind": self.kind,
            "message_uuid": self.message_uuid,
            "notification": self.notification,
            "body": self.body,
            "target": self.target,
            "attempt": self.attempt,
            "first_attempt_at": self.first_attempt_at,
        }
        if self.lease_until is not None:
            document["lease_until"] = self.lease_until
        return json.dumps(document, separators=(",", ":"))

    def body_bytes(self) -> bytes:
        """The exact bytes POSTed and hashed into the signature."""
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")

    def next_attempt(self) -> "Notification":
        return replace(self, attempt=self.attempt + 1)

    @property
    def status(self) -> str | None:
        return self.body.get("status") if self.kind == STATUS_KIND else None

    @classmethod
    def from_json(cls, raw: str | None) -> "Notification | None":
        """The notification in a queue body, or ``None`` if the body is not one."""
        try:
            data = json.loads(raw or "")
        except (TypeError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        kind, message_uuid = data.get("kind"), data.get("message_uuid")
        body, target = data.get("body"), data.get("target")
        attempt, first = data.get("attempt", 1), data.get("first_attempt_at")
        if kind not in (STATUS_KIND, INBOUND_KIND, WORKFLOW_KIND) or not isinstance(message_uuid, str) or not message_uuid:
            return None
        if not isinstance(body, dict) or not isinstance(target, dict) or not isinstance(target.get("api_key"), str):
            return None
        if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
            return None
        if isinstance(first, bool) or not isinstance(first, (int, float)):
            return None
        notification = data.get("notification")
        lease = data.get("lease_until")
        return cls(
            kind=kind,
            message_uuid=message_uuid,
            notification=notification if isinstance(notification, str) else kind,
            body=body,
            target=target,
            attempt=attempt,
            first_attempt_at=float(first),
            lease_until=lease if isinstance(lease, int) and not isinstance(lease, bool) else None,
        )


def status_body(
    record: dict[str, Any], state: str, occurred_at_iso: str, error: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The status webhook (protocols.md 3.3): message_uuid, to, from, timestamp, status, error?, client_ref?

    A step of a failover workflow adds ``_links.workflow``: the workflow's id under its API's name
    (``workflow_uuid``, ``dispatch_uuid``, ``workflow_id``) and its ``href``.
    """
    body: dict[str, Any] = {
        "message_uuid": record["message_uuid"],
        "to": record["to"],
        "from": record["from"],
        "timestamp": occurred_at_iso,
        "status": state,
    }
    if error:
        body["error"] = {"code": int(error["code"]), "reason": str(error.get("reason", ""))}
    if record.get("client_ref") is not None:
        body["client_ref"] = record["client_ref"]
    if record.get("workflow_uuid"):
        body["_links"] = {"workflow": workflow_link(record)}
    return body


def workflow_link(record: dict[str, Any]) -> dict[str, str]:
    """``{"<id field>": "<uuid>", "href": ...}`` for a step message, by the API version it was sent with."""
    flavour = flavour_of(record["api_version"])
    return {id_field(flavour): record["workflow_uuid"], "href": href(flavour, record["workflow_uuid"])}


def inbound_body(record: dict[str, Any]) -> dict[str, Any]:
    """The inbound webhook (protocols.md 3.2), with the ``direction`` Nexmo's real payloads carried."""
    return {
        "message_uuid": record["message_uuid"],
        "to": record["to"],
        "from": record["from"],
        "timestamp": record["timestamp"],
        "message": {"content": record["content"]},
        "direction": "inbound",
    }


def owner_target(record: dict[str, Any], url_kind: str) -> dict[str, Any]:
    """Where a record's webhook goes: its application's URL of ``url_kind``, else its account's."""
    target: dict[str, Any] = {"api_key": record["api_key"], "url_kind": url_kind}
    if record.get("application_id"):
        target["application_id"] = record["application_id"]
    return target


def status_target(record: dict[str, Any]) -> dict[str, Any]:
    target = owner_target(record, STATUS_URL)
    if record.get("webhook_url"):
        target["webhook_url"] = record["webhook_url"]
    return target
