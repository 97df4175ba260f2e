"""Moved to ``switchboard.adapters.dynamodb`` (message, receipt, outbox and inbound stores); the record
layout is in ``docs/data-model.md``. This module is removed when the restructuring completes.

``MessageStore`` here is the old all-in-one store over the four, built from the settings as before.
"""
from __future__ import annotations

from switchboard.adapters import aws_clients as aws
from switchboard.adapters.dynamodb import message_store
from switchboard.adapters.dynamodb.codec import deserialize, to_python  # noqa: F401
from switchboard.adapters.dynamodb.inbound_store import InboundStore, dedupe_item_key as _dedupe_item_key  # noqa: F401
from switchboard.adapters.dynamodb.message_store import MESSAGE_KEY, messages_table  # noqa: F401
from switchboard.adapters.dynamodb.outbox_store import OutboxStore
from switchboard.adapters.dynamodb.receipt_store import ReceiptStore
from switchboard.config import settings
from switchboard.domain.message_record import (  # noqa: F401
    CONVERSATION_INDEX,
    INBOUND_DIRECTION,
    PROVIDER_REF_INDEX,
    RECEIVED,
    ClaimAttempt,
    ClaimState,
    MessageAlreadyExists,
    StaleClaim,
    StatusWrite,
    StatusWriteOutcome,
    transition_entry,
)
from switchboard.domain.outbox_markers import (  # noqa: F401
    INBOUND_NOTIFICATION,
    NOTIFY_LEASE_SECONDS,
    LeaseState,
    NotifyLease,
    lease_until,
    notify_lease_attribute,
    status_notification,
)


class MessageStore(message_store.MessageStore, ReceiptStore, OutboxStore, InboundStore):
    """All four stores on one table, with the table and retention from the settings."""

    def __init__(self, table_name: str | None = None) -> None:
        self.table_name = table_name or settings().messages_table
        self.retention_seconds = settings().retention_seconds
        self._client = aws.client("dynamodb")
        self._table = messages_table(self._client, self.table_name)

