"""Provider receipts on message records: the conditional status writes and the lookups that find them.

Receipt writes are conditional on the current status and on ``seen_statuses``, so a repeated
receipt changes nothing and a late one is recorded without moving the status back.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any

from switchboard import clock
from switchboard.domain import status
from switchboard.adapters.dynamodb.message_store import IN_PROGRESS, history_entry, messages_table
from switchboard.adapters.dynamodb.outbox_store import mark_pending
from switchboard.adapters.dynamodb.update_builder import UpdateBuilder
from switchboard.domain.message_record import (
    CONVERSATION_INDEX,
    DELIVERED_PARTS,
    PROVIDER_REF_INDEX,
    SMS_PART_COUNT,
    StatusWrite,
    StatusWriteOutcome,
)
from switchboard.domain.outbox_markers import lease_until

# Each round of apply_status follows a status change made under it; statuses only move forward.
_MAX_STATUS_ROUNDS = 8


class ReceiptStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self.table_name = table_name
        self._table = messages_table(client, table_name)

    def apply_status(
        self,
        message_uuid: str,
        new_status: str,
        allowed_from: Collection[str],
        occurred_at: float,
        error: dict[str, Any] | None = None,
        event: str | None = None,
        single_part_only: bool = False,
    ) -> StatusWrite:
        """Move the record to ``new_status`` if it is in one of ``allowed_from`` and the status is new.

        One conditional UpdateItem changes the status, adds it to ``seen_statuses``, appends the
        history entry and marks its webhook pending (``status_notification(new_status)`` plus its
        lease). If the record is already past ``new_status`` the status is recorded as late
        (history entry with ``"late": true`` and ``seen_statuses``), without changing the status or
        marking a webhook. A status already in ``seen_statuses`` writes nothing. ``occurred_at`` is
        when the provider says it happened; it becomes the entry's ``occurred_at`` and the webhook's
        ``timestamp``.

        ``single_part_only`` (an SMS ``delivered`` found through the record itself): the write also
        requires the message to be a single SMS; a multipart one answers ``PARTS_PENDING`` with
        nothing written, for the caller to count the part (``record_delivered_part``) instead. A
        single SMS pays nothing extra: the check is one more clause of the same condition.
        """
        occurred_at_iso = clock.iso(occurred_at)
        for _ in range(_MAX_STATUS_ROUNDS):
            timestamp = clock.iso()
            entry = history_entry(new_status, timestamp, occurred_at=occurred_at_iso, error=error, event=event)
            update = UpdateBuilder().set("status", new_status).set("updated_at", timestamp).append_history(entry)
            if error is not None:
                update.set("error", error)
            mark_pending(update, new_status, lease_until())
            condition = f"{_status_in(update, allowed_from)} AND {_not_seen(update, new_status)}"
            if single_part_only:
                condition += f" AND attribute_not_exists({update.name(SMS_PART_COUNT)})"
            written, record = self._table.try_update(message_uuid, update, condition)
            if written:
                return StatusWrite(StatusWriteOutcome.APPLIED, record)
            if record is None:
                return StatusWrite(StatusWriteOutcome.MISSING, None)
            if new_status in _seen(record):
                return StatusWrite(StatusWriteOutcome.DUPLICATE, record)
            current = record.get("status")
            if single_part_only and record.get(SMS_PART_COUNT) and current in allowed_from:
                return StatusWrite(StatusWriteOutcome.PARTS_PENDING, record)
            if current in allowed_from:
                continue  # changed between the condition check and our read: decide again
            if current in IN_PROGRESS:
                return StatusWrite(StatusWriteOutcome.NOT_READY, record)
            late = UpdateBuilder().set("updated_at", timestamp).append_history({**entry, "late": True})
            mark_pending(late, new_status, 0, notify=False)
            condition = (
                f"{late.name('status')} = {late.value('expected_status', current)} "
                f"AND {_not_seen(late, new_status)}"
            )
            written, record = self._table.try_update(message_uuid, late, condition)
            if written:
                return StatusWrite(StatusWriteOutcome.LATE, record)
            if record is None:
                return StatusWrite(StatusWriteOutcome.MISSING, None)
        raise RuntimeError(f"message {message_uuid} kept changing while recording {new_status}")

    def settle_unknown_as_submitted(
        self, message_uuid: str, provider_message_id: str, provider_ref: str
    ) -> dict[str, Any] | None:
        """``outcome_unknown`` -> ``submitted`` on evidence the provider took the message (a receipt).

        Writes and indexes the provider id the lost answer would have given, and marks the
        ``submitted`` webhook pending. The record after the write, or None if it was no longer
        ``outcome_unknown`` (settled already, or rejected when its window ran out).
        """
        timestamp = clock.iso()
        update = (
            UpdateBuilder()
            .set("status", status.SUBMITTED)
            .set("provider_message_id", provider_message_id)
            .set("provider_ref", provider_ref)
            .set("updated_at", timestamp)
            .append_history(history_entry(status.SUBMITTED, timestamp, event="outcome_reconciled"))
            .remove("unknown_until")
        )
        mark_pending(update, status.SUBMITTED, lease_until())
        condition = f"{update.name('status')} = {update.value('expected_status', status.OUTCOME_UNKNOWN)}"
        written, record = self._table.try_update(message_uuid, update, condition)
        return record if written else None

    def record_delivered_part(self, message_uuid: str, part: int) -> dict[str, Any] | None:
        """Add ``part`` (0 = the first) to a multipart SMS's ``delivered_parts``; the record after, or
        None if there is none. Adding a part again changes nothing (a set)."""
        update = UpdateBuilder().add_to_set(DELIVERED_PARTS, str(part))
        written, record = self._table.try_update(message_uuid, update, None)
        return record if written else None

    def message_uuids_by_provider_ref(self, provider_ref: str) -> list[str]:
        """The keys the ProviderRefIndex has for ``provider_ref`` (eventually consistent): a message
        uuid, or for a later part of a multipart SMS its index item's key (``split_part_key``)."""
        response = self._table.request(
            "query",
            TableName=self.table_name,
            IndexName=PROVIDER_REF_INDEX,
            KeyConditionExpression="provider_ref = :ref",
            ExpressionAttributeValues={":ref": {"S": provider_ref}},
        )
        return [item["message_uuid"]["S"] for item in response.get("Items", [])]

    def conversation_message_uuids(
        self, conversation: str, sent_up_to_ms: int, page_size: int = 25
    ) -> Iterator[list[str]]:
        """Pages of the conversation's messages sent at or before ``sent_up_to_ms``, newest first."""
        start_key: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": CONVERSATION_INDEX,
                "KeyConditionExpression": "conversation = :conversation AND sent_at_ms <= :watermark",
                "ExpressionAttributeValues": {
                    ":conversation": {"S": conversation},
                    ":watermark": {"N": str(int(sent_up_to_ms))},
                },
                "ScanIndexForward": False,
                "Limit": page_size,
            }
            if start_key:
                kwargs["ExclusiveStartKey"] = start_key
            response = self._table.request("query", **kwargs)
            page = [item["message_uuid"]["S"] for item in response.get("Items", [])]
            if page:
                yield page
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                return


def _status_in(update: UpdateBuilder, states: Collection[str]) -> str:
    placeholders = ", ".join(update.value(f"from_{i}", state) for i, state in enumerate(sorted(states)))
    return f"{update.name('status')} IN ({placeholders})"


def _not_seen(update: UpdateBuilder, state: str) -> str:
    return f"NOT contains({update.name('seen_statuses')}, {update.value('new_status', state)})"


def _seen(record: dict[str, Any]) -> set[str]:
    return set(record.get("seen_statuses") or ())
