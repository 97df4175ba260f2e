"""Moved to ``switchboard.receipts.ingestion``; this shim is removed when the restructuring completes."""
from switchboard.receipts.ingestion import *  # noqa: F401,F403
