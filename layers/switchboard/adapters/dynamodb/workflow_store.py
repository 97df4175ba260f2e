"""Failover workflow records in the WorkflowsTable (hash key ``workflow_uuid``, TTL ``expires_at``).

Every move of a workflow (to the next step, or to its end) is one UpdateItem conditional on
``status = in_progress AND current_step = N`` (``at_step``): of two events racing to move step N,
exactly one wins. ``launch_until`` and ``report_until`` are leases (epoch seconds): the writer
that set one does the work and removes it; anyone else takes the work over only once it has run
out. The record's attributes: ``docs/data-model.md``.
"""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable
from switchboard.adapters.dynamodb.update_builder import UpdateBuilder
from switchboard.domain.message_record import WorkflowAlreadyExists
from switchboard.domain.workflow import IN_PROGRESS

WORKFLOW_KEY = "workflow_uuid"


def at_step(update: UpdateBuilder, step: int) -> str:
    """The condition every move of the workflow is made under."""
    return (
        f"{update.name('status')} = {update.value('in_progress', IN_PROGRESS)} "
        f"AND {update.name('current_step')} = {update.value('expected_step', step)}"
    )


class WorkflowStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self.table_name = table_name
        self._table = ConditionalTable(client, table_name, WORKFLOW_KEY)

    def create(self, item: dict[str, Any]) -> None:
        self._table.put_new(item, WorkflowAlreadyExists)

    def get(self, workflow_uuid: str) -> dict[str, Any] | None:
        return self._table.get(workflow_uuid)

    def advance(
        self, workflow_uuid: str, from_step: int, due_at: int | None, lease_until: int, entries: list[dict[str, Any]]
    ) -> tuple[bool, dict[str, Any] | None]:
        """Move from step ``from_step`` to the next one and mark its start pending under a lease."""
        to_step = from_step + 1
        now_iso = clock.iso()
        update = (
            UpdateBuilder()
            .set("current_step", to_step)
            .set("launch_step", to_step)
            .set("launch_until", lease_until)
            .set("updated_at", now_iso)
            .set_in_map("started_at", to_step, now_iso)
            .append_history(*entries)
        )
        if due_at is not None:
            update.set_in_map("due_at", to_step, due_at)
        return self._table.try_update(workflow_uuid, update, at_step(update, from_step))

    def finish(
        self, workflow_uuid: str, step: int, outcome: dict[str, Any], report_until: int | None,
        entries: list[dict[str, Any]],
    ) -> tuple[bool, dict[str, Any] | None]:
        """End the workflow at ``step`` with ``outcome`` (its ``status`` is the workflow's)."""
        update = (
            UpdateBuilder()
            .set("status", outcome["status"])
            .set("outcome", outcome)
            .set("updated_at", clock.iso())
            .append_history(*entries)
        )
        if report_until is not None:
            update.set("report_until", report_until)
        return self._table.try_update(workflow_uuid, update, at_step(update, step))

    def record_webhook_attempt(
        self, workflow_uuid: str, attempt: dict[str, Any], history_note: dict[str, Any] | None = None
    ) -> bool:
        """Append a delivery attempt of the final report to ``webhook_attempts`` (``history_note`` to the
        history); False if there is no such workflow (it expired)."""
        update = UpdateBuilder().append("webhook_attempts", attempt)
        if history_note is not None:
            update.append_history(history_note)
        written, _ = self._table.try_update(workflow_uuid, update, None)
        return written

    def note(self, workflow_uuid: str, entry: dict[str, Any]) -> None:
        """Append to the history only (an event that changes nothing)."""
        self._table.try_update(workflow_uuid, UpdateBuilder().append_history(entry), None)

    def take_launch_lease(self, workflow_uuid: str, step: int, lease_until: int) -> dict[str, Any] | None:
        """Take over starting ``step`` from a writer whose lease ran out; the record, or None."""
        update = UpdateBuilder().set("launch_until", lease_until)
        condition = (
            f"{at_step(update, step)} AND {update.name('launch_step')} = {update.value('launch_step', step)} "
            f"AND {update.name('launch_until')} <= {update.value('now', int(clock.now()))}"
        )
        written, record = self._table.try_update(workflow_uuid, update, condition)
        return record if written else None

    def clear_launch(self, workflow_uuid: str, step: int) -> None:
        update = UpdateBuilder().remove("launch_step", "launch_until")
        self._table.try_update(workflow_uuid, update, f"{update.name('launch_step')} = {update.value('step', step)}")

    def take_report_lease(self, workflow_uuid: str, lease_until: int) -> dict[str, Any] | None:
        update = UpdateBuilder().set("report_until", lease_until)
        condition = f"{update.name('report_until')} <= {update.value('now', int(clock.now()))}"
        written, record = self._table.try_update(workflow_uuid, update, condition)
        return record if written else None

    def clear_report(self, workflow_uuid: str) -> None:
        self._table.try_update(workflow_uuid, UpdateBuilder().remove("report_until"), None)
