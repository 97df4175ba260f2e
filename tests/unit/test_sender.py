"""The queue-driven sender: claims, outcomes, retries, lease recovery, concurrency and the handler."""
from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from switchboard import clock
from switchboard.domain.message import Channel, OutboundMessage
from switchboard.adapters.providers.registry import adapter_for as real_adapter_for
from switchboard.domain.sending import AbandonedSend, SendOutcome, SendResult, TransactionContact
from tests.support.stores import Notifications
from switchboard.notifier.outbox import Outbox
from tests.support.stores import OutboundQueue
from switchboard.composition import sender_function
from switchboard.composition.sender_function import SenderServices, sender_runner
from switchboard.sender.send_handler import SendHandler, lease_expiry
from switchboard.sender.outcome_metrics import OutcomeTally
from switchboard.sender.outbound_sender import OUTCOME_UNKNOWN_REASON, OutboundSender, SenderPolicy
from tests.support.stores import ContactStore
from tests.support.stores import MessagesTable
from tests.support.builders import (
    CHANNELS_CONFIG,
    PRINCIPAL,
    messenger_message,
    sms_message,
    sqs_event,
    sqs_record,
    viber_message,
)
from tests.support.fakes.channel_adapter import ChannelView, FakeAdapter, accepted, rejected, retry
from tests.support.fakes.sender_ports import RecordingTally, SpyQueue
from tests.support.wiring import send_batch

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("atomic_dynamodb")  # batches run on several threads

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z


# ---------------------------------------------------------------------------- helpers


def create(uuid: str, message: OutboundMessage | None = None) -> str:
    MessagesTable().create(uuid, message or messenger_message(), PRINCIPAL)
    return uuid


def make_sender(
    adapter: FakeAdapter, queue: SpyQueue | None = None, max_attempts: int = 5, base: int = 2
) -> OutboundSender:
    records = MessagesTable()
    return OutboundSender(
        records=records,
        contacts=ContactStore(),
        queue=queue or SpyQueue(),
        adapter_for=adapter.for_channel,
        policy=SenderPolicy(max_attempts=max_attempts, retry_base_seconds=base, max_receive_count=8),
        outcomes=RecordingTally(),
        webhooks=Outbox(records, Notifications()),
    )


def run(sender: OutboundSender, *records: dict[str, Any]) -> list[str]:
    """Process one batch; the message ids reported as batch item failures."""
    response = send_batch(sqs_event(*records), sender)
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def record(uuid: str) -> dict[str, Any]:
    found = MessagesTable().get(uuid)
    assert found is not None
    return found


# ---------------------------------------------------------------------------- outcomes


def test_accepted_message_is_submitted_with_its_provider_ref(aws, now) -> None:
    uuid = create("m-1")
    adapter = FakeAdapter(accepted("mid.123"))

    assert run(make_sender(adapter), sqs_record(uuid)) == []

    saved = record(uuid)
    assert saved["status"] == "submitted"
    assert saved["provider_message_id"] == "mid.123"
    assert saved["provider_ref"] == "messenger#mid.123"
    assert saved["attempts"] == 1
    assert "claim_token" not in saved and "lease_expires_at" not in saved
    assert [h["status"] for h in saved["history"]] == ["accepted", "sending", "submitted"]
    assert [(c.message_uuid, c.config) for c in adapter.calls] == [(uuid, CHANNELS_CONFIG)]


def test_viber_transaction_message_records_the_contact(aws, now) -> None:
    uuid = create("v-1", viber_message("transaction"))

    assert run(make_sender(FakeAdapter(accepted("5012345678901234567"))), sqs_record(uuid)) == []

    assert record(uuid)["provider_ref"] == "viber_service_msg#5012345678901234567"
    assert ContactStore().has_transaction_contact("svc-1", "447700900000") is True


def test_viber_promotion_does_not_record_a_contact(aws, now) -> None:
    uuid = create("v-1", viber_message("promotion"))

    assert run(make_sender(FakeAdapter()), sqs_record(uuid)) == []

    assert record(uuid)["status"] == "submitted"
    assert ContactStore().has_transaction_contact("svc-1", "447700900000") is False


def test_rejected_outcome_records_the_error(aws, now) -> None:
    uuid = create("m-1")
    adapter = FakeAdapter(rejected(1300, "Not part of the provider network"))

    assert run(make_sender(adapter), sqs_record(uuid)) == []

    saved = record(uuid)
    assert saved["status"] == "rejected"
    assert saved["error"] == {"code": 1300, "reason": "Not part of the provider network"}
    assert saved["history"][-1]["error"] == saved["error"]
    assert "provider_ref" not in saved


