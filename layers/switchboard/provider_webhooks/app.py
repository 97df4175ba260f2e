"""Moved to ``switchboard.receipts.webhook_routes``; this shim is removed when the restructuring completes."""
from switchboard.receipts.webhook_routes import ROUTES, create_app  # noqa: F401
