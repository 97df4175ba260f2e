"""Faults inside our own path, through the sender's and the receipts' ports, on moto's DynamoDB.

A send whose answer is lost (``SendOutcome.UNKNOWN``) is never repeated on a provider that cannot
recognise the repeat: SMS waits for a delivery receipt carrying its uuid, Messenger is rejected at
once, Viber is resent with its ``seq``. The same holds when our own write fails after the provider
accepted (the lease runs out) and when one SQS record is delivered twice at once. Every test counts
the provider calls, the message's final status and the status webhooks.
"""
from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError

from switchboard.adapters.providers.registry import adapter_for as real_adapter_for
from switchboard.adapters.sqs.batch_runner import BatchRunner
from switchboard.adapters.sqs.outbound_queue import parse_outbound_body
from switchboard.domain.errors import ServiceUnavailable
from switchboard.domain.message import Channel, OutboundMessage
from switchboard.domain.provider_events import StatusReceipt
from switchboard.domain.sending import OUTCOME_UNKNOWN_PREFIX, SendOutcome, SendResult
from switchboard.notifier.outbox import Outbox
from switchboard.receipts.status_machine import StatusService
from switchboard.sender.outbound_sender import OutboundSender, SenderPolicy
from switchboard.sender.outcome_metrics import OutcomeTally
from switchboard.sender.send_handler import SendHandler
from tests.support.builders import (
    CHANNELS_CONFIG,
    PRINCIPAL,
    messenger_message,
    sms_message,
    sqs_event,
    sqs_record,
    viber_message,
)
from tests.support.clock import T0
from tests.support.fakes.channel_adapter import FakeAdapter, accepted, rejected
from tests.support.stores import MessagesTable, notifier_attempted

pytestmark = pytest.mark.usefixtures("atomic_dynamodb")  # batches run on several threads

WINDOW = 600
LEASE_SECONDS = 60  # no Lambda context: the handler's default lease


def unknown(detail: str = "sms did not answer in time") -> SendResult:
    return SendResult(SendOutcome.UNKNOWN, error_code=1100, error_reason=f"Communication Failed: {detail}")


