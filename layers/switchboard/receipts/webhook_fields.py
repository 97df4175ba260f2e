"""Reading provider webhook bodies strictly: each helper returns the typed value or raises a
``ValidationFailed`` naming the field (answered 400 before anything is applied)."""
from __future__ import annotations

from typing import Any

from switchboard.http.request_body import parse_json
from switchboard.domain.errors import InvalidJson, InvalidParameter, ValidationFailed

MAX_ID_LENGTH = 256
MAX_BODY_BYTES = 1024 * 1024  # Messenger batches many events per body; far above any real one


def malformed(name: str, reason: str) -> ValidationFailed:
    return ValidationFailed([InvalidParameter(name, reason)], detail=f"The webhook is malformed: {name} {reason}.")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The webhook body as a JSON object, through the shared bounded parser (size, depth, finite numbers)."""
    data = parse_json(raw, max_bytes=MAX_BODY_BYTES, what="webhook body")
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

