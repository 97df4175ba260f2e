"""The WhatsApp Cloud API's error codes as our outcomes: a send's answer and a ``failed`` status
(the table is in ``adapters/providers/whatsapp_api.py`` and docs/providers.md)."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.domain.error_codes import (
    COMMUNICATION_FAILED,
    DESTINATION_UNREACHABLE,
    EXPIRED_ACCESS_TOKEN,
    FACILITY_NOT_ALLOWED,
    INTERNAL_ERROR,
    INVALID_MESSAGE,
    INVALID_PARAMS,
    OUTSIDE_ALLOWED_WINDOW,
    THROTTLED,
    TOO_MANY_SEND_REQUESTS,
)
from switchboard.domain.sending import SendResult, rejected, retry

INVALID_TEMPLATE = 1022
NON_WHITELISTED_DESTINATION = 1160

RE_ENGAGEMENT = 131047
SOMETHING_WENT_WRONG = 131000
UNKNOWN_ERROR_CODE = 1
AUTH_CODES = frozenset({0, 190})
RATE_LIMIT_CODES = frozenset({4, 80007, 130429, 131056})
SPAM_RATE_LIMIT = 131048
UNDELIVERABLE_CODES = frozenset({131026, 131049, 131050, 130472})
NOT_ALLOWED_RECIPIENT = 131030
INVALID_MESSAGE_CODES = frozenset({131051, 131052, 131053})
INVALID_PARAM_CODES = frozenset({100, 131008, 131009, 131021, 135000})
NOT_ALLOWED_CODES = frozenset({3, 10, 368, 131005, 131031, 131042, 131045, 130497, 133010})
TEMPORARY_CODES = frozenset({1, 2, 131000, 131016})
# A failed status carrying one of these is ``undeliverable`` (the network could not deliver it);
# any other failure is ``rejected``.
UNDELIVERABLE_STATUS_CODES = UNDELIVERABLE_CODES

def map_error(error: Mapping[str, Any], token: str | None = None) -> SendResult:
    """A Cloud API ``error`` object (or a status webhook's ``errors[0]``) as a send result."""
    code = as_int(error.get("code"))
    detail = detail_of(error, token)
    if code == RE_ENGAGEMENT:
        return rejected(OUTSIDE_ALLOWED_WINDOW, detail)
    if code in AUTH_CODES:
        return rejected(EXPIRED_ACCESS_TOKEN, detail)
    if code in RATE_LIMIT_CODES:
        return retry(THROTTLED, detail)
    if code == SPAM_RATE_LIMIT:
        return rejected(TOO_MANY_SEND_REQUESTS, detail)
    if code in UNDELIVERABLE_CODES:
        return rejected(DESTINATION_UNREACHABLE, detail)
    if code == NOT_ALLOWED_RECIPIENT:
        return rejected(NON_WHITELISTED_DESTINATION, detail)
    if code is not None and 132000 <= code <= 132099:
        return rejected(INVALID_TEMPLATE, detail)
    if code in INVALID_MESSAGE_CODES:
        return rejected(INVALID_MESSAGE, detail)
    if code in INVALID_PARAM_CODES:
        return rejected(INVALID_PARAMS, detail)
    if code is not None and (code in NOT_ALLOWED_CODES or 200 <= code <= 299):
        return rejected(FACILITY_NOT_ALLOWED, detail)
    if code in TEMPORARY_CODES:
        return retry(COMMUNICATION_FAILED, detail)
    return rejected(INTERNAL_ERROR, f"whatsapp error {code}: {detail or 'no detail'}")


def status_error(error: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A ``failed`` status webhook's first error as ``(status, {"code", "reason"})``:
    ``undeliverable`` for the network's own failures, ``rejected`` for everything else."""
    mapped = map_error(error)
    code = as_int(error.get("code"))
    state = "undeliverable" if code in UNDELIVERABLE_STATUS_CODES else "rejected"
    nexmo_code = mapped.error_code or INTERNAL_ERROR
    return state, {"code": nexmo_code, "reason": mapped.error_reason or "Unknown"}


def detail_of(error: Mapping[str, Any], token: str | None = None) -> str | None:
    """``(#<code>) <message>: <details>``: the message, with the ``error_data.details`` Meta recommends reading."""
    message = str(error.get("message") or error.get("title") or "")
    data = error.get("error_data")
    details = data.get("details") if isinstance(data, Mapping) else None
    text = f"{message}: {details}" if details and str(details) not in message else message
    code = error.get("code")
    if code is not None and f"#{code}" not in text:
        text = f"(#{code}) {text}".strip()
    if token:
        text = text.replace(token, "[redacted]")
    return text or None


def as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
