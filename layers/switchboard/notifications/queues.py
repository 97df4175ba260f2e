"""Moved to ``switchboard.adapters.sqs.notify_queue``; this shim is removed when the restructuring completes."""
from __future__ import annotations

from switchboard.adapters import aws_clients as aws
from switchboard.adapters.sqs.notify_queue import NotifyQueue
from switchboard.config import settings


class NotifyQueues(NotifyQueue):
    """The old optional-URL constructor, for callers not yet wired by a composition module."""

    def __init__(self, queue_url: str | None = None, dead_letter_url: str | None = None) -> None:
        super().__init__(
            aws.client("sqs"), queue_url or settings().notify_queue_url, dead_letter_url or settings().notify_dlq_url
        )