@pytest.mark.parametrize("code, reason", [(1000, "Throttled"), (1100, "Communication Failed")])
def test_retry_backs_off_then_rejects_on_the_last_attempt(aws, now, code: int, reason: str) -> None:
    uuid = create("m-1")
    adapter = FakeAdapter(retry(code))
    queue = SpyQueue()
    sender = make_sender(adapter, queue, max_attempts=5, base=2)

    for receive_count in range(1, 5):
        rec = sqs_record(uuid, receive_count=receive_count)
        assert run(sender, rec) == [rec["messageId"]]
        saved = record(uuid)
        assert saved["status"] == "accepted"
        assert saved["attempts"] == receive_count
        assert saved["last_error"] == {"code": code, "reason": reason}
        assert "claim_token" not in saved

    assert [seconds for _, seconds in queue.delays] == [2, 4, 8, 16]
    assert queue.delays[0][0] == "receipt-sqs-m-1-1"

    assert run(sender, sqs_record(uuid, receive_count=5)) == []
    saved = record(uuid)
    assert saved["status"] == "rejected"
    assert saved["error"] == {"code": code, "reason": reason}
    assert saved["attempts"] == 5
    assert len(adapter.calls) == 5
    assert len(queue.delays) == 4
    retries = [h for h in saved["history"] if h.get("event") == "retry_scheduled"]
    assert [(h["attempt"], h["retry_in_seconds"], h["error"]["code"]) for h in retries] == [
        (1, 2, code), (2, 4, code), (3, 8, code), (4, 16, code)
    ]


def test_retry_without_a_code_counts_as_communication_failed(aws, now) -> None:
    uuid = create("m-1")
    adapter = FakeAdapter(SendResult(SendOutcome.RETRY))

    assert run(make_sender(adapter, max_attempts=1), sqs_record(uuid)) == []

    assert record(uuid)["error"] == {"code": 1100, "reason": "Communication Failed"}


def test_a_record_about_to_reach_the_dead_letter_queue_is_finalised(aws, now) -> None:
    uuid = create("m-1")
    queue = SpyQueue()

    # maxReceiveCount is 8: on the 7th delivery a transient failure ends the message.
    assert run(make_sender(FakeAdapter(retry(1000)), queue), sqs_record(uuid, receive_count=7)) == []

    saved = record(uuid)
    assert saved["status"] == "rejected"
    assert saved["error"]["code"] == 1000
    assert saved["attempts"] == 1
    assert queue.delays == []


def test_retry_changes_the_visibility_of_the_received_sqs_message(aws, now) -> None:
    uuid = create("m-1")
    real = OutboundQueue()
    sqs = aws.client("sqs")
    real.enqueue(uuid)
    (received,) = sqs.receive_message(QueueUrl=real.queue_url, AttributeNames=["All"])["Messages"]
    spy = SpyQueue(real)
    rec = sqs_record(
        uuid,
        message_id=received["MessageId"],
        receipt_handle=received["ReceiptHandle"],
        body=received["Body"],
        receive_count=int(received["Attributes"]["ApproximateReceiveCount"]),
    )

    failures = run(make_sender(FakeAdapter(retry(1000)), spy, base=60), rec)

    assert failures == [received["MessageId"]]
    assert spy.delays == [(received["ReceiptHandle"], 60)]
    sqs.change_message_visibility(QueueUrl=real.queue_url, ReceiptHandle=received["ReceiptHandle"], VisibilityTimeout=0)
    assert sqs.receive_message(QueueUrl=real.queue_url, WaitTimeSeconds=0).get("Messages")
    sqs.purge_queue(QueueUrl=real.queue_url)


def test_a_failed_visibility_change_still_reports_the_record_for_redelivery(aws, now) -> None:
    uuid = create("m-1")
    rec = sqs_record(uuid, receipt_handle="not-a-real-receipt-handle")

    assert run(make_sender(FakeAdapter(retry(1000)), SpyQueue(OutboundQueue())), rec) == [rec["messageId"]]

    assert record(uuid)["status"] == "accepted"


# ---------------------------------------------------------------------------- at most one send


def test_the_same_message_twice_in_one_batch_is_sent_once(aws, now) -> None:
    uuid = create("m-1")
    adapter = FakeAdapter()
    first, duplicate = sqs_record(uuid, message_id="sqs-a"), sqs_record(uuid, message_id="sqs-b")

    failures = run(make_sender(adapter), first, duplicate)

    assert [c.message_uuid for c in adapter.calls] == [uuid]
    assert record(uuid)["status"] == "submitted"
    assert record(uuid)["attempts"] == 1
    # Whichever lost the race was either seen in flight (reported) or seen final (acknowledged).
    assert len(failures) <= 1 and set(failures) <= {"sqs-a", "sqs-b"}


