"""Validating failover requests: POST /beta/workflows, POST /v0.1/dispatch, and ``failover`` in POST /v1/messages.

Each step is validated exactly as a single send of its API version would be, and its problems are
reported under the step's path: ``workflow[1].message.content.text`` (beta / v0.1) or
``failover[0].text`` (v1; the top-level message is step 0 and keeps its own names). Every problem
of every step is reported at once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from switchboard.domain.message import ApiVersion, Channel, OutboundMessage
from switchboard.domain.errors import InvalidParameter, ValidationFailed
from switchboard.validation import parse_flat, parse_nested
from switchboard.validation.field_parsers import as_choice, as_integer, as_object
from switchboard.validation.collector import Problems, reject_non_object_body
from switchboard.domain.workflow import (
    CONDITIONS,
    MAX_EXPIRY_SECONDS,
    MAX_STEPS,
    MIN_EXPIRY_SECONDS,
    MIN_STEPS,
    TEMPLATE,
    V1_DEFAULT_CONDITION,
    V1_DEFAULT_EXPIRY_SECONDS,
    Failover,
)

READ_ON_SMS_REASON = "read is not reported for sms messages; use delivered"
LAST_STEP_FAILOVER_REASON = "must not be given on the last step"


@dataclass(frozen=True)
class Step:
    message: OutboundMessage
    failover: Failover | None  # None on the last step only


def parse_workflow(body: object, version: ApiVersion) -> list[Step]:
    """A beta Workflows / v0.1 Dispatch request: ``{"template": "failover", "workflow": [...]}``."""
    root = reject_non_object_body(body)
    problems = Problems()
    as_choice(root.get("template"), "template", problems, choices=(TEMPLATE,), required=True)
    items = _step_list(root.get("workflow"), "workflow", problems, MIN_STEPS, MAX_STEPS)
    steps: list[Step | None] = []
    for index, item in enumerate(items or []):
        name = f"workflow[{index}]"
        if not isinstance(item, dict):
            problems.add(name, "must be an object")
            steps.append(None)
            continue
        message = _collect(problems, name, lambda: parse_nested(_without_failover(item), version))
        failover = _failover(item.get("failover"), f"{name}.failover", _channel_of(message, item),
                             last=index == len(items) - 1, problems=problems)
        steps.append(Step(message, failover) if message is not None else None)
    problems.raise_if_any()
    return [s for s in steps if s is not None]


def parse_v1_failover(body: object) -> list[Step] | None:
    """A v1 send with ``failover``: the message itself, then each failover entry; None without ``failover``."""
    root = reject_non_object_body(body)
    if root.get("failover") is None:
        return None
    problems = Problems()
    first = _collect(problems, "", lambda: parse_flat(root))
    items = _step_list(root.get("failover"), "failover", problems, MIN_STEPS - 1, MAX_STEPS - 1)
    messages: list[OutboundMessage | None] = [first]
    for index, item in enumerate(items or []):
        name = f"failover[{index}]"
        if not isinstance(item, dict):
            problems.add(name, "must be an object")
            continue
        if item.get("failover") is not None:
            problems.add(f"{name}.failover", "a failover message cannot have a failover of its own")
        messages.append(_collect(problems, name, lambda item=item: parse_flat(_without_failover(item))))
    problems.raise_if_any()
    default = Failover(V1_DEFAULT_EXPIRY_SECONDS, V1_DEFAULT_CONDITION)
    return [Step(m, default if i < len(messages) - 1 else None) for i, m in enumerate(messages) if m is not None]


def _step_list(value: Any, name: str, problems: Problems, minimum: int, maximum: int) -> list[Any] | None:
    if value is None:
        problems.add(name, "is required")
        return None
    if not isinstance(value, list) or not minimum <= len(value) <= maximum:
        problems.add(name, f"must be an array of {minimum} to {maximum} messages")
        return None
    return value


def _collect(problems: Problems, prefix: str, parse: Any) -> OutboundMessage | None:
    """Run one step's parser; its problems join the request's under ``prefix``."""
    try:
        return parse()
    except ValidationFailed as exc:
        for item in exc.invalid_parameters:
            problems.add(_prefixed(prefix, item.name), item.reason)
        return None


def _prefixed(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return prefix if name == "body" else f"{prefix}.{name}"


def prefixed_failure(prefix: str, exc: ValidationFailed) -> list[InvalidParameter]:
    """The problems of one step's channel-rule check, named under ``prefix``."""
    return [InvalidParameter(_prefixed(prefix, p.name), p.reason) for p in exc.invalid_parameters]


def _channel_of(message: OutboundMessage | None, item: dict[str, Any]) -> str | None:
    """The step's channel, from the raw request when the message itself did not validate."""
    if message is not None:
        return message.channel.value
    sender = item.get("from")
    return sender.get("type") if isinstance(sender, dict) else None


def _failover(
    value: Any, name: str, channel: str | None, *, last: bool, problems: Problems
) -> Failover | None:
    if last:
        if value is not None:
            problems.add(name, LAST_STEP_FAILOVER_REASON)
        return None
    block = as_object(value, name, problems, required=True, missing_reason="is required on every step but the last")
    if block is None:
        return None
    expiry = as_integer(block.get("expiry_time"), f"{name}.expiry_time", problems, required=True,
                        minimum=MIN_EXPIRY_SECONDS, maximum=MAX_EXPIRY_SECONDS, unit=" seconds")
    condition = as_choice(block.get("condition_status"), f"{name}.condition_status", problems,
                          choices=CONDITIONS, required=True)
    if condition == "read" and channel == Channel.SMS.value:
        problems.add(f"{name}.condition_status", READ_ON_SMS_REASON)
        return None
    if expiry is None or condition is None:
        return None
    return Failover(expiry, condition)


def _without_failover(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "failover"}
