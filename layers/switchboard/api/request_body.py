"""Turning a raw HTTP request body into JSON, with the API's size, content-type and nesting rules."""
from __future__ import annotations

from typing import Any

from switchboard.bounded_json import parse_json
from switchboard.errors import PayloadTooLarge, UnsupportedMediaType


def require_json_content_type(content_type: str | None) -> None:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json")):
        return
    shown = media_type or "none"
    raise UnsupportedMediaType(f"Content-Type must be application/json (got {shown}).")


def parse_json_body(raw: bytes, content_type: str | None, max_bytes: int) -> Any:
    """Check size, then content type, then nesting depth, then decode. Every failure is a specific domain error."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The request body is {len(raw)} bytes; the limit is {max_bytes} bytes.")
    require_json_content_type(content_type)
    return parse_json(raw, max_bytes=max_bytes, what="request body")
