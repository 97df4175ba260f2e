"""The sender's status webhooks: submitted and rejected are queued once each, through the outbox."""
from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from switchboard.domain.notification import Notification

from tests.support.stores import Notifications
from switchboard.notifier.outbox import Outbox
from switchboard.sender.outbound_sender import OUTCOME_UNKNOWN_REASON, OutboundSender, SenderPolicy
from tests.support.stores import ContactStore
from tests.support.stores import MessagesTable, notifier_attempted
from tests.support.builders import (
    CHANNELS_CONFIG,
    PRINCIPAL,
    messenger_message,
    sms_message,
    sqs_record,
)
from tests.support.fakes.channel_adapter import FakeAdapter, accepted, rejected, retry
from tests.support.fakes.sender_ports import RecordingTally, SpyQueue
from tests.support.wiring import send_batch

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z


class FlakyNotifications(Notifications):
    """The real publisher, except that the first ``failures`` status webhooks cannot be queued."""

    def __init__(self, failures: int = 0) -> None:
        super().__init__()
        self.failures = failures

    def queue_all(self, notifications: Sequence[Notification]) -> set[int]:
        failing = min(self.failures, len(notifications))
        self.failures -= failing
        return set(range(failing)) | {failing + index for index in super().queue_all(notifications[failing:])}


def make_sender(adapter: FakeAdapter, notifications: Notifications | None = None, max_attempts: int = 5) -> OutboundSender:
    records = MessagesTable()
    return OutboundSender(
        records=records,
        contacts=ContactStore(),
        queue=SpyQueue(),
        adapter_for=adapter.for_channel,
        policy=SenderPolicy(max_attempts=max_attempts, retry_base_seconds=2, max_receive_count=8),
        outcomes=RecordingTally(),
        webhooks=Outbox(records, notifications or Notifications()),
    )


def run(sender: OutboundSender, *records: dict[str, Any]) -> list[str]:
    response = send_batch({"Records": list(records)}, sender)
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def create(uuid: str, message=None) -> str:
    MessagesTable().create(uuid, message or messenger_message(), PRINCIPAL)
    return uuid


def record(uuid: str) -> dict[str, Any]:
    found = MessagesTable().get(uuid)
    assert found is not None
    return found


def queued_webhooks(aws) -> list[dict[str, Any]]:
    """Every notification on the NotifyQueue, removed from it."""
    sqs, url = aws.client("sqs"), aws.env["NOTIFY_QUEUE_URL"]
    found: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not batch:
            return found
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_a_submitted_message_queues_one_submitted_webhook(aws, now) -> None:
    uuid = create("m-1")

    assert run(make_sender(FakeAdapter(accepted("mid.1"))), sqs_record(uuid)) == []

    (webhook,) = queued_webhooks(aws)
    assert webhook["notification"] == "status:submitted"
    assert webhook["body"] == {
        "message_uuid": uuid,
        "to": {"type": "messenger", "id": "psid-1"},
        "from": {"type": "messenger", "id": "page-1"},
        "timestamp": "2026-09-21T14:13:20.000Z",
        "status": "submitted",
    }
    assert webhook["target"] == {"api_key": "abcd1234", "url_kind": "status"}
    saved = record(uuid)
    assert saved["outbox_submitted"] == int(T0) + 60  # decided and queued: nothing is written afterwards
    assert saved["seen_statuses"] == {"submitted"}


def test_a_rejected_message_queues_a_rejected_webhook_with_its_error(aws, now) -> None:
    uuid = create("s-1", sms_message())

    assert run(make_sender(FakeAdapter(rejected(1300, "Not part of the provider network"))), sqs_record(uuid)) == []

    (webhook,) = queued_webhooks(aws)
    # A v1 message with no webhook_version setting anywhere gets the v1 shape (docs/webhooks.md).
    assert webhook["body"]["status"] == "rejected"
    error = webhook["body"]["error"]
    assert (error["type"], error["title"], error["detail"]) == (
        "https://developer.vonage.com/api-errors/messages#1300", "1300", "Not part of the provider network"
    )
    assert webhook["body"]["to"] == "447700900000"
    assert webhook["body"]["channel"] == "sms"


