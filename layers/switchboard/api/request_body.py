"""Turning a raw HTTP request body into JSON, with the API's size and content-type rules."""
from __future__ import annotations

import json
from typing import Any

from switchboard.errors import InvalidJson, PayloadTooLarge, UnsupportedMediaType


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def require_json_content_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json")):
        return
    shown = media_type or "none"
    raise UnsupportedMediaType(f"Content-Type must be application/json (got {shown}).")


def parse_json_body(raw: bytes, content_type: str | None, max_bytes: int) -> Any:
    """Check size, then content type, then decode. Every failure is a specific domain error."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The request body is {len(raw)} bytes; the limit is {max_bytes} bytes.")
    require_json_content_type(content_type)
    if not raw.strip():
        raise InvalidJson("The request body is empty; a JSON object is required.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson("The request body is not valid UTF-8.") from None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except ValueError as exc:
        raise InvalidJson(f"The request body did not contain valid JSON: {exc}.") from None
