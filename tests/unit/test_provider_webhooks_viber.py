"""Viber callbacks: the content signature, the source allow-list and the status mapping."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from switchboard.domain.message import Channel
from switchboard.domain.provider_events import StatusReceipt
from switchboard.domain.errors import InvalidJson, ValidationFailed
from switchboard.receipts.viber_webhook import parse_callback, signature_valid, source_allowed

SECRET = "callback-secret"
NOW = 1_795_780_800.0
TOKEN = 5741311803571721087


def callback(**fields: Any) -> bytes:
    body = {"message_token": TOKEN, "message_status": 0, "message_time": 1_795_780_000_123,
            "phone_number": "447700900000", "service_id": 16273}
    body.update(fields)
    return json.dumps({k: v for k, v in body.items() if v is not None}).encode()


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    return {"x-viber-content-signature": hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()}


def test_a_correct_signature_is_accepted() -> None:
    body = callback()

    assert signature_valid(signed(body), body, SECRET)
    upper_case_hex = signed(body)["x-viber-content-signature"].upper()
    assert signature_valid({"x-viber-content-signature": upper_case_hex}, body, SECRET)


@pytest.mark.parametrize(
    "headers",
    [{}, signed(b"another body"), signed(callback(), secret="other"), {"x-viber-content-signature": ""},
     {"x-viber-content-signature": "ä" * 64}],
)
def test_missing_or_wrong_signatures_are_refused(headers: dict[str, str]) -> None:
    assert not signature_valid(headers, callback(), SECRET)


def test_nothing_verifies_without_a_callback_secret() -> None:
    body = callback()

    assert not signature_valid(signed(body, secret=""), body, "")


@pytest.mark.parametrize(
    ("source", "cidrs", "allowed"),
    [
        ("203.0.113.7", (), True),  # no allow-list: no check
        ("203.0.113.7", ("203.0.113.0/24",), True),
        ("198.51.100.1", ("203.0.113.0/24",), False),
        ("198.51.100.1", ("203.0.113.0/24", "198.51.100.1"), True),  # a single address
        ("2001:db8::1", ("2001:db8::/32",), True),
        ("203.0.113.7", ("2001:db8::/32",), False),
        (None, ("203.0.113.0/24",), False),
        ("not an ip", ("203.0.113.0/24",), False),
        ("203.0.113.7", ("garbage",), False),  # a typo never opens the check
        ("203.0.113.7", ("garbage", "203.0.113.0/24"), True),
    ],
)
def test_source_allow_list(source: str | None, cidrs: tuple[str, ...], allowed: bool) -> None:
    assert source_allowed(source, cidrs) is allowed


@pytest.mark.parametrize(("status", "expected"), [(0, "delivered"), (1, "read"), ("0", "delivered")])
def test_delivered_and_seen(status: Any, expected: str) -> None:
    assert parse_callback(callback(message_status=status), NOW) == [
        StatusReceipt(Channel.VIBER, str(TOKEN), expected, 1_795_780_000.123)
    ]


def test_expired_is_undeliverable_with_the_ttl_code() -> None:
    (receipt,) = parse_callback(callback(message_status=2), NOW)

    assert isinstance(receipt, StatusReceipt)
    assert receipt.status == "undeliverable"
    assert receipt.error == {"code": 1360, "reason": "TTL was activated (no callbacks and no charge)"}


def test_other_statuses_are_ignored() -> None:
    assert parse_callback(callback(message_status=7), NOW) == []


def test_a_string_token_and_no_time() -> None:
    (receipt,) = parse_callback(callback(message_token="abc123", message_time=None), NOW)

    assert isinstance(receipt, StatusReceipt)
    assert (receipt.provider_message_id, receipt.occurred_at, receipt.provider_ref) == (
        "abc123", NOW, "viber_service_msg#abc123"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"message_token": None},
        {"message_token": ""},
        {"message_token": True},
        {"message_token": [1]},
        {"message_status": None},
        {"message_status": "delivered"},
        {"message_status": 1.5},
        {"message_time": "yesterday"},
    ],
)
def test_malformed_callbacks(fields: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        parse_callback(callback(**fields), NOW)


@pytest.mark.parametrize("raw", [b"", b"not json", b"[1]"])
def test_not_a_json_object(raw: bytes) -> None:
    with pytest.raises(InvalidJson):
        parse_callback(raw, NOW)
