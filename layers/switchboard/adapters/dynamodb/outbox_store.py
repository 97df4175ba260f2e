"""The outbox on message records: decided customer webhooks and their leases, and delivery attempts.

A status write that decides on a webhook sets its lease attribute (``outbox_<status>``, in the
same UpdateItem: ``mark_pending``); ``switchboard.notifier.outbox`` queues it. Nothing clears it:
the notifier's first attempt, appended to the message's webhook-attempts item (key
``webhooks#<message uuid>``, same table, same TTL), is the evidence that it was queued. Markers and
leases: ``switchboard.domain.outbox_markers``.
"""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable
from switchboard.adapters.dynamodb.update_builder import UpdateBuilder
from switchboard.domain.notification import INBOUND_KIND, STATUS_KIND
from switchboard.domain.outbox_markers import (
    LeaseState,
    NotifyLease,
    WEBHOOK_ATTEMPTS_KIND,
    lease_until,
    notify_lease_attribute,
    status_notification,
    webhook_attempts_key,
)

# Attempts are kept for the kinds whose uuid names a message record (a workflow's final report
# names a workflow, which keeps its own).
_MESSAGE_KINDS = frozenset({STATUS_KIND, INBOUND_KIND})


def mark_pending(update: UpdateBuilder, state: str, lease_until: int, notify: bool = True) -> UpdateBuilder:
    """Record ``state`` as seen and, with ``notify``, decide its webhook under a lease."""
    update.add_to_set("seen_statuses", state)
    if notify:
        update.set(notify_lease_attribute(status_notification(state)), lease_until)
    return update


class OutboxStore:
    def __init__(self, client: Any, table_name: str, retention_seconds: int) -> None:
        self.table_name = table_name
        self.retention_seconds = retention_seconds
        self._table = ConditionalTable(client, table_name, "message_uuid")

    def take_notify_lease(self, message_uuid: str, marker: str, held_until: int) -> NotifyLease:
        """Take over the lease of a decided webhook from its holder, still ``held_until`` as last seen.

        Used by a republisher (the lease ran out: its writer may have failed to queue it) and by the
        notifier delivering a copy whose lease is too close to running out. Of two callers that saw
        the same lease, one wins; a copy queued under an older lease is then a stale one.
        """
        update = UpdateBuilder()
        lease = update.name(notify_lease_attribute(marker))
        update.set(notify_lease_attribute(marker), lease_until())
        condition = f"{lease} = {update.value('held_until', held_until)}"
        written, record = self._table.try_update(message_uuid, update, condition)
        if written:
            return NotifyLease(LeaseState.TAKEN, record)
        if record is None:
            return NotifyLease(LeaseState.MISSING, None)
        if record.get(notify_lease_attribute(marker)) is None:
            return NotifyLease(LeaseState.NOT_PENDING, record)
        return NotifyLease(LeaseState.HELD, record)

    def release_notify_lease(self, message_uuid: str, marker: str, lease_until: int) -> None:
        """Give up a lease after failing to queue, so a retry need not wait for it to run out."""
        update = UpdateBuilder()
        lease = update.name(notify_lease_attribute(marker))
        update.set(notify_lease_attribute(marker), 0)
        self._table.try_update(
            message_uuid, update, f"{lease} = {update.value('held_until', lease_until)}", returning=False
        )

    def record_webhook_attempt(
        self, message_uuid: str, attempt: dict[str, Any], history_note: dict[str, Any] | None = None
    ) -> bool:
        """Append to the message's webhook attempts (and ``history_note`` to its history).

        The attempts live in their own item, so the message record stays small (every write to it
        costs one write unit per started KB). False if the attempt is not a message's (nothing written).
        """
        if attempt.get("kind") not in _MESSAGE_KINDS:
            return False
        update = UpdateBuilder().append("webhook_attempts", attempt).set("kind", WEBHOOK_ATTEMPTS_KIND)
        expires = update.name("expires_at")
        update.set_expression(
            "expires_at",
            f"if_not_exists({expires}, {update.value('expires_at', int(clock.now()) + self.retention_seconds)})",
        )
        self._table.request(
            "update_item",
            TableName=self.table_name,
            Key=self._table.key(webhook_attempts_key(message_uuid)),
            UpdateExpression=update.expression(),
            ExpressionAttributeNames=update.names,
            ExpressionAttributeValues=update.values,
        )
        if history_note is not None:
            self._table.try_update(message_uuid, UpdateBuilder().append_history(history_note), None, returning=False)
        return True

    def webhook_attempts(self, message_uuid: str) -> list[dict[str, Any]]:
        """Every recorded delivery attempt of the message's customer webhooks, oldest first."""
        item = self._table.get(webhook_attempts_key(message_uuid))
        return list((item or {}).get("webhook_attempts") or [])
