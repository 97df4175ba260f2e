"""Moved to ``switchboard.receipts.inbound_intake``; this shim is removed when the restructuring completes."""
from switchboard.receipts.inbound_intake import *  # noqa: F401,F403
