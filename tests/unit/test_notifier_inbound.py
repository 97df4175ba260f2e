"""Inbound messages: recorded once per provider message, their webhook queued exactly once."""
from __future__ import annotations

import json
from typing import Any

import pytest

from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage
from tests.support.stores import Notifications
from switchboard.receipts.inbound_intake import InboundEffect, InboundIntake
from switchboard.notifier.outbox import NotificationInProgress
from tests.support.stores import MessagesTable, notifier_attempted

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z


class FlakyNotifications(Notifications):
    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.failures = failures

    def inbound_received(self, inbound_record: dict, target: dict | None = None) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionError("NotifyQueue unreachable")
        super().inbound_received(inbound_record, target)


def inbound(mid: str = "m_AbC123") -> InboundMessage:
    return InboundMessage(
        channel=Channel.MESSENGER,
        sender=Endpoint(type="messenger", id="psid-1"),
        recipient=Endpoint(type="messenger", id="page-1"),
        content={"type": "text", "text": "Hello from Facebook Messenger!"},
        occurred_at=T0 - 1.234,
        provider_message_id=mid,
    )


def queued(aws) -> list[dict[str, Any]]:
    sqs, url = aws.client("sqs"), aws.env["NOTIFY_QUEUE_URL"]
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return found


def test_an_inbound_message_is_recorded_and_its_webhook_queued(aws, now) -> None:
    intake = InboundIntake(MessagesTable(), Notifications())

    result = intake.receive(inbound(), "abcd1234", "app-1", "messenger#m_AbC123")

    assert result.effect is InboundEffect.ACCEPTED
    assert result.effect == "accepted"
    (webhook,) = queued(aws)
    assert webhook == {
        "kind": "inbound",
        "message_uuid": result.message_uuid,
        "notification": "inbound",
        "body": {
            "message_uuid": result.message_uuid,
            "to": {"type": "messenger", "id": "page-1"},
            "from": {"type": "messenger", "id": "psid-1"},
            "timestamp": "2026-09-21T14:13:18.766Z",
            "message": {"content": {"type": "text", "text": "Hello from Facebook Messenger!"}},
            "direction": "inbound",
        },
        "target": {"api_key": "abcd1234", "application_id": "app-1", "url_kind": "inbound"},
        "attempt": 1,
        "first_attempt_at": T0,
        "lease_until": int(T0) + 60,
    }
    saved = MessagesTable().get(result.message_uuid)
    assert saved["direction"] == "inbound"
    assert saved["outbox_inbound"] == int(T0) + 60  # decided; nothing written once queued


def test_a_provider_retry_of_the_same_message_is_a_duplicate(aws, now) -> None:
    intake = InboundIntake(MessagesTable(), Notifications())
    first = intake.receive(inbound(), "abcd1234", None, "messenger#m_AbC123")
    assert first.message_uuid is not None
    # Before the notifier has attempted its webhook, a repeat reaching another instance is told to
    # come back; the instance that queued it knows it is queued.
    with pytest.raises(NotificationInProgress):
        InboundIntake(MessagesTable(), Notifications()).receive(inbound(), "abcd1234", None, "messenger#m_AbC123")
    assert intake.receive(inbound(), "abcd1234", None, "messenger#m_AbC123").effect is InboundEffect.DUPLICATE
    notifier_attempted(first.message_uuid, "inbound")

    again = intake.receive(inbound(), "abcd1234", None, "messenger#m_AbC123")

    assert (again.effect, again.message_uuid) == (InboundEffect.DUPLICATE, first.message_uuid)
    assert len(queued(aws)) == 1


def test_without_a_dedupe_key_every_call_is_a_new_message(aws, now) -> None:
    intake = InboundIntake(MessagesTable(), Notifications())

    results = [intake.receive(inbound(), "abcd1234", None, None) for _ in range(2)]

    assert {r.effect for r in results} == {InboundEffect.ACCEPTED}
    assert results[0].message_uuid != results[1].message_uuid
    assert len(queued(aws)) == 2


def test_a_failed_enqueue_is_queued_by_the_providers_retry_exactly_once(aws, now) -> None:
    intake = InboundIntake(MessagesTable(), FlakyNotifications(failures=1))

    with pytest.raises(ConnectionError):
        intake.receive(inbound(), "abcd1234", None, "messenger#m_AbC123")
    assert queued(aws) == []

    retry = intake.receive(inbound(), "abcd1234", None, "messenger#m_AbC123")

    assert retry.effect is InboundEffect.DUPLICATE
    (webhook,) = queued(aws)
    assert webhook["message_uuid"] == retry.message_uuid
    assert retry.message_uuid is not None
    notifier_attempted(retry.message_uuid, "inbound")
    now[0] += 3600
    intake.receive(inbound(), "abcd1234", None, "messenger#m_AbC123")
    assert queued(aws) == []


def test_a_retry_while_the_first_attempt_is_still_queuing_is_told_to_come_back(aws, now) -> None:
    store = MessagesTable()
    # The first attempt recorded the message and has not queued its webhook yet.
    store.create_inbound("aaaaaaaa-bbbb-cccc-dddd-0123456789ab", inbound(), "abcd1234", None, "messenger#m_AbC123")
    intake = InboundIntake(store, Notifications())

    with pytest.raises(NotificationInProgress):
        intake.receive(inbound(), "abcd1234", None, "messenger#m_AbC123")
    assert queued(aws) == []

    now[0] += 61
    assert intake.receive(inbound(), "abcd1234", None, "messenger#m_AbC123").effect is InboundEffect.DUPLICATE
    assert [w["message_uuid"] for w in queued(aws)] == ["aaaaaaaa-bbbb-cccc-dddd-0123456789ab"]


def test_inbound_received_takes_an_explicit_target(aws, now) -> None:
    record = MessagesTable().create_inbound("aaaaaaaa-bbbb-cccc-dddd-0123456789ab", inbound(), "abcd1234", None, None)

    Notifications().inbound_received(record, {"api_key": "abcd1234", "application_id": "app-9", "url_kind": "inbound"})

    (webhook,) = queued(aws)
    assert webhook["target"] == {"api_key": "abcd1234", "application_id": "app-9", "url_kind": "inbound"}
