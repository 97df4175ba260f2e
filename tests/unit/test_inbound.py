"""InboundService: finding the owner through the channel link, and what it hands to the intake."""
from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage
from switchboard.receipts.inbound_routing import InboundService, dedupe_key
from switchboard.domain.tenancy import ChannelLink
from tests.support.fakes.links import FakeLinks
from tests.support.fakes.receipts import FakeIntake

PAGE = "107083064136738"
TEXT = InboundMessage(
    channel=Channel.MESSENGER,
    sender=Endpoint("messenger", id="3523523523520000"),
    recipient=Endpoint("messenger", id=PAGE),
    content={"type": "text", "text": "hello"},
    occurred_at=1_795_780_000.0,
    provider_message_id="m_1",
)
SMS = InboundMessage(
    channel=Channel.SMS,
    sender=Endpoint("sms", number="447700900001"),
    recipient=Endpoint("sms", number="447700900100"),
    content={"type": "text", "text": "hi"},
    occurred_at=1_795_780_000.0,
    provider_message_id="0A00000001",
)


def service(*links: ChannelLink) -> tuple[InboundService, FakeIntake]:
    intake = FakeIntake()
    return InboundService(FakeLinks(*links), intake), intake


def test_a_message_to_an_account_link_goes_to_the_account() -> None:
    inbound, intake = service(ChannelLink(Channel.MESSENGER, PAGE, "acct0001"))

    result = inbound.accept(TEXT)

    assert (result.effect, result.message_uuid) == ("accepted", "uuid-1")
    assert intake.received == [(TEXT, "acct0001", None, f"messenger#{PAGE}#m_1")]


def test_a_message_to_an_application_link_goes_to_the_application() -> None:
    inbound, intake = service(ChannelLink(Channel.SMS, "447700900100", "acct0001", "app-1"))

    assert inbound.accept(SMS).effect == "accepted"
    assert intake.owners == [("acct0001", "app-1")]


def test_a_message_to_an_unlinked_address_is_dropped() -> None:
    inbound, intake = service(ChannelLink(Channel.MESSENGER, "999", "acct0001"))

    result = inbound.accept(TEXT)

    assert (result.effect, result.message_uuid) == ("unlinked", None)
    assert intake.received == []


def test_a_provider_retry_is_a_duplicate_of_the_first_message() -> None:
    inbound, _ = service(ChannelLink(Channel.MESSENGER, PAGE, "acct0001"))

    first, retry = inbound.accept(TEXT), inbound.accept(TEXT)

    assert (first.effect, retry.effect) == ("accepted", "duplicate")
    assert retry.message_uuid == first.message_uuid


def test_intake_failures_propagate() -> None:
    inbound, intake = service(ChannelLink(Channel.MESSENGER, PAGE, "acct0001"))
    intake.fail = True

    with pytest.raises(RuntimeError):
        inbound.accept(TEXT)


def test_parts_of_one_provider_message_are_distinct_messages() -> None:
    inbound, _ = service(ChannelLink(Channel.MESSENGER, PAGE, "acct0001"))
    parts = [replace(TEXT, extra={"part_index": i}) for i in range(2)]

    results = [inbound.accept(part) for part in parts]

    assert [r.effect for r in results] == ["accepted", "accepted"]
    assert len({r.message_uuid for r in results}) == 2


def test_dedupe_keys() -> None:
    assert dedupe_key(TEXT) == f"messenger#{PAGE}#m_1"
    assert dedupe_key(replace(TEXT, extra={"part_index": 2})) == f"messenger#{PAGE}#m_1#2"
    assert dedupe_key(SMS) == "sms#447700900100#0A00000001"
    assert dedupe_key(replace(SMS, provider_message_id=None)) is None


def test_messages_without_a_provider_id_are_never_treated_as_retries() -> None:
    inbound, intake = service(ChannelLink(Channel.SMS, "447700900100", "acct0001"))
    anonymous: Any = replace(SMS, provider_message_id=None)

    assert [inbound.accept(anonymous).effect for _ in range(2)] == ["accepted", "accepted"]
    assert [key for *_, key in intake.received] == [None, None]
