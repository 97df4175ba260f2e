"""Viber Service Messages delivery callbacks (protocols.md 5.2).

Body ``{"message_token", "message_status", "message_time" (ms), "phone_number", "service_id"}``,
authenticated by ``X-Viber-Content-Signature`` (hex HMAC-SHA256 of the raw body keyed with
``viber.callback_secret``) and, when ``VIBER_CALLBACK_ALLOWED_CIDRS`` is set, by source address.

``message_status``:

===  ==========  =====================================================
0    delivered   ``delivered``
1    seen        ``read`` (Viber stopped sending it on 2018-12-19)
2    expired     ``undeliverable`` with 1360 (the message's TTL ran out)
*    other       logged and ignored (answered 200: retrying cannot help)
===  ==========  =====================================================

``message_token`` and ``message_status`` are required; ``message_time`` dates the receipt (the
time we received it when absent).
"""
from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from switchboard.domain.error_codes import error
from switchboard.domain.message import Channel
from switchboard.domain.provider_events import StatusReceipt
from switchboard.observability import logger
from switchboard.receipts.webhook_fields import as_id, as_int, parse_json_object, required
from switchboard.receipts.receipt_ports import ProviderEvent
from switchboard.receipts.sms_signature import constant_time_equal

SIGNATURE_HEADER = "x-viber-content-signature"
TTL_EXPIRED_CODE = 1360

DELIVERED, SEEN, EXPIRED = 0, 1, 2
STATUSES: dict[int, tuple[str, int | None]] = {
    DELIVERED: ("delivered", None),
    SEEN: ("read", None),
    EXPIRED: ("undeliverable", TTL_EXPIRED_CODE),
}


def signature_valid(headers: Mapping[str, str], body: bytes, callback_secret: str) -> bool:
    """``headers``: case-insensitive (the event's) or lower-case names. Without a callback secret: always False."""
    presented = headers.get(SIGNATURE_HEADER)
    if not callback_secret or presented is None:
        return False
    expected = hmac.new(callback_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return constant_time_equal(expected, presented.strip().lower())


def source_allowed(source_ip: str | None, allowed_cidrs: Sequence[str]) -> bool:
    """True when no allow-list is configured, or ``source_ip`` is in one of its networks.

    Entries that are not networks are logged and skipped, so a typo never opens the check: with
    no valid entry left, every source is refused.
    """
    if not allowed_cidrs:
        return True
    networks = _networks(tuple(allowed_cidrs))
    try:
        address = ipaddress.ip_address((source_ip or "").strip())
    except ValueError:
        return False
    return any(address in network for network in networks)


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for cidr in cidrs:
        try:
            networks.append(ipaddress.ip_network(cidr, strict=False))
        except ValueError:
            logger.error("ignoring an invalid entry of VIBER_CALLBACK_ALLOWED_CIDRS", extra={"entry": cidr[:60]})
    return tuple(networks)


def parse_callback(body: bytes, now: float) -> list[ProviderEvent]:
    data = parse_json_object(body)
    token = as_id(required(data, "message_token"), "message_token")
    status_code = _status_code(required(data, "message_status"))
    message_time = data.get("message_time")
    occurred_at = now if message_time is None else as_int(message_time, "message_time") / 1000

    mapped = STATUSES.get(status_code)
    if mapped is None:
        logger.info("viber callback status ignored", extra={"message_status": status_code})
        return []
    status, code = mapped
    return [
        StatusReceipt(
            channel=Channel.VIBER,
            provider_message_id=token,
            status=status,
            occurred_at=occurred_at,
            error=error(code) if code is not None else None,
        )
    ]


def _status_code(value: Any) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return as_int(value, "message_status")
