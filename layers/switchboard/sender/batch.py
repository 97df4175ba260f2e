"""Moved: the loop is ``switchboard.adapters.sqs.batch_runner``, a batch's work ``switchboard.sender.send_handler``,
the wiring ``switchboard.composition.sender_function``. This shim is removed when the restructuring completes."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.adapters.sqs.batch_runner import BatchRunner, RedeliverLater  # noqa: F401
from switchboard.adapters.sqs.outbound_queue import parse_outbound_body
from switchboard.config import settings
from switchboard.sender.outbound_sender import OutboundSender
from switchboard.sender.send_handler import (  # noqa: F401
    DEFAULT_LEASE_SECONDS, LEASE_MARGIN_SECONDS, SendHandler, lease_expiry, to_delivery,
)


def process_batch(
    event: dict[str, Any],
    context: Any = None,
    *,
    sender: OutboundSender,
    load_channel_config: Callable[[], dict[str, Any]],
) -> Any:
    """The old entry point (the bench's): one batch through the shared runner."""
    runner = BatchRunner("sender", parse_outbound_body, str, settings().sender_concurrency)
    return SendHandler(sender, load_channel_config).run(runner, event, context)