def test_a_redelivered_record_in_a_later_batch_is_acknowledged_without_sending(aws, now) -> None:
    uuid = create("m-1")
    adapter = FakeAdapter()
    sender = make_sender(adapter)

    assert run(sender, sqs_record(uuid, receive_count=1)) == []
    assert run(sender, sqs_record(uuid, receive_count=2)) == []

    assert len(adapter.calls) == 1
    assert [h["status"] for h in record(uuid)["history"]] == ["accepted", "sending", "submitted"]


@pytest.mark.parametrize("final_status", ["submitted", "rejected"])
def test_an_already_final_message_is_acknowledged_with_no_effect(aws, now, final_status: str) -> None:
    uuid = create("m-1")
    store = MessagesTable()
    if final_status == "rejected":
        store.mark_enqueue_failed(uuid, "could not be queued")
    else:
        store.claim(uuid, "t1", int(T0) + 60)
        store.mark_submitted(uuid, "t1", "mid.1", "messenger#mid.1")
    before = record(uuid)
    adapter = FakeAdapter()

    assert run(make_sender(adapter), sqs_record(uuid)) == []

    assert adapter.calls == []
    assert record(uuid) == before


def test_a_message_in_flight_under_a_live_lease_is_reported_for_later(aws, now) -> None:
    uuid = create("m-1")
    MessagesTable().claim(uuid, "other-worker", int(T0) + 60)
    before = record(uuid)
    adapter = FakeAdapter()
    rec = sqs_record(uuid)
    queue = SpyQueue()

    assert run(make_sender(adapter, queue), rec) == [rec["messageId"]]

    assert adapter.calls == []
    assert queue.delays == []
    assert record(uuid) == before


def test_expired_lease_on_messenger_rejects_without_resending(aws, now) -> None:
    uuid = create("m-1", messenger_message())
    MessagesTable().claim(uuid, "dead-worker", int(T0) + 10)
    now[0] = T0 + 200
    adapter = FakeAdapter()

    assert run(make_sender(adapter), sqs_record(uuid, receive_count=2)) == []

    assert adapter.calls == []
    saved = record(uuid)
    assert saved["status"] == "rejected"
    assert saved["error"] == {"code": 1030, "reason": OUTCOME_UNKNOWN_REASON}
    assert "unknown" in saved["error"]["reason"]
    assert saved["history"][-1]["event"] == "lease_expired"
    assert "claim_token" not in saved


def test_expired_lease_on_viber_resends(aws, now) -> None:
    uuid = create("v-1", viber_message())
    MessagesTable().claim(uuid, "dead-worker", int(T0) + 10)
    now[0] = T0 + 200
    adapter = FakeAdapter(accepted("5012345678901234567"))

    assert run(make_sender(adapter), sqs_record(uuid, receive_count=2)) == []

    assert [c.message_uuid for c in adapter.calls] == [uuid]
    saved = record(uuid)
    assert saved["status"] == "submitted"
    assert saved["attempts"] == 2
    assert [(h["status"], h.get("event")) for h in saved["history"]] == [
        ("accepted", None), ("sending", None), ("sending", "lease_expired_resend"), ("submitted", None)
    ]
    assert ContactStore().has_transaction_contact("svc-1", "447700900000") is True


class ResendingSms(ChannelView):
    """An SMS adapter that declares its provider de-duplicates repeats, and keeps a contact."""

    def __init__(self, fake: FakeAdapter) -> None:
        super().__init__(fake, real_adapter_for(Channel.SMS))
        self.abandoned_send = AbandonedSend.RESEND
        self.contact_after_submit = lambda message: TransactionContact("sms-service", message.recipient.number)


def test_recovery_and_contacts_follow_the_adapters_capabilities_not_the_channel(aws, now) -> None:
    uuid = create("s-1", sms_message())
    MessagesTable().claim(uuid, "dead-worker", int(T0) + 10)
    now[0] = T0 + 200
    fake = FakeAdapter(accepted("sms-1"))
    sender = make_sender(fake)
    sender.adapter_for = lambda channel: ResendingSms(fake)

    assert run(sender, sqs_record(uuid, receive_count=2)) == []

    assert [c.message_uuid for c in fake.calls] == [uuid]
    assert record(uuid)["status"] == "submitted"
    assert ContactStore().has_transaction_contact("sms-service", "447700900000") is True


