"""Moved to ``switchboard.receipts.webhook_wiring``; this shim is removed when the restructuring completes."""
from switchboard.receipts.webhook_wiring import Dependencies, default_inbound_service, dependencies, use  # noqa: F401