def test_retries_queue_no_webhook_until_the_final_outcome(aws, now) -> None:
    uuid = create("m-1")
    sender = make_sender(FakeAdapter(retry(1000)), max_attempts=2)

    run(sender, sqs_record(uuid, receive_count=1))
    assert queued_webhooks(aws) == []

    run(sender, sqs_record(uuid, receive_count=2))
    assert [w["body"]["status"] for w in queued_webhooks(aws)] == ["rejected"]


def test_an_abandoned_send_that_is_rejected_queues_its_webhook(aws, now) -> None:
    uuid = create("m-1")
    MessagesTable().claim(uuid, "dead-worker", int(T0) + 10)
    now[0] = T0 + 200

    assert run(make_sender(FakeAdapter()), sqs_record(uuid, receive_count=2)) == []

    (webhook,) = queued_webhooks(aws)
    assert webhook["body"]["status"] == "rejected"
    assert webhook["body"]["error"] == {"code": 1030, "reason": OUTCOME_UNKNOWN_REASON}


def test_a_messenger_send_records_its_conversation_and_the_time_before_the_call(aws, now) -> None:
    uuid = create("m-1")

    def provider_takes_a_while() -> None:
        now[0] += 2

    now[0] += 0.5
    assert run(make_sender(FakeAdapter(accepted("mid.1"), on_send=provider_takes_a_while)), sqs_record(uuid)) == []

    saved = record(uuid)
    assert saved["conversation"] == "messenger#page-1#psid-1"
    assert saved["sent_at_ms"] == 1_790_000_000_500
    assert saved["history"][-1]["timestamp"] == "2026-09-21T14:13:22.500Z"
    queued_webhooks(aws)


def test_other_channels_are_not_indexed_by_conversation(aws, now) -> None:
    uuid = create("s-1", sms_message())

    run(make_sender(FakeAdapter(accepted("0A1"))), sqs_record(uuid))

    saved = record(uuid)
    assert "conversation" not in saved and "sent_at_ms" not in saved
    assert saved["provider_ref"] == "sms#0A1"
    queued_webhooks(aws)


def test_a_failed_enqueue_redelivers_the_record_which_then_queues_the_webhook_once(aws, now) -> None:
    uuid = create("m-1")
    adapter = FakeAdapter(accepted("mid.1"))
    sender = make_sender(adapter, FlakyNotifications(failures=1))
    first = sqs_record(uuid, receive_count=1)

    assert run(sender, first) == [first["messageId"]]

    saved = record(uuid)
    assert saved["status"] == "submitted"
    assert saved["outbox_submitted"] == 0  # released, so the redelivery need not wait for it
    assert queued_webhooks(aws) == []

    now[0] += 180  # the queue's visibility timeout
    assert run(sender, sqs_record(uuid, receive_count=2)) == []

    (webhook,) = queued_webhooks(aws)
    assert webhook["body"]["status"] == "submitted"
    assert webhook["body"]["timestamp"] == "2026-09-21T14:13:20.000Z"  # the change's time, not the replay's
    assert record(uuid)["outbox_submitted"] == int(T0) + 180 + 60
    assert len(adapter.calls) == 1

    assert run(sender, sqs_record(uuid, receive_count=3)) == []  # its new lease is live
    assert queued_webhooks(aws) == []
    notifier_attempted(uuid, "status:submitted")
    now[0] += 180
    assert run(sender, sqs_record(uuid, receive_count=4)) == []  # attempted: it reached the notifier
    assert queued_webhooks(aws) == []


