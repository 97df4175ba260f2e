"""The words of a message record's life: claim and status-write outcomes, and their failures.

The record itself is described in ``docs/data-model.md``; these are the names the sender,
the receipts and the API use to talk about it without knowing how it is stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any

RECEIVED = "received"  # the status of an inbound record
INBOUND_DIRECTION = "inbound"
PROVIDER_REF_INDEX = "ProviderRefIndex"
CONVERSATION_INDEX = "ConversationIndex"
MAX_DELAY_SECONDS = 900  # SQS's limit for DelaySeconds and for a visibility change used as a delay
# The owner's explicit webhook shape ("v0.1" | "v1") when the record was made: the application's
# (JWT traffic, else its account's) or the account's (Basic traffic); absent when neither chose one.
OWNER_WEBHOOK_VERSION = "owner_webhook_version"
# A multipart SMS: how many parts the provider split it into (absent: one) and which of them it
# reported delivered (a set of part numbers, 0 = the first). Every part's provider id is indexed.
SMS_PART_COUNT = "sms_part_count"
DELIVERED_PARTS = "delivered_parts"
# The destination network (MCCMNC) the SMS provider named when it took the message.
NETWORK_CODE = "network_code"
# Each part after the first has an index item of its own in the messages table, keyed
# ``sms-part#<message uuid>#<part>`` (part 1, 2, ...), holding that part's ``provider_ref``: the
# ProviderRefIndex (keys only) then leads a part's receipt to its message and part.
SMS_PART_PREFIX = "sms-part#"


def part_key(message_uuid: str, part: int) -> str:
    """The key of the index item of part ``part`` (1-based after the first, which is the record itself)."""
    return f"{SMS_PART_PREFIX}{message_uuid}#{part}"


def split_part_key(key: str) -> tuple[str, int]:
    """``(message uuid, part)`` for a key the ProviderRefIndex gave: part 0 is the message record itself."""
    if not key.startswith(SMS_PART_PREFIX):
        return key, 0
    message_uuid, _, part = key[len(SMS_PART_PREFIX):].rpartition("#")
    return message_uuid, int(part)


def transition_entry(record: dict[str, Any], state: str) -> dict[str, Any] | None:
    """The history entry of the (non-late) change to ``state``; the latest one if there are several."""
    for entry in reversed(record.get("history") or []):
        if entry.get("status") == state and not entry.get("late"):
            return entry
    return None


class MessageAlreadyExists(Exception):
    """A record with this message uuid exists already (``create`` never overwrites)."""


class WorkflowAlreadyExists(Exception):
    """A workflow record with this uuid exists already."""


class StaleClaim(Exception):
    """A conditional update lost: the record is no longer held under the given claim token."""


class ClaimState(Enum):
    CLAIMED = "claimed"  # the caller now holds the record
    MISSING = "missing"  # no record with this uuid
    FINAL = "final"  # past sending: nothing left to do
    IN_FLIGHT = "in_flight"  # another worker holds it under a live lease
    LEASE_EXPIRED = "lease_expired"  # held by a worker that died mid-send: the provider outcome is unknown
    OUTCOME_UNKNOWN = "outcome_unknown"  # sent, answer lost: waiting for evidence until ``unknown_until``


@dataclass(frozen=True)
class ClaimAttempt:
    state: ClaimState
    record: dict[str, Any] | None  # the claimed record (CLAIMED) or the record as found (otherwise)


class StatusWriteOutcome(Enum):
    APPLIED = "applied"  # the status changed (and its webhook is marked pending)
    LATE = "late"  # the message is already past it: recorded in history and seen_statuses only
    DUPLICATE = "duplicate"  # this status was seen before: nothing written
    NOT_READY = "not_ready"  # the message is not submitted yet: nothing written
    PARTS_PENDING = "parts_pending"  # a multipart SMS whose parts are not all known delivered: nothing written
    MISSING = "missing"  # no record with this uuid


@dataclass(frozen=True)
class StatusWrite:
    outcome: StatusWriteOutcome
    record: dict[str, Any] | None  # the record after the write (APPLIED, LATE) or as found
