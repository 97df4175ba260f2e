"""Moved to ``switchboard.receipts.sms_webhook``; this shim is removed when the restructuring completes."""
from switchboard.receipts.sms_webhook import *  # noqa: F401,F403
