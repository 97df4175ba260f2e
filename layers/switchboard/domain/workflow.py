"""Failover workflows: the words, limits and rules shared by the API, the store and the engine.

A workflow is one of three flavours, by the API that created it: ``workflow`` (POST /beta/workflows,
id field ``workflow_uuid``), ``dispatch`` (POST /v0.1/dispatch, ``dispatch_uuid``) and ``v1``
(POST /v1/messages with ``failover``, ``workflow_id``). Steps are numbered from 0, as the request's
array indexes are.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard.domain import status
from switchboard.domain.message import ApiVersion

TEMPLATE = "failover"

FLAVOUR_WORKFLOW = "workflow"
FLAVOUR_DISPATCH = "dispatch"
FLAVOUR_V1 = "v1"

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
ERROR = "error"

MAX_STEPS = 5
MIN_STEPS = 2
MIN_EXPIRY_SECONDS = 15
MAX_EXPIRY_SECONDS = 86400
CONDITIONS = (status.DELIVERED, status.READ)
# v1 failover entries carry no condition of their own: every step but the last gets these.
V1_DEFAULT_CONDITION = status.DELIVERED
V1_DEFAULT_EXPIRY_SECONDS = 600

FAILED_STATUSES = frozenset({status.REJECTED, status.UNDELIVERABLE})
# A condition of "delivered" is also met by "read": a read message was delivered.
_MEETS = {status.DELIVERED: frozenset({status.DELIVERED, status.READ}), status.READ: frozenset({status.READ})}

_FLAVOUR_OF_VERSION = {ApiVersion.BETA: FLAVOUR_WORKFLOW, ApiVersion.V0_1: FLAVOUR_DISPATCH, ApiVersion.V1: FLAVOUR_V1}
_ID_FIELD = {FLAVOUR_WORKFLOW: "workflow_uuid", FLAVOUR_DISPATCH: "dispatch_uuid", FLAVOUR_V1: "workflow_id"}
_HREF = {FLAVOUR_WORKFLOW: "/beta/workflows/{}", FLAVOUR_DISPATCH: "/v0.1/dispatch/{}", FLAVOUR_V1: "/v1/workflows/{}"}


@dataclass(frozen=True)
class Failover:
    """When to move on from a step: it has not reached ``condition_status`` after ``expiry_time`` seconds."""

    expiry_time: int
    condition_status: str

    def to_item(self) -> dict[str, Any]:
        return {"expiry_time": self.expiry_time, "condition_status": self.condition_status}


def flavour_of(version: ApiVersion) -> str:
    return _FLAVOUR_OF_VERSION[ApiVersion(version)]


def id_field(flavour: str) -> str:
    return _ID_FIELD[flavour]


def href(flavour: str, workflow_uuid: str) -> str:
    return _HREF[flavour].format(workflow_uuid)


def meets_condition(condition: str | None, message_status: str | None) -> bool:
    """Whether a step whose message is at ``message_status`` has met ``condition`` (last step: delivered)."""
    return message_status in _MEETS.get(condition or status.DELIVERED, frozenset())
