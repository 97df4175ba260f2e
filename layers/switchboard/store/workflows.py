"""Failover workflow records in the WorkflowsTable (hash key ``workflow_uuid``, TTL ``expires_at``).

An item::

    {"workflow_uuid", "flavour": "workflow" | "dispatch" | "v1", "template": "failover",
     "api_key", "application_id" (JWT only), "auth_method",
     "steps": [{"message": OutboundMessage.to_item(), "message_uuid",
                "failover": {"expiry_time", "condition_status"}}],   # no failover on the last step
     "current_step": 0,                 # index into steps
     "started_at": {"0": "<iso>"},      # when each step was started (its message created and queued)
     "due_at": {"0": 1790000600},       # epoch seconds when each step with a failover expires
     "status": "in_progress" | "completed" | "error",
     "outcome": {"status", "step", "reason", "at"},           # once the workflow ended
     "history": [{"timestamp", "event", "step", ...}],
     "launch_step", "launch_until",     # a started step whose message and timer are not queued yet
     "report_until",                    # the final report is not queued yet
     "created_at", "updated_at", "expires_at"}

Message uuids are chosen when the workflow is created, so starting a step again after a failure
reuses its uuid and never creates a second message. Every move of the workflow (to the next step,
or to its end) is one UpdateItem conditional on ``status = in_progress AND current_step = N``:
of two events racing to move step N, exactly one wins.

``launch_until`` and ``report_until`` are leases (epoch seconds): the writer that set one does
the work and then removes it; anyone else takes the work over only once the lease has run out
(the writer failed), so a live writer's work is not done twice.
"""
from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeSerializer
from botocore.exceptions import ClientError

from switchboard import aws, clock
from switchboard.config import settings
from switchboard.domain.message_record import WorkflowAlreadyExists  # noqa: F401 -- re-exported until the restructuring completes
from switchboard.domain.workflow import IN_PROGRESS
from switchboard.store.messages import deserialize

_serializer = TypeSerializer()


