"""Moved to ``switchboard.adapters.sqs.outbound_queue``; this shim is removed when the restructuring completes.

``OutboundQueue()`` here keeps the old optional URL (read from ``switchboard.config``) for callers
not yet wired by a composition module; the adapter itself requires its client and URL.
"""
from __future__ import annotations

from switchboard.adapters import aws_clients as aws
from switchboard.adapters.sqs import outbound_queue as _adapter
from switchboard.adapters.sqs.outbound_queue import outbound_body, parse_outbound_body  # noqa: F401
from switchboard.config import settings
from switchboard.domain.message_record import MAX_DELAY_SECONDS  # noqa: F401


class OutboundQueue(_adapter.OutboundQueue):
    def __init__(self, queue_url: str | None = None) -> None:
        super().__init__(aws.client("sqs"), queue_url or settings().outbound_queue_url)
