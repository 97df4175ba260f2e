"""Viber contacts in the ContactsTable: numbers a Viber service has sent a transaction message to.

Viber only lets a service send promotions to a number after a transaction message reached it, so
the sender records every submitted transaction message here and the API checks it before accepting
a promotion. Item: ``pk = "viber#<service id>#<number>"``, ``service_id``, ``number``,
``last_transaction_at`` (ISO-8601) and ``expires_at`` (epoch seconds, the table's TTL).

The TTL slides: every transaction message re-puts the item, so a contact lasts for the message
retention period after its latest transaction message. That keeps contact data no longer than the
messages that justify it. DynamoDB removes expired items lazily (up to days later), so reads check
``expires_at`` themselves.
"""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable


def contact_key(service_id: str, number: str) -> str:
    return f"viber#{service_id}#{number}"


class ContactStore:
    def __init__(self, client: Any, table_name: str, retention_seconds: int) -> None:
        self.table_name = table_name
        self.retention_seconds = retention_seconds
        self._table = ConditionalTable(client, table_name, "pk")

    def has_transaction_contact(self, service_id: str, number: str) -> bool:
        item = self._table.get_raw(contact_key(service_id, number), consistent=False, projection="expires_at")
        if not item:
            return False
        expires_at = item.get("expires_at", {}).get("N")
        return expires_at is None or int(expires_at) > clock.now()

    def record_transaction_contact(self, service_id: str, number: str) -> None:
        """Idempotent: a repeat only moves ``last_transaction_at`` and ``expires_at`` forward."""
        now = clock.now()
        self._table.put(
            {
                "pk": contact_key(service_id, number),
                "service_id": service_id,
                "number": number,
                "last_transaction_at": clock.iso(now),
                "expires_at": int(now) + self.retention_seconds,
            }
        )
