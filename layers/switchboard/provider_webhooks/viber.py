"""Moved to ``switchboard.receipts.viber_webhook``; this shim is removed when the restructuring completes."""
from switchboard.receipts.viber_webhook import *  # noqa: F401,F403
