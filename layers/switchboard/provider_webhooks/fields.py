"""Reading provider webhook bodies strictly: each helper returns the typed value or raises a
``ValidationFailed`` naming the field (answered 400 before anything is applied)."""
from __future__ import annotations

import json
from typing import Any

from switchboard.errors import InvalidJson, InvalidParameter, ValidationFailed

MAX_ID_LENGTH = 256


def malformed(name: str, reason: str) -> ValidationFailed:
    return ValidationFailed([InvalidParameter(name, reason)], detail=f"The webhook is malformed: {name} {reason}.")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raise InvalidJson("The webhook body is empty; a JSON object is required.")
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InvalidJson("The webhook body is not valid UTF-8.") from None
    except ValueError as exc:
        raise InvalidJson(f"The webhook body did not contain valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise InvalidJson("The webhook body must be a JSON object.")
    return data


def required(data: dict[str, Any], name: str) -> Any:
    value = data.get(name)
    if value is None:
        raise malformed(name, "is required")
    return value


def as_object(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise malformed(name, "must be an object")
    return value


def as_list(value: Any, name: str) -> list[Any]:
    if not isinstance(value, list):
        raise malformed(name, "must be an array")
    return value


def as_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise malformed(name, "must be an integer")
    return value


def as_id(value: Any, name: str) -> str:
    """A provider identifier: a non-empty string, or an integer (Viber sends numeric tokens)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, str) and value.strip() and len(value) <= MAX_ID_LENGTH:
        return value.strip()
    raise malformed(name, "must be a non-empty string or an integer")


def as_text(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise malformed(name, "must be a string")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