class CountingNotifications(Notifications):
    """The real publisher, counting how many webhooks each queuing call carried."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    def queue_all(self, notifications: Sequence[Notification]) -> set[int]:
        self.calls.append(len(notifications))
        return super().queue_all(notifications)


def test_a_batch_queues_its_webhooks_together_once_every_record_is_handled(aws, now) -> None:
    uuids = [create(f"m-{i}") for i in range(10)]
    outcomes = [accepted(f"mid.{i}") for i in range(8)] + [rejected(1000, "throttled"), rejected(1000, "throttled")]
    notifications = CountingNotifications()

    assert run(make_sender(FakeAdapter(*outcomes), notifications), *(sqs_record(u) for u in uuids)) == []

    assert notifications.calls == [10]  # one SendMessageBatch for the ten, not ten SendMessage calls
    queued = queued_webhooks(aws)
    assert sorted(w["message_uuid"] for w in queued) == sorted(uuids)
    assert sorted(w["body"]["status"] for w in queued) == ["rejected"] * 2 + ["submitted"] * 8


def test_only_the_record_whose_webhook_was_not_queued_comes_back(aws, now) -> None:
    uuids = [create(f"m-{i}") for i in range(3)]
    records = [sqs_record(u) for u in uuids]

    failed = run(make_sender(FakeAdapter(accepted("mid.1")), FlakyNotifications(failures=1)), *records)

    (failed_id,) = failed
    (unqueued,) = [u for u, r in zip(uuids, records) if r["messageId"] == failed_id]
    assert record(unqueued)["status"] == "submitted"
    assert record(unqueued)["outbox_submitted"] == 0  # released: its redelivery queues it at once
    queued = queued_webhooks(aws)
    assert sorted(w["message_uuid"] for w in queued) == sorted(set(uuids) - {unqueued})
    assert all(record(u)["outbox_submitted"] == int(T0) + 60 for u in set(uuids) - {unqueued})


def test_a_worker_that_died_between_the_final_write_and_the_queue_is_covered_by_the_redelivery(aws, now) -> None:
    uuid = create("m-1")
    store = MessagesTable()
    store.claim(uuid, "dead-worker", int(T0) + 60)
    store.mark_submitted(uuid, "dead-worker", "mid.1", "messenger#mid.1")  # then the worker died: nothing queued
    sender = make_sender(FakeAdapter())

    now[0] += 180  # the queue's visibility timeout: the lease has run out
    assert run(sender, sqs_record(uuid, receive_count=2)) == []

    (webhook,) = queued_webhooks(aws)
    assert (webhook["notification"], webhook["lease_until"]) == ("status:submitted", int(T0) + 180 + 60)
    notifier_attempted(uuid, "status:submitted")
    now[0] += 180
    assert run(sender, sqs_record(uuid, receive_count=3)) == []
    assert queued_webhooks(aws) == []


def test_a_duplicate_record_leaves_a_webhook_another_worker_is_queuing(aws, now) -> None:
    uuid = create("m-1")
    store = MessagesTable()
    store.claim(uuid, "other-worker", int(T0) + 60)
    store.mark_submitted(uuid, "other-worker", "mid.1", "messenger#mid.1")  # and is about to queue it
    before = record(uuid)

    assert run(make_sender(FakeAdapter()), sqs_record(uuid, receive_count=2)) == []

    assert record(uuid) == before
    assert queued_webhooks(aws) == []


def test_a_webhook_that_cannot_be_built_is_left_unqueued_with_its_lease_released() -> None:
    """A workflow step tells the engine while its webhook is built: if that fails, only its webhook is held back."""

    class Publisher:
        def __init__(self) -> None:
            self.queued: list[str] = []

        def status_change(self, record: dict, status: str, occurred_at_iso: str, error: dict | None = None) -> str:
            if record["message_uuid"] == "m-2":
                raise ConnectionError("WorkflowEventsQueue unreachable")
            return record["message_uuid"]

        def queue_all(self, notifications: Sequence[str]) -> set[int]:
            self.queued.extend(notifications)
            return set()

    class Records:
        def __init__(self) -> None:
            self.released: list[tuple[str, str, int]] = []

        def release_notify_lease(self, message_uuid: str, marker: str, lease_until: int) -> None:
            self.released.append((message_uuid, marker, lease_until))

    records, publisher = Records(), Publisher()
    decided = [
        ({"message_uuid": uuid, "outbox_submitted": 1_790_000_060, "history": []}, "status:submitted")
        for uuid in ("m-1", "m-2", "m-3")
    ]

    assert Outbox(records, publisher).publish_together(decided) == {1}  # type: ignore[arg-type]

    assert publisher.queued == ["m-1", "m-3"]
    assert records.released == [("m-2", "status:submitted", 1_790_000_060)]
