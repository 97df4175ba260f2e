"""Nexmo SMS API simulator: ``POST /sms/json`` (form-encoded, or query parameters; GET also works).

Like the real API it answers HTTP 200 even when it refuses a message, with the reason in
``messages[0].status`` / ``error-text``; only the simulated transient failures use 500 and 429.
Authentication is ``api_key`` + ``api_secret`` only (signed requests with ``sig`` are not supported).
A long text is split as the network splits it (``sms_parts``: 153 GSM-7 septets or 67 UCS-2 units
a part): the answer has one ``messages`` entry per part, each with its own ``message-id``, and each
part gets its own delivery report (same ``client-ref``), as the real API does.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from local_stack.simulators.http_server import HttpRequest, HttpResponse
from local_stack.simulators.scenarios import Outcome, RecipientBehaviour, answer
from local_stack.simulators.sms_parts import API_TYPES, split_sms

PROVIDER = "sms"
CREDENTIAL_FIELDS = ("api_key", "api_secret", "sig")
MESSAGE_TYPES = ("text", "unicode")
MIN_TTL_MS = 20_000
MAX_TTL_MS = 604_800_000
MESSAGE_PRICE = "0.03330000"
REMAINING_BALANCE = "10.00000000"  # fixed: the simulator does not bill
NETWORK_CODE = "23410"

_MSISDN = re.compile(r"\d{7,15}")
_SENDER = re.compile(r"\d{1,15}|[A-Za-z0-9 ]{1,11}")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}

SmsRefusal = tuple[str, str]  # (status, error-text)


def _reply(entry: dict[str, str], http_status: int = 200) -> HttpResponse:
    return _replies([entry], http_status)


def _replies(entries: list[dict[str, str]], http_status: int = 200) -> HttpResponse:
    return HttpResponse.json(http_status, {"message-count": str(len(entries)), "messages": entries})


def part_count(params: dict[str, str]) -> int:
    """How many SMS parts the text of a valid request travels as."""
    return len(split_sms(params["text"], API_TYPES[params.get("type", "text")]).parts)


def _refusal(refusal: SmsRefusal, http_status: int = 200, **extra: str) -> HttpResponse:
    status, error_text = refusal
    return _reply(extra | {"status": status, "error-text": error_text}, http_status)


def _request_params(request: HttpRequest) -> dict[str, str]:
    params = dict(request.query)
    if request.media_type() == "application/x-www-form-urlencoded":
        params.update(parse_qsl(request.body.decode("utf-8", errors="replace"), keep_blank_values=True))
    return params


def credentials_problem(params: dict[str, str], api_key: str, api_secret: str) -> SmsRefusal | None:
    if not params.get("api_key"):
        return ("2", "Missing api_key")
    if not params.get("api_secret"):
        return ("2", "Missing api_secret")
    if (params["api_key"], params["api_secret"]) != (api_key, api_secret):
        return ("4", "Bad Credentials")
    return None


def send_problem(params: dict[str, str]) -> SmsRefusal | None:
    """The refusal the API would answer this authenticated request with, or None."""
    for name in ("from", "to", "text"):
        if not params.get(name):
            return ("2", f"Missing {name} param")
    if not _MSISDN.fullmatch(params["to"]):
        return ("3", "Invalid to param")
    if not _SENDER.fullmatch(params["from"]):
        return ("15", "Illegal Sender Address - rejected")
    if params.get("type", "text") not in MESSAGE_TYPES:
        return ("3", "Invalid type param")
    ttl = params.get("ttl")
    if ttl is not None and not (ttl.isdigit() and MIN_TTL_MS <= int(ttl) <= MAX_TTL_MS):
        return ("3", "Invalid ttl param")
    if params.get("status-report-req", "true").lower() not in _BOOLEANS:
        return ("3", "Invalid status-report-req param")
    return None


class SmsSimulator:
    def __init__(self, api_key: str, api_secret: str, behaviour: RecipientBehaviour) -> None:
        self._api_key = api_key
        self._api_secret = api_secret
        self._behaviour = behaviour

    def handle(self, request: HttpRequest, route: str) -> HttpResponse:
        if route != "/sms/json":
            return HttpResponse.text(404, "Not Found")
        if request.method not in ("GET", "POST"):
            return HttpResponse.text(405, "Method Not Allowed")
        params = _request_params(request)
        problem = credentials_problem(params, self._api_key, self._api_secret) or send_problem(params)
        if problem is not None:
            return _refusal(problem)

        to = params["to"]
        without_credentials: dict[str, Any] = {k: v for k, v in params.items() if k not in CREDENTIAL_FIELDS}
        outcome = self._behaviour.outcome(PROVIDER, to, without_credentials)
        if outcome is Outcome.REJECTED:
            return _refusal(("7", "Number barred"), to=to)
        if outcome is Outcome.SERVER_ERROR:
            return _refusal(("5", "Internal Error"), http_status=500)
        if outcome is Outcome.THROTTLED:
            return _refusal(("1", "Throttled"), http_status=429)

        client_ref = params.get("client-ref")
        entries = []
        for _ in range(part_count(params)):
            message_id = secrets.token_hex(8).upper()
            if _BOOLEANS[params.get("status-report-req", "true").lower()]:
                self._behaviour.schedule_reports(
                    PROVIDER, message_id, to, params["from"], has_read_receipts=False, client_ref=client_ref
                )
            entry = {
                "to": to,
                "message-id": message_id,
                "status": "0",
                "remaining-balance": REMAINING_BALANCE,
                "message-price": MESSAGE_PRICE,
                "network": NETWORK_CODE,
            }
            if client_ref:
                entry["client-ref"] = client_ref
            entries.append(entry)
        return answer(outcome, _replies(entries))