def test_provider_adapters_declare_their_capabilities() -> None:
    assert real_adapter_for(Channel.VIBER).abandoned_send is AbandonedSend.RESEND
    assert real_adapter_for(Channel.MESSENGER).abandoned_send is AbandonedSend.REJECT_UNKNOWN
    assert real_adapter_for(Channel.SMS).abandoned_send is AbandonedSend.AWAIT_EVIDENCE
    viber = real_adapter_for(Channel.VIBER)
    assert viber.contact_after_submit(viber_message("transaction")) == TransactionContact("svc-1", "447700900000")
    assert viber.contact_after_submit(viber_message("promotion")) is None
    assert real_adapter_for(Channel.MESSENGER).contact_after_submit(messenger_message()) is None
    assert real_adapter_for(Channel.SMS).contact_after_submit(sms_message()) is None


def test_viber_resend_answered_already_sent_means_the_first_send_went_through(aws, now) -> None:
    uuid = create("v-1", viber_message())
    MessagesTable().claim(uuid, "dead-worker", int(T0) + 10)
    now[0] = T0 + 200

    assert run(make_sender(FakeAdapter(rejected(1320, "Message already sent"))), sqs_record(uuid)) == []

    saved = record(uuid)
    assert saved["status"] == "submitted"
    assert "error" not in saved


def test_viber_already_sent_on_a_first_send_is_a_rejection(aws, now) -> None:
    uuid = create("v-1", viber_message())

    assert run(make_sender(FakeAdapter(rejected(1320, "Message already sent"))), sqs_record(uuid)) == []

    assert record(uuid)["error"]["code"] == 1320


# ---------------------------------------------------------------------------- failures and odd records


def test_an_unexpected_exception_is_a_batch_item_failure_without_visibility_change(aws, now) -> None:
    uuid = create("m-1")
    ok_uuid = create("m-2")
    queue = SpyQueue()
    crashing = FakeAdapter(raises=RuntimeError("boom"))
    sender = make_sender(crashing, queue)
    crash_rec = sqs_record(uuid)

    failures = run(sender, crash_rec)

    assert failures == [crash_rec["messageId"]]
    assert queue.delays == []
    # The provider may or may not have been called: the claim stays until its lease expires.
    assert record(uuid)["status"] == "sending"
    assert run(make_sender(FakeAdapter(), queue), sqs_record(ok_uuid)) == []


def test_malformed_bodies_and_unknown_messages_are_acknowledged(aws, now) -> None:
    adapter = FakeAdapter()
    records = [
        sqs_record(body="not json", message_id="bad-1"),
        sqs_record(body='{"other": 1}', message_id="bad-2"),
        sqs_record("no-such-message", message_id="unknown-1"),
    ]

    assert run(make_sender(adapter), *records) == []

    assert adapter.calls == []


def test_only_the_failing_records_of_a_batch_are_reported(aws, now) -> None:
    good, in_flight = create("m-1"), create("m-2")
    MessagesTable().claim(in_flight, "other-worker", int(T0) + 60)

    failures = run(make_sender(FakeAdapter()), sqs_record(good, message_id="a"), sqs_record(in_flight, message_id="b"))

    assert failures == ["b"]


def test_the_channel_config_is_loaded_once_per_batch(aws, now) -> None:
    uuids = [create(f"m-{i}") for i in range(3)]
    loads: list[int] = []

    def load() -> dict:
        loads.append(1)
        return {"loaded": len(loads)}

    adapter = FakeAdapter()
    response = send_batch(sqs_event(*(sqs_record(u) for u in uuids)), make_sender(adapter), load)

    assert response == {"batchItemFailures": []}
    assert len(loads) == 1
    assert [c.config for c in adapter.calls] == [{"loaded": 1}] * 3


# ---------------------------------------------------------------------------- concurrency, logging, metrics


def test_a_batch_of_ten_is_sent_concurrently(aws, now) -> None:
    uuids = [create(f"m-{i}") for i in range(10)]
    # Every send waits until all ten are in flight at once: this only completes if they run concurrently.
    adapter = FakeAdapter(barrier=threading.Barrier(10))

    failures = run(make_sender(adapter), *(sqs_record(u) for u in uuids))

    assert failures == []
    assert sorted(c.message_uuid for c in adapter.calls) == sorted(uuids)
    assert all(record(u)["status"] == "submitted" for u in uuids)
    # Each worker thread logs with its own record's message uuid as correlation id.
    assert all(c.correlation_id == c.message_uuid for c in adapter.calls)


