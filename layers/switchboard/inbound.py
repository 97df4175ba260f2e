"""Moved to ``switchboard.receipts.inbound_routing``; this shim is removed when the restructuring completes."""
from switchboard.receipts.inbound_routing import *  # noqa: F401,F403
