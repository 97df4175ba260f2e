"""Moved to ``switchboard.adapters.dynamodb.contact_store``; this module is removed when the restructuring completes."""
from __future__ import annotations

from switchboard.adapters import aws_clients as aws
from switchboard.adapters.dynamodb import contact_store
from switchboard.adapters.dynamodb.contact_store import contact_key  # noqa: F401
from switchboard.config import settings


class ContactStore(contact_store.ContactStore):
    """The contact store on the settings' ContactsTable, with the settings' retention."""

    def __init__(self, table_name: str | None = None) -> None:
        super().__init__(aws.client("dynamodb"), table_name or settings().contacts_table, settings().retention_seconds)
