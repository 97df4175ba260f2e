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

from switchboard import aws, clock
from switchboard.config import settings


def contact_key(service_id: str, number: str) -> str:
    return f"viber#{service_id}#{number}"


class ContactStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table_name = table_name or settings().contacts_table
        self._client = aws.client("dynamodb")

    def has_transaction_contact(self, service_id: str, number: str) -> bool:
        response = self._client.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": contact_key(service_id, number)}},
            ProjectionExpression="expires_at",
        )
        item = response.get("Item")
        if not item:
            return False
        expires_at = item.get("expires_at", {}).get("N")
        return expires_at is None or int(expires_at) > clock.now()

    def record_transaction_contact(self, service_id: str, number: str) -> None:
        """Idempotent: a repeat only moves ``last_transaction_at`` and ``expires_at`` forward."""
        now = clock.now()
        self._client.put_item(
            TableName=self.table_name,
            Item={
                "pk": {"S": contact_key(service_id, number)},
                "service_id": {"S": service_id},
                "number": {"S": number},
                "last_transaction_at": {"S": clock.iso(now)},
                "expires_at": {"N": str(int(now) + settings().retention_seconds)},
            },
        )
