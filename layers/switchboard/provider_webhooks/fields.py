"""Moved to ``switchboard.receipts.webhook_fields``; this shim is removed when the restructuring completes."""
from switchboard.receipts.webhook_fields import *  # noqa: F401,F403
