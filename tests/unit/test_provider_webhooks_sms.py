"""SMS API webhooks: reading GET/form/JSON parameters, DLR status and error mapping, inbound SMS."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from urllib.parse import urlencode

import pytest

from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage, StatusReceipt
from switchboard.domain.errors import InvalidJson, UnsupportedMediaType, ValidationFailed
from switchboard.receipts.sms_webhook import error_code_for, parse_dlr, parse_inbound, request_params

NOW = 1_795_780_800.0
DLR = {
    "msisdn": "447700900000",
    "to": "AcmeInc",
    "network-code": "23410",
    "messageId": "0A0000001234567B",
    "price": "0.03330000",
    "status": "delivered",
    "scts": "2611271159",
    "err-code": "0",
    "message-timestamp": "2026-11-27 11:59:58",
    "client-ref": "order 1234 & more",
}
INBOUND = {
    "msisdn": "447700900001",
    "to": "447700900100",
    "messageId": "0A0000000123ABCD1",
    "text": "Hello = world & co",
    "type": "text",
    "keyword": "HELLO",
    "message-timestamp": "2026-11-27 11:59:59",
}


def epoch(text: str, layout: str = "%Y-%m-%d %H:%M:%S") -> float:
    return datetime.strptime(text, layout).replace(tzinfo=timezone.utc).timestamp()


# -- where the parameters are -----------------------------------------------------------------


def test_get_reads_the_query_string() -> None:
    assert request_params("GET", None, b"", urlencode(DLR)) == DLR


def test_post_form_reads_the_body() -> None:
    body = urlencode(DLR).encode()

    assert request_params("POST", "application/x-www-form-urlencoded; charset=UTF-8", body, "ignored=1") == DLR
    assert request_params("POST", None, body, "") == DLR  # no content type: form, as the SMS API posts


def test_post_json_reads_the_body_as_text_values() -> None:
    body = json.dumps({**DLR, "concat": True, "concat-total": 2, "udh": None, "price": 0.5}).encode()

    assert request_params("POST", "application/json", body, "") == {
        **DLR, "concat": "true", "concat-total": "2", "price": "0.5"
    }
    assert request_params("POST", None, json.dumps(DLR).encode(), "") == DLR  # sniffed


def test_post_without_a_body_reads_the_query_string() -> None:
    assert request_params("POST", None, b"", "a=1") == {"a": "1"}


@pytest.mark.parametrize(
    ("content_type", "body", "query", "error"),
    [
        ("application/json", b"{not json", "", InvalidJson),
        ("application/json", b"[1, 2]", "", InvalidJson),
        ("application/json", b'{"text": {"nested": 1}}', "", ValidationFailed),
        ("application/x-www-form-urlencoded", b"\xff\xfe=1", "", InvalidJson),
        ("application/x-www-form-urlencoded", b"a=1&a=2", "", ValidationFailed),
        ("application/x-www-form-urlencoded", b"text=%ff", "", ValidationFailed),
        ("text/xml", b"<dlr/>", "", UnsupportedMediaType),
    ],
)
def test_unreadable_requests(content_type: str, body: bytes, query: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        request_params("POST", content_type, body, query)


# -- delivery receipts ------------------------------------------------------------------------


def test_delivered() -> None:
    assert parse_dlr(DLR, NOW) == [
        StatusReceipt(
            Channel.SMS, "0A0000001234567B", "delivered", epoch("2026-11-27 11:59:58"), client_ref="order 1234 & more"
        )
    ]


def test_a_receipt_without_client_ref_carries_none() -> None:
    without = {k: v for k, v in DLR.items() if k != "client-ref"}

    assert [receipt.client_ref for receipt in parse_dlr(without, NOW)] == [None]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("status", "err_code", "expected_status", "expected_code"),
    [
        ("failed", "2", "undeliverable", 1180),
        ("expired", "3", "undeliverable", 1190),
        ("failed", "4", "undeliverable", 1050),
        ("rejected", "5", "rejected", 1200),
        ("rejected", "10", "rejected", 1040),
        ("failed", "15", "undeliverable", 1290),
        ("failed", "1", "undeliverable", 1330),
        ("failed", "99", "undeliverable", 1330),
        ("failed", "", "undeliverable", 1330),
        ("FAILED", "x", "undeliverable", 1330),
    ],
)
def test_failures_carry_the_mapped_error(status: str, err_code: str, expected_status: str, expected_code: int) -> None:
    (receipt,) = parse_dlr({**DLR, "status": status, "err-code": err_code}, NOW)

    assert isinstance(receipt, StatusReceipt)
    assert (receipt.status, receipt.error["code"] if receipt.error else None) == (expected_status, expected_code)


def test_the_error_code_table() -> None:
    expected = {2: 1180, 3: 1190, 4: 1050, 5: 1200, 6: 1210, 7: 1220, 8: 1230, 9: 1240, 10: 1040, 11: 1250,
                12: 1260, 13: 1270, 14: 1280, 15: 1290, 0: 1330, 1: 1330, 99: 1330, 50: 1330}

    assert {code: error_code_for(str(code)) for code in expected} == expected
    assert error_code_for(None) == 1330


@pytest.mark.parametrize("status", ["accepted", "buffered", "unknown", "something-new"])
def test_intermediate_statuses_change_nothing(status: str) -> None:
    assert parse_dlr({**DLR, "status": status}, NOW) == []


def test_receipt_time_falls_back_to_scts_then_now() -> None:
    (by_scts,) = parse_dlr({**DLR, "message-timestamp": "garbage"}, NOW)
    (by_now,) = parse_dlr({k: v for k, v in DLR.items() if k not in ("message-timestamp", "scts")}, NOW)

    assert by_scts.occurred_at == epoch("2611271159", "%y%m%d%H%M")
    assert by_now.occurred_at == NOW


@pytest.mark.parametrize("missing", ["messageId", "status"])
def test_dlr_without_required_fields_is_malformed(missing: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_dlr({k: v for k, v in DLR.items() if k != missing}, NOW)


# -- inbound SMS ------------------------------------------------------------------------------


def test_inbound_sms_becomes_an_inbound_message() -> None:
    assert parse_inbound(INBOUND, NOW) == [
        InboundMessage(
            channel=Channel.SMS,
            sender=Endpoint("sms", number="447700900001"),
            recipient=Endpoint("sms", number="447700900100"),
            content={"type": "text", "text": "Hello = world & co"},
            occurred_at=epoch("2026-11-27 11:59:59"),
            provider_message_id="0A0000000123ABCD1",
        )
    ]


def test_each_concatenated_part_is_delivered_with_its_place() -> None:
    part = {**INBOUND, "concat": "true", "concat-ref": "108", "concat-total": "3", "concat-part": "2"}

    (inbound,) = parse_inbound(part, NOW)

    assert isinstance(inbound, InboundMessage)
    assert inbound.extra == {"concat": {"ref": "108", "total": 3, "part": 2}}


@pytest.mark.parametrize(
    "change",
    [{"concat-total": "many"}, {"concat-part": "0"}, {"concat-ref": ""}],
)
def test_malformed_concat_fields(change: dict[str, str]) -> None:
    part = {**INBOUND, "concat": "true", "concat-ref": "108", "concat-total": "3", "concat-part": "2", **change}

    with pytest.raises(ValidationFailed):
        parse_inbound(part, NOW)


def test_binary_messages_are_skipped() -> None:
    binary = {k: v for k, v in INBOUND.items() if k != "text"} | {"type": "binary", "data": "00ff", "udh": "050003"}

    assert parse_inbound(binary, NOW) == []


@pytest.mark.parametrize("missing", ["msisdn", "to", "messageId", "text"])
def test_inbound_without_required_fields_is_malformed(missing: str) -> None:
    with pytest.raises(ValidationFailed):
        parse_inbound({k: v for k, v in INBOUND.items() if k != missing}, NOW)
