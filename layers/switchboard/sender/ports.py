"""Moved to ``switchboard.sender.sender_ports``; this shim is removed when the restructuring completes."""
from switchboard.sender.sender_ports import (  # noqa: F401
    AdapterLookup, MessageRecords, OutcomeRecorder, RedeliveryDelay, StatusWebhooks, TransactionContacts,
)
