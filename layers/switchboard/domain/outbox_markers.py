"""The outbox of customer webhooks on a message record: one lease attribute per decided webhook.

A status write that decides on a customer webhook sets ``outbox_<status>`` (``outbox_inbound`` for
an inbound message) to a lease (epoch seconds) in the same UpdateItem: until then only the writer
that decided it may queue it (see ``switchboard.notifier.outbox``). The attribute is never cleared:
that the webhook reached the notifier is recorded by the notifier's first attempt, in the message's
webhook-attempts item (``webhook_attempts_key``), a write it makes anyway.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from switchboard import clock

INBOUND_NOTIFICATION = "inbound"
STATUS_PREFIX = "status:"
LEASE_PREFIX = "outbox_"
# Longer than any function's timeout, so a lease holder whose lease ran out is certainly gone.
NOTIFY_LEASE_SECONDS = 60
# The notifier delivers a copy without a write only if its lease outlives everything that delivery
# does: the NotifierFunction's timeout (30 s, template.yaml) plus 5 s of clock difference between hosts.
DELIVERY_GUARD_SECONDS = 35
WEBHOOK_ATTEMPTS_PREFIX = "webhooks#"
WEBHOOK_ATTEMPTS_KIND = "webhook_attempts"  # the ``kind`` of a webhook-attempts item


def status_notification(state: str) -> str:
    """The outbox marker of a status webhook: ``"status:<status>"``."""
    return f"{STATUS_PREFIX}{state}"


def notify_lease_attribute(marker: str) -> str:
    """The record attribute holding a decided webhook's lease: ``outbox_delivered``, ``outbox_inbound``."""
    return LEASE_PREFIX + marker.removeprefix(STATUS_PREFIX)


def decided_markers(record: Mapping[str, Any]) -> list[str]:
    """The webhooks ``record`` has decided on (each has its lease attribute), in a stable order."""
    markers = []
    for attr in record:
        if attr.startswith(LEASE_PREFIX):
            name = attr[len(LEASE_PREFIX):]
            markers.append(INBOUND_NOTIFICATION if name == INBOUND_NOTIFICATION else status_notification(name))
    return sorted(markers)


def lease_of(record: Mapping[str, Any], marker: str) -> int | None:
    value = record.get(notify_lease_attribute(marker))
    return None if value is None else int(value)


def lease_until() -> int:
    """When a lease taken now runs out (epoch seconds)."""
    return math.ceil(clock.now()) + NOTIFY_LEASE_SECONDS


def deliverable_without_lease_write(lease: int, now: float) -> bool:
    """A copy queued under ``lease`` can be delivered and recorded before anyone else may take it over."""
    return now + DELIVERY_GUARD_SECONDS < lease


def webhook_attempts_key(message_uuid: str) -> str:
    """The MessagesTable key of a message's webhook-attempts item."""
    return WEBHOOK_ATTEMPTS_PREFIX + message_uuid


class LeaseState(Enum):
    TAKEN = "taken"  # the caller may queue (or deliver) the notification now
    NOT_PENDING = "not_pending"  # nothing to do: not decided, or it reached the notifier already
    HELD = "held"  # another writer holds the lease (or took it over since)
    MISSING = "missing"


@dataclass(frozen=True)
class NotifyLease:
    state: LeaseState
    record: dict[str, Any] | None
