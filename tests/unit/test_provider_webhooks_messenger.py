"""Messenger webhooks: the handshake, X-Hub-Signature(-256) and event parsing."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt
from switchboard.domain.errors import InvalidJson, ValidationFailed
from switchboard.receipts.messenger_webhook import handshake_challenge, parse_events, signature_valid

SECRET = "app-secret"
PAGE = "107083064136738"
OTHER_PAGE = "200000000000001"
PSID = "3523523523520000"
NOW = 1_795_780_800.0
USER = Endpoint("messenger", id=PSID)
PAGE_ENDPOINT = Endpoint("messenger", id=PAGE)


def body_of(*messaging: dict[str, Any], entries: list[dict[str, Any]] | None = None) -> bytes:
    entry = entries if entries is not None else [{"id": PAGE, "time": 1, "messaging": list(messaging)}]
    return json.dumps({"object": "page", "entry": entry}).encode()


def event(page: str = PAGE, timestamp: int | None = 1_795_780_000_000, **kind: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"sender": {"id": PSID}, "recipient": {"id": page}, **kind}
    if timestamp is not None:
        item["timestamp"] = timestamp
    return item


def hub_signature(body: bytes, secret: str = SECRET, algorithm: str = "sha256") -> str:
    return f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()


# -- handshake --------------------------------------------------------------------------------


def test_handshake_echoes_the_challenge_for_our_token() -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"}

    assert handshake_challenge(params, "tok") == "1158201444"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": "tok", "hub.challenge": "1"},
        {"hub.verify_token": "tok", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.challenge": "1"},
        {"hub.mode": "subscribe", "hub.verify_token": "tök", "hub.challenge": "1"},
        {},
    ],
)
def test_handshake_is_refused_without_subscribe_and_our_token(params: dict[str, str]) -> None:
    assert handshake_challenge(params, "tok") is None


def test_handshake_is_refused_when_no_token_is_configured() -> None:
    assert handshake_challenge({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, "") is None


def test_a_correct_handshake_without_a_challenge_is_malformed() -> None:
    with pytest.raises(ValidationFailed):
        handshake_challenge({"hub.mode": "subscribe", "hub.verify_token": "tok"}, "tok")


# -- signature --------------------------------------------------------------------------------


def test_sha256_signature_is_accepted() -> None:
    body = body_of()

    assert signature_valid({"x-hub-signature-256": hub_signature(body)}, body, SECRET)
    upper_case_hex = "sha256=" + hub_signature(body).removeprefix("sha256=").upper()
    assert signature_valid({"x-hub-signature-256": upper_case_hex}, body, SECRET)


def test_sha1_is_the_fallback_only_when_sha256_is_absent() -> None:
    body = body_of()
    sha1 = hub_signature(body, algorithm="sha1")

    assert signature_valid({"x-hub-signature": sha1}, body, SECRET)
    assert not signature_valid({"x-hub-signature-256": "sha256=" + "0" * 64, "x-hub-signature": sha1}, body, SECRET)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-hub-signature-256": hub_signature(b"other body")},
        {"x-hub-signature-256": hub_signature(body_of(), secret="not-the-secret")},
        {"x-hub-signature-256": hub_signature(body_of(), algorithm="sha1")},  # wrong scheme
        {"x-hub-signature-256": hub_signature(body_of()).removeprefix("sha256=")},  # no scheme
        {"x-hub-signature": hub_signature(body_of(), algorithm="sha256")},  # sha256 value in the sha1 header
        {"x-hub-signature-256": "sha256=ü"},
    ],
)
def test_unsigned_or_wrongly_signed_bodies_are_refused(headers: dict[str, str]) -> None:
    assert not signature_valid(headers, body_of(), SECRET)


def test_nothing_verifies_without_an_app_secret() -> None:
    body = body_of()

    assert not signature_valid({"x-hub-signature-256": hub_signature(body, secret="")}, body, "")


# -- events -----------------------------------------------------------------------------------


def test_text_message_becomes_an_inbound_message() -> None:
    body = body_of(event(message={"mid": "m_1", "seq": 73, "text": "hello"}))

    assert parse_events(body, NOW) == [
        InboundMessage(
            channel=Channel.MESSENGER,
            sender=USER,
            recipient=PAGE_ENDPOINT,
            content={"type": "text", "text": "hello"},
            occurred_at=1_795_780_000.0,
            provider_message_id="m_1",
        )
    ]


@pytest.mark.parametrize("kind", ["image", "audio", "video", "file"])
def test_media_attachments_become_media_content(kind: str) -> None:
    url = f"https://cdn.example/{kind}"
    body = body_of(event(message={"mid": "m_2", "attachments": [{"type": kind, "payload": {"url": url}}]}))

    (inbound,) = parse_events(body, NOW)

    assert isinstance(inbound, InboundMessage)
    assert inbound.content == {"type": kind, kind: {"url": url}}
    assert inbound.extra == {}


def test_location_becomes_string_coordinates_with_the_map_url() -> None:
    attachment = {
        "title": "Pinned Location",
        "url": "https://www.bing.com/maps/default.aspx?where1=51.5074%2C-0.1278",
        "type": "location",
        "payload": {"coordinates": {"lat": 51.5074, "long": -0.1278}},
    }
    (inbound,) = parse_events(body_of(event(message={"mid": "m_3", "attachments": [attachment]})), NOW)

    assert isinstance(inbound, InboundMessage)
    assert inbound.content == {
        "type": "location",
        "location": {"lat": "51.5074", "long": "-0.1278", "url": attachment["url"]},
    }


def test_location_without_a_url_has_coordinates_only() -> None:
    attachment = {"type": "location", "payload": {"coordinates": {"lat": "48.8566", "long": 2}}}
    (inbound,) = parse_events(body_of(event(message={"mid": "m_3", "attachments": [attachment]})), NOW)

    assert isinstance(inbound, InboundMessage)
    assert inbound.content == {"type": "location", "location": {"lat": "48.8566", "long": "2"}}


def test_text_and_several_attachments_become_one_message_each_text_first() -> None:
    message = {
        "mid": "m_4",
        "text": "look",
        "attachments": [
            {"type": "image", "payload": {"url": "https://cdn.example/1.jpg"}},
            {"type": "fallback", "payload": None, "title": "a link"},  # not expressible: skipped
            {"type": "video", "payload": {"url": "https://cdn.example/2.mp4"}},
        ],
    }

    events = parse_events(body_of(event(message=message)), NOW)

    assert [e.content["type"] for e in events if isinstance(e, InboundMessage)] == ["text", "image", "video"]
    assert [e.extra for e in events] == [{"part_index": 0}, {"part_index": 1}, {"part_index": 2}]
    assert {e.provider_message_id for e in events if isinstance(e, InboundMessage)} == {"m_4"}


@pytest.mark.parametrize(
    "attachment",
    [
        {"type": "image", "payload": {}},
        {"type": "image"},
        {"type": "location", "payload": {"coordinates": {"lat": "north", "long": 1}}},
        {"type": "location", "payload": {"coordinates": {"lat": True, "long": 1}}},
        {"type": "template", "payload": {"template_type": "generic"}},
    ],
)
def test_unusable_attachments_are_skipped(attachment: dict[str, Any]) -> None:
    assert parse_events(body_of(event(message={"mid": "m_5", "attachments": [attachment]})), NOW) == []


def test_echoes_are_ignored() -> None:
    echo = {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "timestamp": 1,
            "message": {"is_echo": True, "app_id": 1517776481860111, "mid": "m_echo", "text": "our own"}}

    assert parse_events(body_of(echo), NOW) == []


def test_delivery_gives_a_receipt_per_mid_and_a_watermark() -> None:
    body = body_of(event(timestamp=None, delivery={"mids": ["m_a", "m_b"], "watermark": 1_795_780_700_000, "seq": 37}))

    assert parse_events(body, NOW) == [
        StatusReceipt(Channel.MESSENGER, "m_a", "delivered", 1_795_780_700.0),
        StatusReceipt(Channel.MESSENGER, "m_b", "delivered", 1_795_780_700.0),
        WatermarkReceipt(PAGE, PSID, "delivered", 1_795_780_700_000, 1_795_780_700.0),
    ]


def test_delivery_with_only_mids_or_only_a_watermark() -> None:
    only_mids = body_of(event(delivery={"mids": ["m_a"]}))
    only_watermark = body_of(event(delivery={"watermark": 5_000}))

    assert parse_events(only_mids, NOW) == [StatusReceipt(Channel.MESSENGER, "m_a", "delivered", 1_795_780_000.0)]
    assert parse_events(only_watermark, NOW) == [WatermarkReceipt(PAGE, PSID, "delivered", 5_000, 1_795_780_000.0)]


def test_read_gives_a_read_watermark() -> None:
    body = body_of(event(read={"watermark": 1_795_780_600_000, "seq": 0}))

    assert parse_events(body, NOW) == [WatermarkReceipt(PAGE, PSID, "read", 1_795_780_600_000, 1_795_780_000.0)]


def test_every_entry_and_messaging_item_is_handled_in_order() -> None:
    entries = [
        {"id": PAGE, "time": 1, "messaging": [
            event(message={"mid": "m_1", "text": "one"}),
            event(read={"watermark": 10}),
        ]},
        {"id": OTHER_PAGE, "time": 2, "messaging": [
            event(page=OTHER_PAGE, delivery={"mids": ["m_9"]}),
            event(page=OTHER_PAGE, postback={"payload": "GET_STARTED"}),
        ]},
        {"id": PAGE, "time": 3, "changes": [{"field": "feed"}]},  # no messaging: skipped
    ]

    events = parse_events(body_of(entries=entries), NOW)

    assert [type(e).__name__ for e in events] == ["InboundMessage", "WatermarkReceipt", "StatusReceipt"]
    assert isinstance(events[1], WatermarkReceipt) and events[1].page_id == PAGE
    assert isinstance(events[2], StatusReceipt) and events[2].provider_message_id == "m_9"


@pytest.mark.parametrize(
    "kind", [{"postback": {"payload": "x"}}, {"optin": {"ref": "x"}}, {"referral": {}}, {"reaction": {"mid": "m"}}]
)
def test_other_events_are_ignored(kind: dict[str, Any]) -> None:
    assert parse_events(body_of(event(**kind)), NOW) == []


def test_other_objects_are_ignored() -> None:
    assert parse_events(json.dumps({"object": "instagram", "entry": "whatever"}).encode(), NOW) == []


def test_events_without_a_time_are_dated_now() -> None:
    (inbound,) = parse_events(body_of(event(timestamp=None, message={"mid": "m", "text": "x"})), NOW)

    assert inbound.occurred_at == NOW


@pytest.mark.parametrize(
    "raw",
    [
        {"object": "page"},
        {"object": "page", "entry": {"id": PAGE}},
        {"object": "page", "entry": ["not an object"]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": {"sender": {}}}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [7]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [
            {"recipient": {"id": PAGE}, "message": {"mid": "m", "text": "x"}}
        ]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [
            {"sender": {"id": PSID}, "recipient": {"id": ""}, "read": {"watermark": 1}}
        ]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(message={"text": "no mid"})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(message={"mid": "m", "text": 5})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(message={"mid": "m", "attachments": {}})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(message={"mid": "m", "attachments": ["x"]})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(message="hello")]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(delivery={"mids": "m_a"})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(delivery={"mids": [None]})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(delivery={"watermark": "soon"})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(read={})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(read={"watermark": True})]}]},
        {"object": "page", "entry": [{"id": PAGE, "messaging": [event(timestamp="now", read={"watermark": 1})]}]},
    ],
)
def test_malformed_bodies_are_rejected_whole(raw: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        parse_events(json.dumps(raw).encode(), NOW)


@pytest.mark.parametrize("raw", [b"", b"{not json", b"[]", b"\xff\xfe", b'{"object": NaN}'])
def test_bodies_that_are_not_a_json_object_are_invalid_json(raw: bytes) -> None:
    with pytest.raises(InvalidJson):
        parse_events(raw, NOW)


def test_a_bad_item_after_good_ones_still_rejects_the_whole_body() -> None:
    body = body_of(event(message={"mid": "m_1", "text": "fine"}), event(read={"watermark": "bad"}))

    with pytest.raises(ValidationFailed) as caught:
        parse_events(body, NOW)

    assert caught.value.invalid_parameters[0].name == "entry[0].messaging[1].read.watermark"
