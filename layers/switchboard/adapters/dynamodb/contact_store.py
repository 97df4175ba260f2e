"""Viber contacts in the ContactsTable: numbers a Viber service has sent a transaction message to.

Viber only lets a service send promotions to a number after a transaction message reached it, so
the sender records every submitted transaction message here and the API checks it before accepting
a promotion. Item: ``pk = "viber#<service id>#<number>"``, ``service_id``, ``number``,
``last_transaction_at`` (ISO-8601) and ``expires_at`` (epoch seconds, the table's TTL).

The TTL slides: a transaction message re-puts the item, so a contact lasts for the message
retention period after its latest transaction message. That keeps contact data no longer than the
messages that justify it. DynamoDB removes expired items lazily (up to days later), so reads check
``expires_at`` themselves.

A sender process re-puts a contact it recorded itself at most once per ``refresh_seconds`` (a day,
or half the retention if that is shorter): most transaction messages go to numbers the service
has written to before, and each put costs a request and a write unit. A contact can so end up to
that much earlier than the retention after its latest message, never before the retention after
the message that recorded it.
"""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable
from switchboard.ttl_cache import MISSING, TtlCache

CONTACT_REFRESH_SECONDS = 24 * 3600


def contact_key(service_id: str, number: str) -> str:
    return f"viber#{service_id}#{number}"


class ContactStore:
    def __init__(self, client: Any, table_name: str, retention_seconds: int) -> None:
        self.table_name = table_name
        self.retention_seconds = retention_seconds
        self._table = ConditionalTable(client, table_name, "pk")
        self.refresh_seconds = min(CONTACT_REFRESH_SECONDS, retention_seconds // 2)
        self._recorded: TtlCache[str, bool] = TtlCache(self.refresh_seconds)

    def has_transaction_contact(self, service_id: str, number: str) -> bool:
        item = self._table.get_raw(contact_key(service_id, number), consistent=False, projection="expires_at")
        if not item:
            return False
        expires_at = item.get("expires_at", {}).get("N")
        return expires_at is None or int(expires_at) > clock.now()

    def record_transaction_contact(self, service_id: str, number: str) -> None:
        """Idempotent: a repeat only moves ``last_transaction_at`` and ``expires_at`` forward; skipped
        if this process recorded the contact within ``refresh_seconds``."""
        key = contact_key(service_id, number)
        if self._recorded.get(key) is not MISSING:
            return
        now = clock.now()
        self._table.put(
            {
                "pk": key,
                "service_id": service_id,
                "number": number,
                "last_transaction_at": clock.iso(now),
                "expires_at": int(now) + self.retention_seconds,
            }
        )
        self._recorded.put(key, True)
