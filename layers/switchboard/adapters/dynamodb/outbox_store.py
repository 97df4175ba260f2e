"""The outbox on message records: pending customer-webhook markers, their leases, delivery attempts.

A status write that decides on a webhook adds its marker to ``pending_notifications`` with a
lease (``mark_pending``, in the same UpdateItem); ``switchboard.notifier.outbox`` queues it
and clears it here. Markers and leases: ``switchboard.domain.outbox_markers``.
"""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable
from switchboard.adapters.dynamodb.update_builder import UpdateBuilder
from switchboard.domain.outbox_markers import (
    LeaseState,
    NotifyLease,
    lease_until,
    notify_lease_attribute,
    status_notification,
)


def mark_pending(update: UpdateBuilder, state: str, lease_until: int, notify: bool = True) -> UpdateBuilder:
    """Record ``state`` as seen and, with ``notify``, mark its webhook pending under a lease."""
    update.add_to_set("seen_statuses", state)
    if notify:
        marker = status_notification(state)
        update.add_to_set("pending_notifications", marker)
        update.set(notify_lease_attribute(marker), lease_until)
    return update


class OutboxStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self.table_name = table_name
        self._table = ConditionalTable(client, table_name, "message_uuid")

    def take_notify_lease(self, message_uuid: str, marker: str) -> NotifyLease:
        """Take the lease of a pending marker whose lease ran out (its writer failed to queue it)."""
        update = UpdateBuilder()
        lease = update.name(notify_lease_attribute(marker))
        update.set(notify_lease_attribute(marker), lease_until())
        condition = (
            f"contains({update.name('pending_notifications')}, {update.value('marker', marker)}) "
            f"AND (attribute_not_exists({lease}) OR {lease} <= {update.value('now', int(clock.now()))})"
        )
        written, record = self._table.try_update(message_uuid, update, condition)
        if written:
            return NotifyLease(LeaseState.TAKEN, record)
        if record is None:
            return NotifyLease(LeaseState.MISSING, None)
        if marker not in (record.get("pending_notifications") or ()):
            return NotifyLease(LeaseState.NOT_PENDING, record)
        return NotifyLease(LeaseState.HELD, record)

    def clear_notification(self, message_uuid: str, marker: str) -> None:
        """The notification is on the queue: drop its marker and lease."""
        update = (
            UpdateBuilder().delete_from_set("pending_notifications", marker).remove(notify_lease_attribute(marker))
        )
        self._table.try_update(message_uuid, update, None, returning=False)

    def release_notify_lease(self, message_uuid: str, marker: str, lease_until: int) -> None:
        """Give up a lease after failing to queue, so a retry need not wait for it to run out."""
        update = UpdateBuilder()
        lease = update.name(notify_lease_attribute(marker))
        update.remove(notify_lease_attribute(marker))
        self._table.try_update(
            message_uuid, update, f"{lease} = {update.value('held_until', lease_until)}", returning=False
        )

    def record_webhook_attempt(
        self, message_uuid: str, attempt: dict[str, Any], history_note: dict[str, Any] | None = None
    ) -> bool:
        """Append to ``webhook_attempts`` (and ``history_note`` to history); False if there is no record."""
        update = UpdateBuilder().append("webhook_attempts", attempt)
        if history_note is not None:
            update.append_history(history_note)
        written, _ = self._table.try_update(message_uuid, update, None, returning=False)
        return written
