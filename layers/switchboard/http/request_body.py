"""Request bodies: the raw bytes of an event, and the one JSON parser for untrusted bodies.

``parse_json`` serves API requests and provider webhooks, bounded before it runs: ``json.loads``
recurses once per nested array or object, so a small body of ``[[[[...`` raises ``RecursionError``
deep inside it (a 500 and a traceback). So the size is checked first, then how deeply the body
nests (brackets inside strings do not count), and only then is it parsed. Every refusal is a domain
error the routes answer with a problem+json 400 (413 for the size).

``MAX_DEPTH`` is DynamoDB's own nesting limit for a stored document; no Messages API request or
provider webhook comes close (they nest 4 to 7 levels). Numbers must be finite (``1e999`` would
become infinity); ``NaN`` and ``Infinity`` are not JSON.
"""
from __future__ import annotations

import base64
import json
import math
import re
from itertools import accumulate
from typing import Any, Protocol

from switchboard.domain.errors import InvalidJson, PayloadTooLarge, UnsupportedMediaType

MAX_DEPTH = 32

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class HttpEvent(Protocol):
    """What ``raw_body`` reads of a Powertools proxy event."""

    @property
    def body(self) -> str | None: ...

    @property
    def is_base64_encoded(self) -> bool | None: ...


def raw_body(event: HttpEvent, max_bytes: int | None = None, what: str = "request body") -> bytes:
    """The body exactly as sent, as bytes (signatures are over bytes; ``decoded_body`` would be text).

    With ``max_bytes``, a longer body is refused with ``PayloadTooLarge`` naming ``what``.
    """
    body = event.body or ""
    raw = base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")
    if max_bytes is not None and len(raw) > max_bytes:
        raise PayloadTooLarge(f"The {what} is {len(raw)} bytes; the limit is {max_bytes} bytes.")
    return raw


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


def parse_json(raw: bytes, *, max_bytes: int, what: str = "request body", max_depth: int = MAX_DEPTH) -> Any:
    """``raw`` decoded as UTF-8 JSON; ``PayloadTooLarge`` or ``InvalidJson`` (naming ``what``) otherwise."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"The {what} is {len(raw)} bytes; the limit is {max_bytes} bytes.")
    if not raw.strip():
        raise InvalidJson(f"The {what} is empty; a JSON object is required.")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidJson(f"The {what} is not valid UTF-8.") from None
    if _openings(text) > max_depth and nesting_depth(text) > max_depth:
        raise InvalidJson(f"The {what} nests arrays and objects more than {max_depth} levels deep.")
    try:
        return _DECODER.decode(text)
    except RecursionError:  # unreachable after the depth check; kept so no input can ever raise it
        raise InvalidJson(f"The {what} nests arrays and objects too deeply.") from None
    except ValueError as exc:
        raise InvalidJson(f"The {what} did not contain valid JSON: {exc}.") from None


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, outside strings.

    For text that is not valid JSON this is at least the depth ``json.loads`` reaches before it
    finds the error: up to there both read strings the same way.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _openings(text: str) -> int:
    """Arrays and objects opened anywhere in ``text``: no deeper nesting is possible (a cheap first check)."""
    return text.count("[") + text.count("{")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)
