"""SMS API webhooks (protocols.md 5.3): delivery receipts (DLRs) and inbound SMS.

The SMS API sends them as a GET query string, or a POST form (``application/x-www-form-urlencoded``)
or JSON body, depending on the account's settings; all three give the same flat parameters. A POST
is read from its body only (its query string is ignored); a JSON body's numbers and booleans are
read as the text the other two forms would carry.

DLR ``status``:

==================================  =====================================================
delivered                           ``delivered``
failed, expired                     ``undeliverable`` with the ``err-code`` mapped below
rejected                            ``rejected`` with the ``err-code`` mapped below
accepted, buffered, unknown, other  no change (answered 200)
==================================  =====================================================

``err-code`` to the Messages API error codes (protocols.md 1.5): 2 -> 1180, 3 -> 1190, 4 -> 1050
(call barred by the user: the closest is "Number barred"), 5 -> 1200, 6 -> 1210, 7 -> 1220,
8 -> 1230, 9 -> 1240, 10 -> 1040 (illegal message: "Invalid message"), 11 -> 1250, 12 -> 1260,
13 -> 1270, 14 -> 1280, 15 -> 1290; 1, 99, anything else or none -> 1330.

``client-ref`` (the message uuid the sender set) rides along: it finds a message whose provider id
was never recorded because the send's answer was lost (``StatusService``).

Receipts are dated by ``message-timestamp`` (``YYYY-MM-DD HH:MM:SS``, UTC), else ``scts``
(``YYMMDDHHMM``), else the time we received them.

Inbound SMS: ``msisdn`` (the sender), ``to`` (our number), ``messageId`` and ``text`` are required.
Binary messages (``type=binary``) cannot be expressed as Messages API content and are logged and
skipped. Concatenated messages are not reassembled: each part is delivered as its own inbound
message, as the SMS API itself delivers them, with ``extra["concat"] = {"ref", "total", "part"}``.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl

from switchboard.domain.error_codes import error
from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage, StatusReceipt
from switchboard.domain.errors import InvalidJson, UnsupportedMediaType
from switchboard.observability import logger
from switchboard.receipts.webhook_fields import MAX_ID_LENGTH, malformed, parse_json_object
from switchboard.receipts.receipt_ports import ProviderEvent

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"
ENDPOINT_TYPE = Channel.SMS.value

DLR_STATUSES: dict[str, str] = {
    "delivered": "delivered",
    "failed": "undeliverable",
    "expired": "undeliverable",
    "rejected": "rejected",
}
PENDING_STATUSES = frozenset({"accepted", "buffered", "unknown"})
ERROR_CODES: dict[int, int] = {
    2: 1180,
    3: 1190,
    4: 1050,
    5: 1200,
    6: 1210,
    7: 1220,
    8: 1230,
    9: 1240,
    10: 1040,
    11: 1250,
    12: 1260,
    13: 1270,
    14: 1280,
    15: 1290,
}
UNKNOWN_ERROR_CODE = 1330
CONCAT = "concat"


# -- reading the request ----------------------------------------------------------------------


def request_params(method: str, content_type: str | None, body: bytes, raw_query: str) -> dict[str, str]:
    """The webhook's parameters, wherever the SMS API put them."""
    if method.upper() == "GET" or not body.strip():
        return _pairs(raw_query, "query string")
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    is_json = media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )
    if is_json or (not media_type and body.lstrip().startswith(b"{")):
        return _json_params(body)
    if media_type in (FORM_MEDIA_TYPE, ""):
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidJson("The webhook body is not valid UTF-8.") from None
        return _pairs(text, "form body")
    raise UnsupportedMediaType(
        f"Content-Type must be {FORM_MEDIA_TYPE} or application/json (got {media_type})."
    )


def _pairs(encoded: str, where: str) -> dict[str, str]:
    params: dict[str, str] = {}
    try:
        pairs = parse_qsl(encoded, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise malformed(where, "is not valid UTF-8") from None
    for name, value in pairs:
        if name in params:
            raise malformed(name, "appears more than once")
        params[name] = value
    return params


def _json_params(body: bytes) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_json_object(body).items():
        if value is None:
            continue
        if isinstance(value, bool):
            params[name] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            params[name] = json.dumps(value)
        elif isinstance(value, str):
            params[name] = value
        else:
            raise malformed(name, "must be a string, number or boolean")
    return params


# -- delivery receipts ------------------------------------------------------------------------


def parse_dlr(params: Mapping[str, str], now: float) -> list[ProviderEvent]:
    message_id = _required(params, "messageId")
    reported = _required(params, "status").strip().lower()
    status = DLR_STATUSES.get(reported)
    if status is None:
        if reported not in PENDING_STATUSES:
            logger.info("sms receipt status ignored", extra={"sms_status": reported[:40]})
        return []
    err = None if status == "delivered" else error(error_code_for(params.get("err-code")))
    client_ref = (params.get("client-ref") or "").strip()[:MAX_ID_LENGTH] or None
    return [StatusReceipt(Channel.SMS, message_id, status, _occurred_at(params, now), err, client_ref)]


def error_code_for(err_code: str | None) -> int:
    """The Messages API code for a DLR ``err-code`` (module docstring)."""
    value = (err_code or "").strip()
    return ERROR_CODES.get(int(value), UNKNOWN_ERROR_CODE) if value.isdigit() else UNKNOWN_ERROR_CODE


# -- inbound SMS ------------------------------------------------------------------------------


def parse_inbound(params: Mapping[str, str], now: float) -> list[ProviderEvent]:
    sender = _required(params, "msisdn")
    recipient = _required(params, "to")
    message_id = _required(params, "messageId")
    if params.get("type", "text").strip().lower() == "binary":
        logger.info("binary inbound sms skipped", extra={"provider_message_id": message_id})
        return []
    text = params.get("text")
    if text is None:
        raise malformed("text", "is required")
    extra: dict[str, Any] = {}
    if params.get(CONCAT, "").strip().lower() == "true":
        extra[CONCAT] = {
            "ref": _required(params, "concat-ref"),
            "total": _positive_int(params, "concat-total"),
            "part": _positive_int(params, "concat-part"),
        }
    return [
        InboundMessage(
            channel=Channel.SMS,
            sender=Endpoint(ENDPOINT_TYPE, number=sender),
            recipient=Endpoint(ENDPOINT_TYPE, number=recipient),
            content={"type": "text", "text": text},
            occurred_at=_occurred_at(params, now),
            provider_message_id=message_id,
            extra=extra,
        )
    ]


# -- helpers ----------------------------------------------------------------------------------


def _required(params: Mapping[str, str], name: str) -> str:
    value = (params.get(name) or "").strip()
    if not value:
        raise malformed(name, "is required")
    if len(value) > MAX_ID_LENGTH:
        raise malformed(name, f"is longer than {MAX_ID_LENGTH} characters")
    return value


def _positive_int(params: Mapping[str, str], name: str) -> int:
    value = _required(params, name)
    if not value.isdigit() or int(value) < 1:
        raise malformed(name, "must be a positive integer")
    return int(value)


def _occurred_at(params: Mapping[str, str], now: float) -> float:
    for name, layout in (("message-timestamp", "%Y-%m-%d %H:%M:%S"), ("scts", "%y%m%d%H%M")):
        value = params.get(name)
        if value:
            try:
                return datetime.strptime(value.strip(), layout).replace(tzinfo=timezone.utc).timestamp()
            except ValueError:
                continue
    return now
