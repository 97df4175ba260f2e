"""Moved to ``switchboard.receipts.messenger_webhook``; this shim is removed when the restructuring completes."""
from switchboard.receipts.messenger_webhook import *  # noqa: F401,F403
