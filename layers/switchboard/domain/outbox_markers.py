"""The outbox of customer webhooks on a message record: markers and their leases.

A status write that decides on a customer webhook adds its marker to ``pending_notifications``
(``"status:<status>"`` or ``"inbound"``) together with ``notify_lease_<marker>``: until that time
only the writer that added the marker may queue it (see ``switchboard.notifier.outbox``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from typing import Any

from switchboard import clock

INBOUND_NOTIFICATION = "inbound"
# Longer than any function's timeout, so a lease holder whose lease ran out is certainly gone.
NOTIFY_LEASE_SECONDS = 60


def status_notification(state: str) -> str:
    """The outbox marker of a status webhook: ``"status:<status>"``."""
    return f"status:{state}"


def notify_lease_attribute(marker: str) -> str:
    """The attribute holding a pending marker's lease: ``notify_lease_status_delivered``, ..."""
    return "notify_lease_" + marker.replace(":", "_")


def lease_until() -> int:
    """When a lease taken now runs out (epoch seconds)."""
    return math.ceil(clock.now()) + NOTIFY_LEASE_SECONDS


class LeaseState(Enum):
    TAKEN = "taken"  # the caller may queue the notification now
    NOT_PENDING = "not_pending"  # nothing to do: the marker is gone (queued by someone else)
    HELD = "held"  # another writer holds the lease and is queuing it
    MISSING = "missing"


@dataclass(frozen=True)
class NotifyLease:
    state: LeaseState
    record: dict[str, Any] | None
