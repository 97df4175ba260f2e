"""The sample events in ``events/webhooks_*.json`` go through the handler as documented.

They are signed with these sample secrets (a replay tool re-signs them with a stack's own); the
SMS ones carry a fixed signed ``timestamp``, so the clock is set to it here.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard import clock
from switchboard.domain.message import Channel
from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt
from tests.support.fakes.receipts import FakeInbound, FakeStatuses
from tests.support.lambdas import ROOT, FakeLambdaContext
from tests.support.provider_samples import SAMPLE_SECRETS, SIGNED_AT
from tests.support.wiring import StubWebhookServices, webhooks_handler

EVENTS = ROOT / "events"
PAGE = "107083064136738"
PSID = "3523523523520000"


def load(name: str) -> dict[str, Any]:
    return json.loads((EVENTS / f"webhooks_{name}.json").read_text())


@pytest.fixture
def handler() -> Iterator[tuple[Any, FakeStatuses, FakeInbound]]:
    statuses, inbound = FakeStatuses(), FakeInbound()
    clock.set_clock(lambda: float(SIGNED_AT + 30))
    yield webhooks_handler(StubWebhookServices(statuses, inbound, SAMPLE_SECRETS)), statuses, inbound
    clock.set_clock(None)


def applied(statuses: FakeStatuses, inbound: FakeInbound) -> list[Any]:
    return [*statuses.receipts, *statuses.watermarks, *inbound.accepted]


def test_every_sample_event_is_listed_here() -> None:
    names = {p.name.removeprefix("webhooks_").removesuffix(".json") for p in EVENTS.glob("webhooks_*.json")}

    assert names == set(EXPECTED) | {"messenger_verify", "whatsapp_verify"}


@pytest.mark.parametrize("name", ["messenger_verify", "whatsapp_verify"])
def test_the_verify_sample_answers_its_challenge(handler: tuple[Any, FakeStatuses, FakeInbound], name: str) -> None:
    call, statuses, inbound = handler

    response = call(load(name), FakeLambdaContext())

    assert (response["statusCode"], response["body"]) == (200, "1158201444")
    assert applied(statuses, inbound) == []


def _content(kind: str, **fields: Any) -> Any:
    return lambda e: isinstance(e, InboundMessage) and e.content == {"type": kind, **fields}


EXPECTED: dict[str, Any] = {
    "messenger_text": _content("text", text="hello, is my order on its way?"),
    "messenger_image": _content("image", image={"url": "https://scontent.xx.fbcdn.net/v/sample.jpg"}),
    "messenger_location": lambda e: isinstance(e, InboundMessage)
    and e.content["location"]["lat"] == "51.5074" and e.content["location"]["long"] == "-0.1278",
    "messenger_delivery": lambda e: isinstance(e, (StatusReceipt, WatermarkReceipt)) and e.status == "delivered",
    "messenger_read": lambda e: isinstance(e, WatermarkReceipt)
    and (e.page_id, e.psid, e.status) == (PAGE, PSID, "read"),
    "viber_delivered": lambda e: isinstance(e, StatusReceipt) and (e.channel, e.status) == (Channel.VIBER, "delivered"),
    "viber_seen": lambda e: isinstance(e, StatusReceipt) and (e.channel, e.status) == (Channel.VIBER, "read"),
    "sms_dlr_delivered": lambda e: isinstance(e, StatusReceipt) and (e.channel, e.status) == (Channel.SMS, "delivered"),
    "sms_dlr_failed": lambda e: isinstance(e, StatusReceipt) and e.status == "undeliverable"
    and e.error == {"code": 1180, "reason": "Absent Subscriber Temporary"},
    "sms_inbound": lambda e: isinstance(e, InboundMessage) and e.channel is Channel.SMS
    and e.recipient.number == "447700900100",
    "whatsapp_text": lambda e: isinstance(e, InboundMessage) and e.channel is Channel.WHATSAPP
    and e.content == {"type": "text", "text": "hello, is my order on its way?", "profile": {"name": "Ann"}},
    "whatsapp_image": lambda e: isinstance(e, InboundMessage) and e.content["type"] == "image"
    and e.content["image"]["url"].endswith("/v1/whatsapp/media/447700900100/1479537139650973"),
    "whatsapp_read": lambda e: isinstance(e, StatusReceipt) and (e.channel, e.status) == (Channel.WHATSAPP, "read")
    and e.client_ref == "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
    "whatsapp_failed": lambda e: isinstance(e, StatusReceipt) and e.status == "undeliverable"
    and e.error is not None and e.error["code"] == 1260,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_sample_event_is_accepted_and_mapped(handler: tuple[Any, FakeStatuses, FakeInbound], name: str) -> None:
    call, statuses, inbound = handler

    response = call(load(name), FakeLambdaContext())

    assert response["statusCode"] == 200, response.get("body")
    events = applied(statuses, inbound)
    assert events and all(EXPECTED[name](e) for e in events), events


@pytest.mark.parametrize("name", ["sms_dlr_delivered", "sms_inbound"])
def test_sms_samples_are_refused_once_their_signature_is_stale(
    handler: tuple[Any, FakeStatuses, FakeInbound], name: str
) -> None:
    call, statuses, inbound = handler
    clock.set_clock(lambda: float(SIGNED_AT + 3600))

    assert call(load(name), FakeLambdaContext())["statusCode"] == 403
    assert applied(statuses, inbound) == []


def test_samples_are_valid_json_events() -> None:
    samples = sorted(EVENTS.glob("webhooks_*.json"))
    assert samples
    for path in samples:
        event = json.loads(path.read_text())
        assert event["version"] == "2.0" and event["rawPath"].startswith("/webhooks/"), path.name
        assert Path(event["requestContext"]["http"]["path"]) == Path(event["rawPath"]), path.name
