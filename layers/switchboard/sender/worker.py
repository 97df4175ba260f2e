"""Moved to ``switchboard.sender.outbound_sender`` (``Disposition``, ``QueueDelivery``: ``domain.queue_record``);
this shim is removed when the restructuring completes."""
from switchboard.domain.queue_record import Disposition, QueueDelivery  # noqa: F401
from switchboard.sender.outbound_sender import (  # noqa: F401
    OUTCOME_UNKNOWN_REASON, BatchScope, OutboundSender, SenderPolicy,
)
