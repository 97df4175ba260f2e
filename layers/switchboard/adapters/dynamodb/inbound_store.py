"""Inbound records on the MessagesTable: what a user sent to a customer, recorded once per provider id.

A record has ``direction = "inbound"`` and ``status = "received"``; its webhook is decided (its
outbox lease) in the same write. With a de-duplication key, a marker item ``inbound-dedupe#<api_key>#<key>``
is written in the same transaction, so a provider's repeat never creates a second record.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from switchboard import clock
from switchboard.adapters.dynamodb.codec import deserialize, serialize_item
from switchboard.adapters.dynamodb.conditional_table import error_code
from switchboard.adapters.dynamodb.message_store import history_entry, messages_table
from switchboard.domain.message_record import INBOUND_DIRECTION, OWNER_WEBHOOK_VERSION, RECEIVED, MessageAlreadyExists
from switchboard.domain.outbox_markers import INBOUND_NOTIFICATION, lease_until, notify_lease_attribute
from switchboard.domain.provider_events import InboundMessage

DEDUPE_PREFIX = "inbound-dedupe#"
_CONDITION_FAILED_IN_TRANSACTION = "ConditionalCheckFailed"  # a cancellation reason's code


def dedupe_item_key(api_key: str, dedupe_key: str) -> str:
    return f"{DEDUPE_PREFIX}{api_key}#{dedupe_key}"


class InboundStore:
    def __init__(self, client: Any, table_name: str, retention_seconds: int) -> None:
        self.table_name = table_name
        self.retention_seconds = retention_seconds
        self._table = messages_table(client, table_name)

    def create_inbound(
        self,
        message_uuid: str,
        inbound: InboundMessage,
        api_key: str,
        application_id: str | None,
        dedupe_key: str | None,
        webhook_version: str | None = None,
    ) -> dict[str, Any] | None:
        """Record an inbound message with its webhook decided (its lease); returns the record.

        With ``dedupe_key`` (e.g. ``"messenger#<mid>"``) a second record for the same key and
        account is never created: the record and a marker item ``inbound-dedupe#<api_key>#<key>``
        (holding ``record_uuid``) are written in one transaction, and ``None`` is returned when the
        marker exists. ``find_inbound`` finds the first record. Raises ``MessageAlreadyExists`` if
        ``message_uuid`` is taken.
        """
        now = clock.now()
        timestamp = clock.iso(now)
        until = lease_until()
        expires_at = int(now) + self.retention_seconds
        item: dict[str, Any] = {
            "message_uuid": message_uuid,
            "direction": INBOUND_DIRECTION,
            "channel": inbound.channel.value,
            "from": inbound.sender.to_dict(),
            "to": inbound.recipient.to_dict(),
            "content": inbound.content,
            "timestamp": clock.iso(inbound.occurred_at),
            "status": RECEIVED,
            "history": [history_entry(RECEIVED, timestamp)],
            "api_key": api_key,
            "created_at": timestamp,
            "updated_at": timestamp,
            "expires_at": expires_at,
            notify_lease_attribute(INBOUND_NOTIFICATION): until,
        }
        optional = {
            "application_id": application_id,
            "provider_message_id": inbound.provider_message_id,
            "dedupe_key": dedupe_key,
            OWNER_WEBHOOK_VERSION: webhook_version,
        }
        item.update({k: v for k, v in optional.items() if v is not None})
        if dedupe_key is None:
            self._table.put_new(item, MessageAlreadyExists)
            return deserialize(serialize_item(item))
        record_put = {
            "TableName": self.table_name,
            "Item": serialize_item(item),
            "ConditionExpression": "attribute_not_exists(message_uuid)",
        }
        marker = {
            "message_uuid": dedupe_item_key(api_key, dedupe_key),
            "kind": "inbound_dedupe",
            "record_uuid": message_uuid,
            "expires_at": expires_at,
        }
        marker_put = {
            "TableName": self.table_name,
            "Item": serialize_item(marker),
            "ConditionExpression": "attribute_not_exists(message_uuid)",
        }
        try:
            self._table.request("transact_write_items", TransactItems=[{"Put": record_put}, {"Put": marker_put}])
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == _CONDITION_FAILED_IN_TRANSACTION:
                return None
            if reasons and reasons[0] == _CONDITION_FAILED_IN_TRANSACTION:
                raise MessageAlreadyExists(message_uuid) from exc
            raise
        return deserialize(serialize_item(item))

    def find_inbound(self, api_key: str, dedupe_key: str) -> dict[str, Any] | None:
        """The inbound record first created for ``dedupe_key`` in this account, if any."""
        marker = self._table.get(dedupe_item_key(api_key, dedupe_key))
        if marker is None or not marker.get("record_uuid"):
            return None
        return self._table.get(str(marker["record_uuid"]))