def test_outcomes_are_counted_per_channel_and_emitted_after_the_batch(aws, now, capsys) -> None:
    a, b, c = create("m-1"), create("s-1", sms_message()), create("v-1", viber_message())
    results = {"m-1": accepted("mid.1"), "s-1": rejected(1300), "v-1": retry(1000)}

    class PerMessage(FakeAdapter):
        def send(self, message, message_uuid, config):
            super().send(message, message_uuid, config)
            return results[message_uuid]

    sender = make_sender(PerMessage())
    run(sender, sqs_record(a), sqs_record(b), sqs_record(c))

    assert sender.outcomes.flushed == [
        {("messenger", "submitted"): 1, ("sms", "rejected"): 1, ("viber_service_msg", "retried"): 1}
    ]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    by_channel = {doc["channel"]: doc for doc in emitted if "error_code" not in doc}
    assert set(by_channel) == {"messenger", "sms", "viber_service_msg"}
    assert by_channel["messenger"]["submitted"] == [1.0]
    assert by_channel["sms"]["rejected"] == [1.0]
    assert by_channel["viber_service_msg"]["retried"] == [1.0]
    # One provider call per message, its latency under the message's channel.
    assert all(len(doc["provider_latency"]) == 1 and doc["provider_latency"][0] >= 0 for doc in by_channel.values())
    [by_code] = [doc for doc in emitted if "error_code" in doc]
    assert (by_code["channel"], by_code["error_code"], by_code["rejected_by_code"]) == ("sms", "1300", [1.0])
    for doc in emitted:
        (emf,) = doc["_aws"]["CloudWatchMetrics"]
        assert emf["Namespace"] == "Switchboard"
        assert "channel" in emf["Dimensions"][0]
    units = {m["Name"]: m["Unit"] for doc in emitted for m in doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units["provider_latency"] == "Milliseconds"


def test_history_records_each_step_with_the_injected_time(aws, now) -> None:
    uuid = create("m-1")

    def provider_takes_a_while() -> None:
        now[0] += 1.25

    now[0] += 1
    assert run(make_sender(FakeAdapter(accepted("mid.1"), on_send=provider_takes_a_while)), sqs_record(uuid)) == []

    saved = record(uuid)
    assert [(h["status"], h["timestamp"]) for h in saved["history"]] == [
        ("accepted", "2026-09-21T14:13:20.000Z"),
        ("sending", "2026-09-21T14:13:21.000Z"),
        ("submitted", "2026-09-21T14:13:22.250Z"),
    ]
    assert saved["updated_at"] == "2026-09-21T14:13:22.250Z"


def test_lease_outlives_the_invocation() -> None:
    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 29_500

    clock.set_clock(lambda: T0)
    try:
        assert lease_expiry(Context()) == int(T0) + 35
        assert lease_expiry(None) == int(T0) + 65
    finally:
        clock.set_clock(None)


# ---------------------------------------------------------------------------- the Lambda handler


def test_handler_end_to_end_with_the_sample_event(aws, now, monkeypatch) -> None:
    from tests.support.lambdas import FakeLambdaContext, load_handler_module

    event = json.loads((ROOT / "events" / "sender_outbound_batch.json").read_text())
    first, second = (json.loads(r["body"])["message_uuid"] for r in event["Records"])
    create(first)
    create(second, sms_message())
    MessagesTable().claim(second, "other-worker", int(T0) + 60)  # in flight elsewhere
    adapter = FakeAdapter(accepted("mid.1"))
    services = SenderServices(SendHandler(make_sender(adapter), lambda: CHANNELS_CONFIG), sender_runner(10))
    monkeypatch.setattr(sender_function, "services", lambda: services)
    app = load_handler_module("sender")

    response = app.handler(event, FakeLambdaContext(function_name="SenderFunction"))

    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][1]["messageId"]}]}
    assert json.loads(json.dumps(response)) == response
    assert record(first)["status"] == "submitted"
    assert record(first)["provider_ref"] == "messenger#mid.1"
    assert record(second)["status"] == "sending"
    assert [c.message_uuid for c in adapter.calls] == [first]


def test_a_throttled_send_retries_no_sooner_than_the_providers_retry_after(aws, now) -> None:
    uuid = create("m-1")
    queue = SpyQueue()
    throttled = dataclasses.replace(retry(1000), retry_after_seconds=37.2)
    rec = sqs_record(uuid)
    assert run(make_sender(FakeAdapter(throttled), queue, base=2), rec) == [rec["messageId"]]
    assert [seconds for _, seconds in queue.delays] == [38]  # not the 2 s back-off: no retry storm
    retries = [h for h in record(uuid)["history"] if h.get("event") == "retry_scheduled"]
    assert [h["retry_in_seconds"] for h in retries] == [38]
