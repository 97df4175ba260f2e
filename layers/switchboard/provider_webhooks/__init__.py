"""Moved to ``switchboard.receipts``; this shim is removed when the restructuring completes."""

