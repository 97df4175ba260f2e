"""What a queue consumer says about one SQS record, and the parts of a record the sender reads."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Disposition(Enum):
    ACK = "ack"  # done with this SQS record: let Lambda delete it
    REDELIVER = "redeliver"  # report a batch item failure: SQS delivers the record again later


@dataclass(frozen=True)
class QueueDelivery:
    """The parts of an SQS record the sender uses."""

    message_id: str
    body: str
    receipt_handle: str
    receive_count: int  # ApproximateReceiveCount, including this delivery
