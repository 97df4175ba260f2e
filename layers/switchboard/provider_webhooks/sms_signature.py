"""Moved to ``switchboard.receipts.sms_signature``; this shim is removed when the restructuring completes."""
from switchboard.receipts.sms_signature import *  # noqa: F401,F403
