"""Moved to ``switchboard.receipts.receipt_ports``; this shim is removed when the restructuring completes."""
from switchboard.receipts.receipt_ports import *  # noqa: F401,F403