class FailingWrites(MessagesTable):
    """DynamoDB failing the sender's outcome write (after the provider's answer) ``failures`` times."""

    def __init__(self, failures: int) -> None:
        super().__init__()
        self.failures = failures

    def _fail(self) -> None:
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "injected"}}, "UpdateItem")

    def mark_submitted(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        self._fail()
        return super().mark_submitted(*args, **kwargs)

    def hold_unknown(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if not kwargs.get("abandoned"):
            self._fail()
        return super().hold_unknown(*args, **kwargs)


class Webhooks:
    """Stands in for the notify publisher: every status webhook queued, in order, each attempted by a
    notifier that keeps up (its first attempt recorded at once)."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict | None]] = []
        self._lock = threading.Lock()

    def status_changed(self, record: dict, status: str, occurred_at_iso: str, error: dict | None = None) -> None:
        self.queue_all([self.status_change(record, status, occurred_at_iso, error)])

    def status_change(self, record: dict, status: str, occurred_at_iso: str, error: dict | None = None) -> tuple:
        return record["message_uuid"], status, error

    def queue_all(self, notifications: list[tuple]) -> set[int]:
        for message_uuid, status, error in notifications:
            with self._lock:
                self.sent.append((message_uuid, status, error))
            notifier_attempted(message_uuid, f"status:{status}")
        return set()

    def inbound_received(self, inbound_record: dict, target: dict | None = None) -> None:
        raise AssertionError("no inbound webhooks here")

    def statuses(self, message_uuid: str) -> list[str]:
        return [status for uuid, status, _ in self.sent if uuid == message_uuid]


class SpyQueue:
    def __init__(self) -> None:
        self.delays: list[int] = []

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        self.delays.append(seconds)


class World:
    """One sender and one receipts service over the same table, with a fake provider per channel."""

    def __init__(self, adapter: FakeAdapter, records: MessagesTable | None = None) -> None:
        self.records = records or MessagesTable()
        self.webhooks = Webhooks()
        self.queue = SpyQueue()
        self.adapter = adapter
        self.sender = OutboundSender(
            records=self.records,
            contacts=_NoContacts(),
            queue=self.queue,
            adapter_for=lambda channel: self.adapter,
            policy=SenderPolicy(
                max_attempts=5, retry_base_seconds=2, max_receive_count=8, unknown_outcome_window_seconds=WINDOW
            ),
            outcomes=OutcomeTally(),
            webhooks=Outbox(self.records, self.webhooks),
        )
        self.statuses = StatusService(self.records, self.webhooks)  # type: ignore[arg-type]

    def create(self, uuid: str, message: OutboundMessage) -> str:
        self.records.create(uuid, message, PRINCIPAL)
        return uuid

    def deliver(self, *records: dict[str, Any]) -> list[str]:
        """One SQS batch; the ids reported as batch item failures."""
        runner = BatchRunner("sender", parse_outbound_body, str, 10)
        response = SendHandler(self.sender, lambda: CHANNELS_CONFIG).run(runner, sqs_event(*records), None)
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    def record(self, uuid: str) -> dict[str, Any]:
        found = self.records.get(uuid)
        assert found is not None
        return found


class _NoContacts:
    def record_transaction_contact(self, service_id: str, number: str) -> None:
        pass


def adapter(channel: Channel, *results: SendResult, **kwargs: Any) -> FakeAdapter:
    """A fake provider with the capabilities of the channel's real adapter."""
    return FakeAdapter(*results, channel=channel, abandoned_send=real_adapter_for(channel).abandoned_send, **kwargs)


def dlr(uuid: str, status: str = "delivered", provider_id: str = "SMS-1", **kwargs: Any) -> StatusReceipt:
    return StatusReceipt(Channel.SMS, provider_id, status, T0 + 1, client_ref=uuid, **kwargs)


def assert_unknown_rejection(record: dict[str, Any]) -> None:
    assert record["status"] == "rejected"
    assert record["error"]["code"] == 1030
    assert record["error"]["reason"].startswith(OUTCOME_UNKNOWN_PREFIX)


# -- SMS: held, settled by a receipt carrying our uuid, or rejected when the window ends ----------


def test_an_sms_whose_answer_was_lost_is_held_not_resent_and_sends_no_webhook(aws, now) -> None:
    world = World(adapter(Channel.SMS, unknown()))
    uuid = world.create("s-1", sms_message())

    assert world.deliver(sqs_record(uuid)) == [f"sqs-{uuid}-1"]  # back when the window ends

    saved = world.record(uuid)
    assert saved["status"] == "outcome_unknown"
    assert saved["unknown_until"] == int(T0) + WINDOW
    assert "claim_token" not in saved
    assert world.queue.delays == [WINDOW]
    assert world.webhooks.sent == []
    assert len(world.adapter.calls) == 1


def test_a_redelivery_before_the_window_ends_sends_nothing_and_waits_for_the_rest(aws, now) -> None:
    world = World(adapter(Channel.SMS, unknown()))
    uuid = world.create("s-1", sms_message())
    world.deliver(sqs_record(uuid))
    now[0] = T0 + 100

    assert world.deliver(sqs_record(uuid, receive_count=2)) == [f"sqs-{uuid}-2"]

    assert len(world.adapter.calls) == 1
    assert world.queue.delays == [WINDOW, WINDOW - 100]
    assert world.record(uuid)["status"] == "outcome_unknown"


def test_no_receipt_within_the_window_rejects_it_with_the_outcome_unknown_code(aws, now) -> None:
    world = World(adapter(Channel.SMS, unknown()))
    uuid = world.create("s-1", sms_message())
    world.deliver(sqs_record(uuid))
    now[0] = T0 + WINDOW

    assert world.deliver(sqs_record(uuid, receive_count=2)) == []

    saved = world.record(uuid)
    assert_unknown_rejection(saved)
    assert f"within {WINDOW} s" in saved["error"]["reason"]
    assert saved["history"][-1]["event"] == "outcome_unknown_expired"
    assert world.webhooks.statuses(uuid) == ["rejected"]
    assert len(world.adapter.calls) == 1


def test_a_receipt_carrying_the_uuid_settles_it_submitted_then_delivered_and_indexes_the_provider_id(aws, now) -> None:
    world = World(adapter(Channel.SMS, unknown()))
    uuid = world.create("s-1", sms_message())
    world.deliver(sqs_record(uuid))

    result = world.statuses.apply_receipt(dlr(uuid, provider_id="0A00000012345678"))

    assert (result.effect.value, result.message_uuid) == ("applied", uuid)
    saved = world.record(uuid)
    assert saved["status"] == "delivered"
    assert saved["provider_message_id"] == "0A00000012345678"
    assert world.records.message_uuids_by_provider_ref("sms#0A00000012345678") == [uuid]
    assert [h.get("event") for h in saved["history"] if h["status"] == "submitted"] == ["outcome_reconciled"]
    assert world.webhooks.statuses(uuid) == ["submitted", "delivered"]
    # The record's return when the window ends changes nothing and sends nothing.
    now[0] = T0 + WINDOW
    assert world.deliver(sqs_record(uuid, receive_count=2)) == []
    assert world.record(uuid)["status"] == "delivered"
    assert world.webhooks.statuses(uuid) == ["submitted", "delivered"]
    assert len(world.adapter.calls) == 1


def test_a_failure_receipt_settles_it_undeliverable(aws, now) -> None:
    world = World(adapter(Channel.SMS, unknown()))
    uuid = world.create("s-1", sms_message())
    world.deliver(sqs_record(uuid))

    world.statuses.apply_receipt(dlr(uuid, "undeliverable", error={"code": 1180, "reason": "Absent subscriber"}))

    assert world.record(uuid)["status"] == "undeliverable"
    assert world.webhooks.statuses(uuid) == ["submitted", "undeliverable"]


def test_a_receipt_that_outruns_the_senders_write_asks_the_provider_to_resend_it(aws, now) -> None:
    world = World(adapter(Channel.SMS))
    uuid = world.create("s-1", sms_message())
    world.records.claim(uuid, "live-worker", int(T0) + LEASE_SECONDS)  # the send is under way

    with pytest.raises(ServiceUnavailable):
        world.statuses.apply_receipt(dlr(uuid))

    assert world.record(uuid)["status"] == "sending"
    assert world.webhooks.sent == []


def test_a_receipt_after_the_window_is_history_only(aws, now) -> None:
    world = World(adapter(Channel.SMS, unknown()))
    uuid = world.create("s-1", sms_message())
    world.deliver(sqs_record(uuid))
    now[0] = T0 + WINDOW
    world.deliver(sqs_record(uuid, receive_count=2))

    result = world.statuses.apply_receipt(dlr(uuid))

    assert result.effect.value == "unknown_message"
    assert_unknown_rejection(world.record(uuid))
    assert world.webhooks.statuses(uuid) == ["rejected"]


def test_a_receipt_for_another_channels_message_is_not_evidence(aws, now) -> None:
    world = World(adapter(Channel.MESSENGER, unknown()))
    uuid = world.create("m-1", messenger_message())
    world.records.claim(uuid, "live-worker", int(T0) + LEASE_SECONDS)

    assert world.statuses.apply_receipt(dlr(uuid)).effect.value == "unknown_message"
    assert world.record(uuid)["status"] == "sending"


# -- Messenger: no evidence exists, rejected at once ---------------------------------------------


def test_a_messenger_send_whose_answer_was_lost_is_rejected_at_once_and_not_resent(aws, now) -> None:
    world = World(adapter(Channel.MESSENGER, unknown("messenger did not answer in time")))
    uuid = world.create("m-1", messenger_message())

    assert world.deliver(sqs_record(uuid)) == []

    saved = world.record(uuid)
    assert_unknown_rejection(saved)
    assert "messenger did not answer in time" in saved["error"]["reason"]
    assert world.webhooks.statuses(uuid) == ["rejected"]
    assert len(world.adapter.calls) == 1
    assert world.deliver(sqs_record(uuid, receive_count=2)) == []  # a duplicate record: nothing more
    assert len(world.adapter.calls) == 1


# -- Viber: resent with the same seq; "already sent" then means it went through -------------------


def test_viber_resends_after_a_lost_answer_and_already_sent_means_submitted(aws, now) -> None:
    world = World(adapter(Channel.VIBER, unknown(), rejected(1320, "Message already sent")))
    uuid = world.create("v-1", viber_message())

    assert world.deliver(sqs_record(uuid)) == [f"sqs-{uuid}-1"]
    assert world.record(uuid)["status"] == "accepted"
    assert world.deliver(sqs_record(uuid, receive_count=2)) == []

    saved = world.record(uuid)
    assert saved["status"] == "submitted"
    assert world.webhooks.statuses(uuid) == ["submitted"]
    assert len(world.adapter.calls) == 2


def test_viber_out_of_attempts_after_a_lost_answer_says_the_outcome_is_unknown(aws, now) -> None:
    world = World(adapter(Channel.VIBER, unknown(), SendResult(SendOutcome.RETRY, error_code=1100, error_reason="x")))
    uuid = world.create("v-1", viber_message())

    for attempt in range(1, 6):
        world.deliver(sqs_record(uuid, receive_count=attempt))

    assert_unknown_rejection(world.record(uuid))
    assert len(world.adapter.calls) == 5


# -- our own faults: DynamoDB failing after the provider accepted, the same record twice at once --


@pytest.mark.parametrize("channel", [Channel.SMS, Channel.MESSENGER])
def test_dynamodb_failing_after_the_provider_accepted_never_sends_twice(aws, now, channel: Channel) -> None:
    message = sms_message() if channel is Channel.SMS else messenger_message()
    world = World(adapter(channel, accepted("PID-1")), records=FailingWrites(failures=1))
    uuid = world.create("x-1", message)

    assert world.deliver(sqs_record(uuid)) == [f"sqs-{uuid}-1"]  # the outcome write failed: raised
    assert world.record(uuid)["status"] == "sending"
    # Redelivered under the live lease: left alone.
    assert world.deliver(sqs_record(uuid, receive_count=2)) == [f"sqs-{uuid}-2"]
    # Once the lease has run out the worker is known gone: the outcome is unknown, never resent.
    now[0] = T0 + LEASE_SECONDS + 10
    world.deliver(sqs_record(uuid, receive_count=3))

    assert len(world.adapter.calls) == 1
    saved = world.record(uuid)
    if channel is Channel.SMS:
        assert saved["status"] == "outcome_unknown"
        world.statuses.apply_receipt(dlr(uuid, provider_id="PID-1"))
        assert world.record(uuid)["status"] == "delivered"
        assert world.webhooks.statuses(uuid) == ["submitted", "delivered"]
    else:
        assert_unknown_rejection(saved)
        assert world.webhooks.statuses(uuid) == ["rejected"]
    assert len(world.adapter.calls) == 1


def test_dynamodb_failing_when_holding_an_unknown_outcome_keeps_it_unsent(aws, now) -> None:
    world = World(adapter(Channel.SMS, unknown()), records=FailingWrites(failures=1))
    uuid = world.create("s-1", sms_message())

    assert world.deliver(sqs_record(uuid)) == [f"sqs-{uuid}-1"]
    now[0] = T0 + LEASE_SECONDS + 10
    world.deliver(sqs_record(uuid, receive_count=2))

    assert world.record(uuid)["status"] == "outcome_unknown"
    assert len(world.adapter.calls) == 1


def test_viber_after_dynamodb_failed_is_resent_and_already_sent_means_submitted(aws, now) -> None:
    world = World(
        adapter(Channel.VIBER, accepted("501"), rejected(1320, "Message already sent")), records=FailingWrites(1)
    )
    uuid = world.create("v-1", viber_message())

    world.deliver(sqs_record(uuid))
    now[0] = T0 + LEASE_SECONDS + 10
    world.deliver(sqs_record(uuid, receive_count=2))

    assert world.record(uuid)["status"] == "submitted"
    assert len(world.adapter.calls) == 2


@pytest.mark.parametrize("message", [sms_message(), messenger_message()], ids=["sms", "messenger"])
def test_the_same_sqs_record_delivered_twice_at_once_is_sent_once(aws, now, message: OutboundMessage) -> None:
    started = threading.Event()
    release = threading.Event()

    def hold_the_first_send() -> None:
        started.set()
        release.wait(timeout=10)

    world = World(adapter(message.channel, on_send=hold_the_first_send))
    uuid = world.create("d-1", message)
    outcomes: list[list[str]] = []
    first = threading.Thread(target=lambda: outcomes.append(world.deliver(sqs_record(uuid, message_id="a"))))
    first.start()
    assert started.wait(timeout=10)

    second = world.deliver(sqs_record(uuid, message_id="b"))  # the same record, while the first is mid-send
    release.set()
    first.join(timeout=10)

    assert second == ["b"]  # in flight elsewhere: comes back later, nothing sent
    assert outcomes == [[]]
    assert len(world.adapter.calls) == 1
    assert world.record(uuid)["status"] == "submitted"
    assert world.deliver(sqs_record(uuid, message_id="b", receive_count=2)) == []
    assert len(world.adapter.calls) == 1
    assert world.webhooks.statuses(uuid) == ["submitted"]
