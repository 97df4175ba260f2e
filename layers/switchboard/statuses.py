"""Moved to ``switchboard.receipts.status_machine``; this shim is removed when the restructuring completes."""
from switchboard.receipts.status_machine import *  # noqa: F401,F403
from switchboard.receipts.status_machine import ALLOWED_FROM, WATERMARK_EVENT, WATERMARK_PAGE_SIZE, WATERMARK_STATUSES  # noqa: F401