def _serialize(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


class _Expression:
    """One UpdateItem's clauses and placeholders."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attr: str) -> str:
        self.names[f"#{attr}"] = attr
        return f"#{attr}"

    def value(self, key: str, value: Any) -> str:
        self.values[f":{key}"] = _serialize(value)
        return f":{key}"

    def set(self, attr: str, value: Any) -> "_Expression":
        self.sets.append(f"{self.name(attr)} = {self.value(attr, value)}")
        return self

    def set_in_map(self, attr: str, key: int, value: Any) -> "_Expression":
        self.names[f"#k{key}"] = str(key)
        self.sets.append(f"{self.name(attr)}.#k{key} = {self.value(f'{attr}_{key}', value)}")
        return self

    def append_history(self, entries: list[dict[str, Any]]) -> "_Expression":
        history = self.name("history")
        self.sets.append(
            f"{history} = list_append(if_not_exists({history}, {self.value('empty', [])}), "
            f"{self.value('entries', entries)})"
        )
        return self

    def remove(self, *attrs: str) -> "_Expression":
        self.removes.extend(self.name(a) for a in attrs)
        return self

    def text(self) -> str:
        parts = []
        if self.sets:
            parts.append("SET " + ", ".join(self.sets))
        if self.removes:
            parts.append("REMOVE " + ", ".join(self.removes))
        return " ".join(parts)

    def at_step(self, step: int) -> str:
        """The condition every move of the workflow is made under."""
        return (
            f"{self.name('status')} = {self.value('in_progress', IN_PROGRESS)} "
            f"AND {self.name('current_step')} = {self.value('expected_step', step)}"
        )


class WorkflowStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table_name = table_name or settings().workflows_table
        self._client = aws.client("dynamodb")

    def create(self, item: dict[str, Any]) -> None:
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={k: _serialize(v) for k, v in item.items()},
                ConditionExpression="attribute_not_exists(workflow_uuid)",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                raise WorkflowAlreadyExists(item["workflow_uuid"]) from exc
            raise

    def get(self, workflow_uuid: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.table_name, Key={"workflow_uuid": {"S": workflow_uuid}}, ConsistentRead=True
        )
        return deserialize(response.get("Item"))

    def advance(
        self, workflow_uuid: str, from_step: int, due_at: int | None, lease_until: int, entries: list[dict[str, Any]]
    ) -> tuple[bool, dict[str, Any] | None]:
        """Move from step ``from_step`` to the next one and mark its start pending under a lease."""
        to_step = from_step + 1
        now_iso = clock.iso()
        update = (
            _Expression()
            .set("current_step", to_step)
            .set("launch_step", to_step)
            .set("launch_until", lease_until)
            .set("updated_at", now_iso)
            .set_in_map("started_at", to_step, now_iso)
            .append_history(entries)
        )
        if due_at is not None:
            update.set_in_map("due_at", to_step, due_at)
        return self._update(workflow_uuid, update, update.at_step(from_step))

    def finish(
        self, workflow_uuid: str, step: int, outcome: dict[str, Any], report_until: int | None,
        entries: list[dict[str, Any]],
    ) -> tuple[bool, dict[str, Any] | None]:
        """End the workflow at ``step`` with ``outcome`` (its ``status`` is the workflow's)."""
        update = (
            _Expression()
            .set("status", outcome["status"])
            .set("outcome", outcome)
            .set("updated_at", clock.iso())
            .append_history(entries)
        )
        if report_until is not None:
            update.set("report_until", report_until)
        return self._update(workflow_uuid, update, update.at_step(step))

    def note(self, workflow_uuid: str, entry: dict[str, Any]) -> None:
        """Append to the history only (an event that changes nothing)."""
        self._update(workflow_uuid, _Expression().append_history([entry]), None)

    def take_launch_lease(self, workflow_uuid: str, step: int, lease_until: int) -> dict[str, Any] | None:
        """Take over starting ``step`` from a writer whose lease ran out; the record, or None."""
        update = _Expression().set("launch_until", lease_until)
        condition = (
            f"{update.at_step(step)} AND {update.name('launch_step')} = {update.value('launch_step', step)} "
            f"AND {update.name('launch_until')} <= {update.value('now', int(clock.now()))}"
        )
        written, record = self._update(workflow_uuid, update, condition)
        return record if written else None

    def clear_launch(self, workflow_uuid: str, step: int) -> None:
        update = _Expression().remove("launch_step", "launch_until")
        self._update(workflow_uuid, update, f"{update.name('launch_step')} = {update.value('step', step)}")

    def take_report_lease(self, workflow_uuid: str, lease_until: int) -> dict[str, Any] | None:
        update = _Expression().set("report_until", lease_until)
        condition = f"{update.name('report_until')} <= {update.value('now', int(clock.now()))}"
        written, record = self._update(workflow_uuid, update, condition)
        return record if written else None

    def clear_report(self, workflow_uuid: str) -> None:
        self._update(workflow_uuid, _Expression().remove("report_until"), None)

    def _update(
        self, workflow_uuid: str, update: _Expression, condition: str | None
    ) -> tuple[bool, dict[str, Any] | None]:
        """``(True, record after)`` or ``(False, record as found, None if missing)``."""
        full = "attribute_exists(workflow_uuid)" + (f" AND {condition}" if condition else "")
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": {"workflow_uuid": {"S": workflow_uuid}},
            "UpdateExpression": update.text(),
            "ConditionExpression": full,
            "ExpressionAttributeNames": update.names,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if update.values:
            kwargs["ExpressionAttributeValues"] = update.values
        try:
            response = self._client.update_item(**kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            found = exc.response.get("Item")
            return False, deserialize(found) if found else self.get(workflow_uuid)
        return True, deserialize(response.get("Attributes"))


def tag_step_message(message_uuid: str, workflow_uuid: str, step: int, table_name: str | None = None) -> None:
    """Mark a message record as step ``step`` of a workflow (before it is queued for sending)."""
    aws.client("dynamodb").update_item(
        TableName=table_name or settings().messages_table,
        Key={"message_uuid": {"S": message_uuid}},
        UpdateExpression="SET workflow_uuid = :workflow, workflow_step = :step",
        ConditionExpression="attribute_exists(message_uuid)",
        ExpressionAttributeValues={":workflow": {"S": workflow_uuid}, ":step": {"N": str(step)}},
    )
