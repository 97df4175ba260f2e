"""WhatsApp's "sent" status on the status machine: evidence of a send, never a change of its own."""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage, Principal
from switchboard.domain.provider_events import StatusReceipt
from switchboard.receipts.status_machine import ReceiptEffect, StatusService
from tests.support.stores import MessagesTable

BUSINESS, CUSTOMER = "447700900100", "447700900123"


class Webhooks:
    def __init__(self) -> None:
        self.statuses: list[tuple[str, str]] = []

    def status_changed(self, record: dict, status: str, occurred_at_iso: str, error: dict | None = None) -> None:
        self.statuses.append((record["message_uuid"], status))

    def inbound_received(self, inbound_record: dict, target: dict | None = None) -> None:
        raise AssertionError("no inbound webhooks here")


def create(message_uuid: str) -> MessagesTable:
    store = MessagesTable()
    message = OutboundMessage(
        channel=Channel.WHATSAPP, sender=Endpoint("whatsapp", number=BUSINESS),
        recipient=Endpoint("whatsapp", number=CUSTOMER), content=Content(type="text", text="hi"),
        api_version=ApiVersion.V1,
    )
    store.create(message_uuid, message, Principal(api_key="abcd1234"))
    store.claim(message_uuid, "token", int(clock.now()) + 60)
    return store


def sent(provider_id: str, client_ref: str | None) -> StatusReceipt:
    return StatusReceipt(Channel.WHATSAPP, provider_id, "submitted", clock.now(), None, client_ref)


def test_sent_settles_an_unknown_outcome_as_submitted_with_its_webhook(aws: Any) -> None:
    store = create("m-unknown")
    store.hold_unknown("m-unknown", "token", {"code": 1100, "reason": "lost"}, int(clock.now()) + 900)
    webhooks = Webhooks()

    result = StatusService(MessagesTable(), webhooks).apply_receipt(sent("wamid.1", "m-unknown"))

    assert result.message_uuid == "m-unknown"
    found = MessagesTable().get("m-unknown")
    assert found is not None and found["status"] == "submitted" and found["provider_message_id"] == "wamid.1"
    assert webhooks.statuses == [("m-unknown", "submitted")]
    # Then the delivery applies as usual, found by the provider id.
    delivered = StatusReceipt(Channel.WHATSAPP, "wamid.1", "delivered", clock.now(), None, "m-unknown")
    assert StatusService(MessagesTable(), webhooks).apply_receipt(delivered).effect is ReceiptEffect.APPLIED


def test_sent_for_a_submitted_message_changes_nothing(aws: Any) -> None:
    store = create("m-sent")
    store.mark_submitted("m-sent", "token", "wamid.2", "whatsapp#wamid.2")
    before = MessagesTable().get("m-sent")
    webhooks = Webhooks()

    result = StatusService(MessagesTable(), webhooks).apply_receipt(sent("wamid.2", "m-sent"))

    assert result.effect is ReceiptEffect.DUPLICATE
    assert MessagesTable().get("m-sent") == before and webhooks.statuses == []


def test_sent_for_an_unknown_message_is_ignored(aws: Any) -> None:
    result = StatusService(MessagesTable(), Webhooks()).apply_receipt(sent("wamid.none", None))
    assert result.effect is ReceiptEffect.UNKNOWN_MESSAGE
