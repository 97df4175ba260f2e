"""WhatsApp customer service windows in the ContactsTable: when a customer last wrote to a business number.

WhatsApp lets a business send free-form messages to a customer only within 24 hours of the
customer's last message to that business number; outside it, only templates. The webhooks function
records every inbound WhatsApp message here; the API reads it before accepting a free-form message.

Item: ``pk = "whatsapp-window#<business number>#<customer number>"``, ``last_inbound_at`` (epoch
seconds of the customer's latest message, as WhatsApp dated it) and ``expires_at`` (the table's TTL:
the message retention period after that message). The item outlives the 24 hours on purpose: an
item older than 24 hours says "we know the window is closed"; no item says "we do not know" (the
number may predate this deployment, or the item expired), and the provider decides.

Writes: one conditional ``UpdateItem`` per inbound message, which only moves ``last_inbound_at``
forward (a provider's late or repeated webhook changes nothing). Reads: one eventually consistent
``GetItem`` of one attribute per free-form send.
"""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.adapters.dynamodb.codec import serialize
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable, is_condition_failure

KEY_PREFIX = "whatsapp-window#"


def window_key(business_number: str, customer_number: str) -> str:
    return f"{KEY_PREFIX}{business_number}#{customer_number}"


class WhatsAppWindowStore:
    def __init__(self, client: Any, table_name: str, retention_seconds: int) -> None:
        self.table_name = table_name
        self.retention_seconds = retention_seconds
        self._table = ConditionalTable(client, table_name, "pk")

    def record_inbound(self, business_number: str, customer_number: str, occurred_at: float) -> bool:
        """Record a customer's message; False when a later one is recorded already (nothing written)."""
        from botocore.exceptions import ClientError

        at = int(occurred_at)
        try:
            self._table.request(
                "update_item",
                TableName=self.table_name,
                Key=self._table.key(window_key(business_number, customer_number)),
                UpdateExpression="SET last_inbound_at = :at, expires_at = :expires",
                ConditionExpression="attribute_not_exists(last_inbound_at) OR last_inbound_at < :at",
                ExpressionAttributeValues={
                    ":at": serialize(at),
                    ":expires": serialize(max(at, int(clock.now())) + self.retention_seconds),
                },
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def last_inbound_at(self, business_number: str, customer_number: str) -> float | None:
        """Epoch seconds of the customer's last recorded message, or None when none is recorded."""
        item = self._table.get_raw(
            window_key(business_number, customer_number), consistent=False, projection="last_inbound_at, expires_at"
        )
        if not item or "last_inbound_at" not in item:
            return None
        expires_at = item.get("expires_at", {}).get("N")
        if expires_at is not None and int(expires_at) <= clock.now():
            return None
        return float(item["last_inbound_at"]["N"])
