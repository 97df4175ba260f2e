"""The MessagesTable's four stores on one client and table: what a function that both reads and writes
message records (send lifecycle, receipts, the notification outbox, inbound messages) is given."""
from __future__ import annotations

from switchboard.adapters.dynamodb.inbound_store import InboundStore
from switchboard.adapters.dynamodb.message_store import MessageStore
from switchboard.adapters.dynamodb.outbox_store import OutboxStore
from switchboard.adapters.dynamodb.receipt_store import ReceiptStore


class MessagesTable(MessageStore, ReceiptStore, OutboxStore, InboundStore):
    """Built as ``MessageStore(client, table_name, retention_seconds)``; the others share its table."""
