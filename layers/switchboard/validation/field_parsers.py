"""Checks for single JSON values. Each returns the accepted value, or ``None`` after recording a problem.

JSON ``null`` counts as "not given" everywhere: optional fields that are null are skipped, required
fields that are null are reported as missing.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from switchboard.validation.collector import Problems

REQUIRED = "is required"

E164_REASON = "must be an E.164 number without a leading + (7 to 15 digits)"
SMS_SENDER_REASON = (
    "must be an E.164 number without a leading + (7 to 15 digits) or an alphanumeric sender id "
    "of 1 to 11 characters (letters, digits and spaces, with at least one letter)"
)
URL_REASON = "must be an absolute http or https URL with a host"

# [0-9] and [A-Za-z] rather than \d / str.isalpha(): those also accept non-ASCII digits and letters.
_E164 = re.compile(r"[1-9][0-9]{6,14}")
_ALPHANUMERIC_SENDER = re.compile(r"[A-Za-z0-9 ]{1,11}")
_ASCII_LETTER = re.compile(r"[A-Za-z]")


def child(parent: str, key: str) -> str:
    """Dotted path of ``key`` inside ``parent`` (``""`` is the top level)."""
    return f"{parent}.{key}" if parent else key


def field(container: dict[str, Any] | None, key: str) -> Any:
    return None if container is None else container.get(key)


def _missing(value: Any, name: str, problems: Problems, required: bool, missing_reason: str) -> bool:
    if value is None:
        if required:
            problems.add(name, missing_reason)
        return True
    return False


def as_object(
    value: Any, name: str, problems: Problems, *, required: bool, missing_reason: str = REQUIRED
) -> dict[str, Any] | None:
    if _missing(value, name, problems, required, missing_reason):
        return None
    if not isinstance(value, dict):
        problems.add(name, "must be an object")
        return None
    return value


def as_string(
    value: Any,
    name: str,
    problems: Problems,
    *,
    required: bool,
    min_length: int = 1,
    max_length: int | None = None,
    max_length_context: str = "",
    missing_reason: str = REQUIRED,
) -> str | None:
    """A string of ``min_length``..``max_length`` characters (``len`` of the str, nothing stripped).

    ``max_length_context`` is appended to the too-long reason, e.g. " for messenger".
    """
    if _missing(value, name, problems, required, missing_reason):
        return None
    if not isinstance(value, str):
        problems.add(name, "must be a string")
        return None
    if not _encodable(value):
        problems.add(name, "must not contain unpaired surrogate characters")
        return None
    if len(value) < min_length:
        reason = "must not be empty" if min_length == 1 else f"must be at least {min_length} characters"
        problems.add(name, reason)
        return None
    if max_length is not None and len(value) > max_length:
        problems.add(name, f"must be at most {max_length} characters{max_length_context}")
        return None
    return value


def as_choice(
    value: Any, name: str, problems: Problems, *, choices: Sequence[str], required: bool
) -> str | None:
    text = as_string(value, name, problems, required=required, min_length=0)
    if text is None:
        return None
    if text not in choices:
        problems.add(name, "must be one of: " + ", ".join(choices))
        return None
    return text


def as_integer(
    value: Any, name: str, problems: Problems, *, required: bool, minimum: int, maximum: int, unit: str = ""
) -> int | None:
    """A JSON number with no fractional part (``600`` or ``600.0``); bools and numeric strings are refused."""
    if _missing(value, name, problems, required, REQUIRED):
        return None
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    if number is None:
        problems.add(name, "must be an integer")
        return None
    if not minimum <= number <= maximum:
        problems.add(name, f"must be between {minimum} and {maximum}{unit}")
        return None
    return number


def as_boolean(value: Any, name: str, problems: Problems, *, required: bool) -> bool | None:
    """A JSON ``true`` or ``false`` (no numbers, no strings)."""
    if _missing(value, name, problems, required, REQUIRED):
        return None
    if not isinstance(value, bool):
        problems.add(name, "must be true or false")
        return None
    return value


def as_msisdn(
    value: Any, name: str, problems: Problems, *, required: bool, missing_reason: str = REQUIRED
) -> str | None:
    """A phone number in E.164 form without ``+`` or ``00``: 7 to 15 digits, the first not 0."""
    text = as_string(value, name, problems, required=required, min_length=0, missing_reason=missing_reason)
    if text is None:
        return None
    if not _E164.fullmatch(text):
        problems.add(name, E164_REASON)
        return None
    return text


def as_sms_sender(
    value: Any, name: str, problems: Problems, *, required: bool, missing_reason: str = REQUIRED
) -> str | None:
    """An E.164 number or an alphanumeric sender id (1 to 11 letters, digits, spaces; at least one letter)."""
    text = as_string(value, name, problems, required=required, min_length=0, missing_reason=missing_reason)
    if text is None:
        return None
    if _E164.fullmatch(text):
        return text
    if _ALPHANUMERIC_SENDER.fullmatch(text) and _ASCII_LETTER.search(text):
        return text
    problems.add(name, SMS_SENDER_REASON)
    return None


def as_url(
    value: Any, name: str, problems: Problems, *, required: bool, max_length: int = 2000
) -> str | None:
    text = as_string(value, name, problems, required=required, max_length=max_length)
    if text is None:
        return None
    if not _is_absolute_http_url(text):
        problems.add(name, URL_REASON)
        return None
    return text


def _is_absolute_http_url(text: str) -> bool:
    # urlsplit silently drops some whitespace and control characters, so refuse them up front.
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text):
        return False
    try:
        parts = urlsplit(text)
        port_is_valid = parts.port is None or parts.port >= 0  # .port raises ValueError for a malformed port
    except ValueError:
        return False
    return port_is_valid and parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def _encodable(text: str) -> bool:
    # JSON may carry lone surrogates ("\ud800"); they cannot be stored or sent as UTF-8.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
