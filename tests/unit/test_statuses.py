"""The status state machine: transitions, late and duplicate receipts, watermarks, races and the outbox."""
from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from switchboard import clock
from switchboard.receipts import status_machine
from switchboard.domain.message import (
    ApiVersion,
    Channel,
    Content,
    Endpoint,
    OutboundMessage,
    Principal,
)
from switchboard.domain.provider_events import StatusReceipt, WatermarkReceipt
from tests.support.stores import Notifications
from switchboard.receipts.status_machine import NotificationInProgress, ReceiptEffect, StatusService
from tests.support.stores import MessagesTable, notifier_attempted
from switchboard.domain.message_record import StatusWriteOutcome
from switchboard.domain.outbox_markers import notify_lease_attribute

pytestmark = pytest.mark.usefixtures("atomic_dynamodb")  # batches run on several threads

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z
PAGE, PSID = "page-1", "psid-1"
PRINCIPAL = Principal(api_key="abcd1234")


# ---------------------------------------------------------------------------- fixtures and helpers


class RecordingNotifications:
    """Stands in for ``Notifications``: records each webhook queued; the first ``failures`` calls raise.

    With ``notifier_keeps_up`` each queued webhook's first attempt is recorded at once, as a notifier
    that is not behind does within a second; without it the notifier has not reached them yet.
    """

    def __init__(self, failures: int = 0, notifier_keeps_up: bool = True) -> None:
        self.failures = failures
        self.notifier_keeps_up = notifier_keeps_up
        self.status: list[tuple[str, str, str, dict | None]] = []
        self._lock = threading.Lock()

    def status_changed(self, record: dict, status: str, occurred_at_iso: str, error: dict | None = None) -> None:
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("NotifyQueue unreachable")
            self.status.append((record["message_uuid"], status, occurred_at_iso, error))
        if self.notifier_keeps_up:
            notifier_attempted(record["message_uuid"], f"status:{status}")

    def inbound_received(self, inbound_record: dict, target: dict | None = None) -> None:
        raise AssertionError("no inbound webhooks here")

    def statuses_of(self, message_uuid: str) -> list[str]:
        return [s for uuid, s, _, _ in self.status if uuid == message_uuid]


def outbound(channel: Channel = Channel.MESSENGER, psid: str = PSID, page: str = PAGE, **extra: Any) -> OutboundMessage:
    if channel is Channel.MESSENGER:
        sender, recipient = Endpoint(type="messenger", id=page), Endpoint(type="messenger", id=psid)
    else:
        sender, recipient = Endpoint(type="sms", number="447700900001"), Endpoint(type="sms", number="447700900000")
    return OutboundMessage(
        channel=channel, sender=sender, recipient=recipient, content=Content(type="text", text="hello"),
        api_version=ApiVersion.V0_1, **extra,
    )


def submitted(
    message_uuid: str,
    provider_id: str,
    sent_at_ms: int | None = None,
    channel: Channel = Channel.MESSENGER,
    psid: str = PSID,
    page: str = PAGE,
    principal: Principal = PRINCIPAL,
    **extra: Any,
) -> str:
    """A record as the sender leaves it after a send, its submitted webhook already attempted."""
    from switchboard.domain.provider_events import conversation_key

    store = MessagesTable()
    store.create(message_uuid, outbound(channel, psid, page, **extra), principal)
    store.claim(message_uuid, "token", int(clock.now()) + 60)
    messenger = channel is Channel.MESSENGER
    store.mark_submitted(
        message_uuid,
        "token",
        provider_id,
        f"{channel.value}#{provider_id}",
        conversation=conversation_key(page, psid) if messenger else None,
        sent_at_ms=(sent_at_ms if sent_at_ms is not None else int(clock.now() * 1000)) if messenger else None,
    )
    notifier_attempted(message_uuid, "status:submitted")
    return message_uuid


def receipt(status: str, provider_id: str = "mid.1", at: float = T0 + 5.25, **kw: Any) -> StatusReceipt:
    return StatusReceipt(
        channel=kw.pop("channel", Channel.MESSENGER), provider_message_id=provider_id, status=status,
        occurred_at=at, **kw,
    )


def watermark(status: str, watermark_ms: int, psid: str = PSID, page: str = PAGE) -> WatermarkReceipt:
    return WatermarkReceipt(page_id=page, psid=psid, status=status, watermark_ms=watermark_ms, occurred_at=T0 + 100)


def record(message_uuid: str) -> dict[str, Any]:
    found = MessagesTable().get(message_uuid)
    assert found is not None
    return found


def service(notifications: Any = None) -> StatusService:
    return StatusService(MessagesTable(), notifications if notifications is not None else RecordingNotifications())


# ---------------------------------------------------------------------------- transitions


def test_delivered_then_read_each_apply_once_with_one_webhook(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications()
    svc = service(webhooks)

    delivered = svc.apply_receipt(receipt("delivered", at=T0 + 5.25))
    now[0] += 10
    read = svc.apply_receipt(receipt("read", at=T0 + 9.5))

    assert (delivered.effect, delivered.message_uuid, delivered.status) == (ReceiptEffect.APPLIED, uuid, "delivered")
    assert read.effect == "applied"
    saved = record(uuid)
    assert saved["status"] == "read"
    assert saved["seen_statuses"] == {"submitted", "delivered", "read"}
    assert saved[notify_lease_attribute("status:delivered")] == int(T0) + 60
    assert saved[notify_lease_attribute("status:read")] == int(T0) + 10 + 60
    assert [h["status"] for h in saved["history"]] == ["accepted", "sending", "submitted", "delivered", "read"]
    assert saved["history"][3] == {
        "status": "delivered", "timestamp": "2026-09-21T14:13:20.000Z", "occurred_at": "2026-09-21T14:13:25.250Z"
    }
    assert webhooks.status == [
        (uuid, "delivered", "2026-09-21T14:13:25.250Z", None),
        (uuid, "read", "2026-09-21T14:13:29.500Z", None),
    ]


def test_read_applies_straight_from_submitted(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications()

    assert service(webhooks).apply_receipt(receipt("read")).effect is ReceiptEffect.APPLIED

    assert record(uuid)["status"] == "read"
    assert webhooks.statuses_of(uuid) == ["read"]


def test_a_late_delivered_after_read_is_history_only(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications()
    svc = service(webhooks)
    svc.apply_receipt(receipt("read"))

    late = svc.apply_receipt(receipt("delivered", at=T0 + 4))

    assert late.effect is ReceiptEffect.LATE
    saved = record(uuid)
    assert saved["status"] == "read"
    assert saved["history"][-1] == {
        "status": "delivered",
        "timestamp": "2026-09-21T14:13:20.000Z",
        "occurred_at": "2026-09-21T14:13:24.000Z",
        "late": True,
    }
    assert "delivered" in saved["seen_statuses"]
    assert webhooks.statuses_of(uuid) == ["read"]


@pytest.mark.parametrize("status", ["delivered", "read", "undeliverable"])
def test_the_same_receipt_twice_has_one_effect(aws, now, status: str) -> None:
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications()
    svc = service(webhooks)
    assert svc.apply_receipt(receipt(status)).effect is ReceiptEffect.APPLIED
    before = record(uuid)
    now[0] += 30

    again = svc.apply_receipt(receipt(status))

    assert again.effect is ReceiptEffect.DUPLICATE
    assert record(uuid) == before
    assert webhooks.statuses_of(uuid) == [status]


def test_a_repeated_late_receipt_adds_nothing(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    svc = service()
    svc.apply_receipt(receipt("read"))
    assert svc.apply_receipt(receipt("delivered")).effect is ReceiptEffect.LATE
    before = record(uuid)

    assert svc.apply_receipt(receipt("delivered")).effect is ReceiptEffect.DUPLICATE

    assert record(uuid) == before


@pytest.mark.parametrize("terminal", ["undeliverable", "rejected"])
def test_failure_receipts_apply_from_submitted_with_their_error_and_end_the_message(aws, now, terminal: str) -> None:
    uuid = submitted("s-1", "0A0000001", channel=Channel.SMS)
    webhooks = RecordingNotifications()
    svc = service(webhooks)
    err = {"code": 1190, "reason": "Absent Subscriber Permanent"}

    result = svc.apply_receipt(receipt(terminal, "0A0000001", channel=Channel.SMS, error=err))

    assert result.effect is ReceiptEffect.APPLIED
    saved = record(uuid)
    assert saved["status"] == terminal
    assert saved["error"] == err
    assert saved["history"][-1]["error"] == err
    assert webhooks.status == [(uuid, terminal, "2026-09-21T14:13:25.250Z", err)]
    for later in ("delivered", "read"):
        assert svc.apply_receipt(receipt(later, "0A0000001", channel=Channel.SMS)).effect is ReceiptEffect.LATE
    assert record(uuid)["status"] == terminal
    assert webhooks.statuses_of(uuid) == [terminal]


def test_a_failure_receipt_applies_after_delivered_but_not_after_read(aws, now) -> None:
    first, second = submitted("m-1", "mid.1"), submitted("m-2", "mid.2")
    svc = service()
    svc.apply_receipt(receipt("delivered", "mid.1"))
    svc.apply_receipt(receipt("read", "mid.2"))
    err = {"code": 1330, "reason": "Unknown"}

    assert svc.apply_receipt(receipt("undeliverable", "mid.1", error=err)).effect is ReceiptEffect.APPLIED
    assert svc.apply_receipt(receipt("undeliverable", "mid.2", error=err)).effect is ReceiptEffect.LATE

    assert record(first)["status"] == "undeliverable"
    assert record(second)["status"] == "read"
    assert "error" not in record(second)


def test_one_terminal_status_does_not_replace_another(aws, now) -> None:
    uuid = submitted("s-1", "0A1", channel=Channel.SMS)
    svc = service()
    svc.apply_receipt(receipt("rejected", "0A1", channel=Channel.SMS, error={"code": 1210, "reason": "Anti-Spam Rejection"}))

    late = svc.apply_receipt(receipt("undeliverable", "0A1", channel=Channel.SMS, error={"code": 1330, "reason": "Unknown"}))

    assert late.effect is ReceiptEffect.LATE
    assert record(uuid)["status"] == "rejected"
    assert record(uuid)["error"]["code"] == 1210


def test_an_unknown_provider_id_has_no_effect(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    before = record(uuid)
    webhooks = RecordingNotifications()

    result = service(webhooks).apply_receipt(receipt("delivered", "mid.unknown"))

    assert (result.effect, result.message_uuid) == (ReceiptEffect.UNKNOWN_MESSAGE, None)
    assert record(uuid) == before
    assert webhooks.status == []


def test_the_provider_ref_includes_the_channel(aws, now) -> None:
    submitted("s-1", "shared-id", channel=Channel.SMS)

    assert service().apply_receipt(receipt("delivered", "shared-id")).effect is ReceiptEffect.UNKNOWN_MESSAGE
    assert service().apply_receipt(receipt("delivered", "shared-id", channel=Channel.SMS)).effect is ReceiptEffect.APPLIED


def test_a_message_not_yet_submitted_cannot_take_a_receipt(aws, now) -> None:
    store = MessagesTable()
    store.create("m-1", outbound(), PRINCIPAL)
    store.claim("m-1", "token", int(T0) + 60)
    before = record("m-1")

    write = store.apply_status("m-1", "delivered", status_machine.ALLOWED_FROM["delivered"], T0)

    assert write.outcome is StatusWriteOutcome.NOT_READY
    assert record("m-1") == before
    assert store.apply_status("nope", "delivered", {"submitted"}, T0).outcome is StatusWriteOutcome.MISSING


@pytest.mark.parametrize("bad", ["accepted", "seen", ""])
def test_only_receipt_statuses_are_accepted(aws, now, bad: str) -> None:
    with pytest.raises(ValueError):
        service().apply_receipt(receipt(bad))


def test_watermarks_take_only_delivered_and_read(aws, now) -> None:
    with pytest.raises(ValueError):
        service().apply_watermark(watermark("undeliverable", int(T0 * 1000)))


# ---------------------------------------------------------------------------- status webhook body


def test_the_queued_status_webhook_has_the_2018_shape(aws, now) -> None:
    uuid = submitted("m-1", "mid.1", client_ref="my-ref")
    svc = StatusService(MessagesTable(), Notifications())
    err = {"code": 1370, "reason": "Expired access Token"}

    svc.apply_receipt(receipt("undeliverable", at=T0 + 7.007, error=err))

    sqs = aws.client("sqs")
    url = aws.env["NOTIFY_QUEUE_URL"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert json.loads(message["Body"]) == {
        "kind": "status",
        "message_uuid": uuid,
        "notification": "status:undeliverable",
        "body": {
            "message_uuid": uuid,
            "to": {"type": "messenger", "id": PSID},
            "from": {"type": "messenger", "id": PAGE},
            "timestamp": "2026-09-21T14:13:27.007Z",
            "status": "undeliverable",
            "error": {"code": 1370, "reason": "Expired access Token"},
            "client_ref": "my-ref",
        },
        "target": {"api_key": "abcd1234", "url_kind": "status"},
        "attempt": 1,
        "first_attempt_at": T0,
        "lease_until": int(T0) + 60,  # the outbox lease it was queued under
    }


def test_the_status_target_carries_the_v1_webhook_url_and_the_application(aws, now) -> None:
    principal = Principal(api_key="abcd1234", application_id="app-1", auth_method="jwt")
    uuid = submitted("m-1", "mid.1", principal=principal, webhook_url="https://hooks.example.com/s")
    svc = StatusService(MessagesTable(), Notifications())

    svc.apply_receipt(receipt("delivered"))

    sqs = aws.client("sqs")
    url = aws.env["NOTIFY_QUEUE_URL"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    queued = json.loads(message["Body"])
    assert queued["target"] == {
        "api_key": "abcd1234", "application_id": "app-1", "url_kind": "status",
        "webhook_url": "https://hooks.example.com/s",
    }
    assert "client_ref" not in queued["body"]
    assert "error" not in queued["body"]
    assert "channel" not in queued["body"]
    assert queued["message_uuid"] == uuid


# ---------------------------------------------------------------------------- watermarks


def test_a_watermark_covers_every_message_sent_up_to_it_in_that_conversation(aws, now) -> None:
    base = int(T0 * 1000)
    covered = [submitted(f"m-{i}", f"mid.{i}", sent_at_ms=base + i * 1000) for i in range(3)]
    at_the_watermark = submitted("m-3", "mid.3", sent_at_ms=base + 3000)
    after = submitted("m-4", "mid.4", sent_at_ms=base + 3001)
    other_user = submitted("o-1", "mid.o1", sent_at_ms=base, psid="psid-2")
    other_page = submitted("o-2", "mid.o2", sent_at_ms=base, page="page-2")
    webhooks = RecordingNotifications()

    results = service(webhooks).apply_watermark(watermark("delivered", base + 3000))

    expected = [at_the_watermark, *reversed(covered)]
    assert [(r.message_uuid, r.effect) for r in results] == [(u, ReceiptEffect.APPLIED) for u in expected]
    assert all(record(u)["status"] == "delivered" for u in expected)
    assert all(record(u)["history"][-1]["event"] == "watermark" for u in expected)
    assert all(record(u)["status"] == "submitted" for u in (after, other_user, other_page))
    assert sorted(uuid for uuid, *_ in webhooks.status) == sorted(expected)


def test_a_read_watermark_takes_submitted_and_delivered_messages(aws, now) -> None:
    base = int(T0 * 1000)
    first, second, third = (submitted(f"m-{i}", f"mid.{i}", sent_at_ms=base + i) for i in range(3))
    webhooks = RecordingNotifications()
    svc = service(webhooks)
    svc.apply_receipt(receipt("delivered", "mid.0"))
    svc.apply_receipt(receipt("read", "mid.2"))

    results = svc.apply_watermark(watermark("read", base + 10))

    assert {r.message_uuid: r.effect for r in results} == {
        third: ReceiptEffect.DUPLICATE, second: ReceiptEffect.APPLIED, first: ReceiptEffect.APPLIED
    }
    assert [record(u)["status"] for u in (first, second, third)] == ["read", "read", "read"]
    assert webhooks.statuses_of(first) == ["delivered", "read"]
    assert webhooks.statuses_of(second) == ["read"]
    assert webhooks.statuses_of(third) == ["read"]


def test_a_delivered_watermark_after_read_is_late_and_sends_nothing(aws, now) -> None:
    base = int(T0 * 1000)
    uuids = [submitted(f"m-{i}", f"mid.{i}", sent_at_ms=base + i) for i in range(2)]
    webhooks = RecordingNotifications()
    svc = service(webhooks)
    svc.apply_watermark(watermark("read", base + 10))

    results = svc.apply_watermark(watermark("delivered", base + 10))

    assert {r.effect for r in results} == {ReceiptEffect.LATE}
    assert [record(u)["status"] for u in uuids] == ["read", "read"]
    assert sorted(s for _, s, _, _ in webhooks.status) == ["read", "read"]
    assert svc.apply_watermark(watermark("delivered", base + 10))[0].effect is ReceiptEffect.DUPLICATE


def test_a_watermark_stops_at_a_page_where_nothing_changed(aws, now, monkeypatch) -> None:
    monkeypatch.setattr(status_machine, "WATERMARK_PAGE_SIZE", 2)
    base = int(T0 * 1000)
    for i in range(5):
        submitted(f"m-{i}", f"mid.{i}", sent_at_ms=base + i)
    svc = service()
    assert len(svc.apply_watermark(watermark("delivered", base + 10))) == 5
    newest = submitted("m-5", "mid.5", sent_at_ms=base + 5)

    results = svc.apply_watermark(watermark("delivered", base + 10))

    # Page 1 (m-5, m-4) changed m-5; page 2 (m-3, m-2) changed nothing; m-1 and m-0 were not visited.
    assert [(r.message_uuid, r.effect.value) for r in results] == [
        (newest, "applied"), ("m-4", "duplicate"), ("m-3", "duplicate"), ("m-2", "duplicate")
    ]


def test_a_watermark_with_no_messages_is_empty(aws, now) -> None:
    assert service().apply_watermark(watermark("read", int(T0 * 1000))) == []


# ---------------------------------------------------------------------------- concurrency


def run_concurrently(*calls: Any) -> list[Any]:
    """Start every call at once on its own thread; each result, or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = calls[i]()
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            results[i] = exc

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def test_the_same_receipt_racing_itself_applies_once(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications()
    svc = service(webhooks)

    results = run_concurrently(*[lambda: svc.apply_receipt(receipt("delivered"))] * 8)

    effects = [r.effect if not isinstance(r, Exception) else type(r) for r in results]
    assert effects.count(ReceiptEffect.APPLIED) == 1
    # The others found it applied: done, or (its webhook still being queued) told to come back later.
    assert set(effects) <= {ReceiptEffect.APPLIED, ReceiptEffect.DUPLICATE, NotificationInProgress}
    assert webhooks.statuses_of(uuid) == ["delivered"]
    saved = record(uuid)
    assert [h["status"] for h in saved["history"]].count("delivered") == 1


def test_delivered_and_read_racing_end_read_with_no_status_twice(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications()
    svc = service(webhooks)

    results = run_concurrently(
        *[lambda: svc.apply_receipt(receipt("delivered"))] * 4, *[lambda: svc.apply_receipt(receipt("read"))] * 4
    )

    delivered, read = results[:4], results[4:]
    saved = record(uuid)
    assert saved["status"] == "read"
    assert saved["seen_statuses"] == {"submitted", "delivered", "read"}
    assert [r.effect for r in read if not isinstance(r, Exception)].count(ReceiptEffect.APPLIED) == 1
    delivered_effects = {r.effect for r in delivered if not isinstance(r, Exception)}
    entries = [(h["status"], bool(h.get("late"))) for h in saved["history"][3:]]
    if ReceiptEffect.APPLIED in delivered_effects:  # delivered won the race
        assert entries == [("delivered", False), ("read", False)]
        # Each is queued by the thread that applied it, so they may be queued in either order.
        assert sorted(webhooks.statuses_of(uuid)) == ["delivered", "read"]
    else:  # read came first: delivered is late, and sends nothing
        assert ReceiptEffect.LATE in delivered_effects
        assert entries == [("read", False), ("delivered", True)]
        assert webhooks.statuses_of(uuid) == ["read"]


# ---------------------------------------------------------------------------- outbox


def test_a_failed_enqueue_leaves_the_webhook_pending_and_a_replay_queues_it_once(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications(failures=1, notifier_keeps_up=False)
    svc = service(webhooks)

    with pytest.raises(ConnectionError):
        svc.apply_receipt(receipt("delivered"))

    saved = record(uuid)
    assert saved["status"] == "delivered"
    assert saved[notify_lease_attribute("status:delivered")] == 0  # released: the retry need not wait
    assert webhooks.status == []

    replay = svc.apply_receipt(receipt("delivered"))

    assert replay.effect is ReceiptEffect.DUPLICATE
    assert webhooks.status == [(uuid, "delivered", "2026-09-21T14:13:25.250Z", None)]
    # Queued again under a new lease; until the notifier has attempted it, a replay reaching another
    # instance comes back later (the instance that queued it knows it is queued).
    assert record(uuid)[notify_lease_attribute("status:delivered")] == int(T0) + 60
    assert svc.apply_receipt(receipt("delivered")).effect is ReceiptEffect.DUPLICATE
    elsewhere = service(webhooks)
    with pytest.raises(NotificationInProgress):
        elsewhere.apply_receipt(receipt("delivered"))
    notifier_attempted(uuid, "status:delivered")
    assert elsewhere.apply_receipt(receipt("delivered")).effect is ReceiptEffect.DUPLICATE
    now[0] += 3600
    assert service(webhooks).apply_receipt(receipt("delivered")).effect is ReceiptEffect.DUPLICATE
    assert len(webhooks.status) == 1


def test_a_messenger_delivery_naming_its_mid_and_its_watermark_is_applied_once_and_answered_at_once(
    aws, now
) -> None:
    """The instance that queued the webhook knows it is queued: the watermark's duplicate needs no 503."""
    uuid = submitted("m-1", "mid.1", sent_at_ms=int(T0 * 1000))
    webhooks = RecordingNotifications(notifier_keeps_up=False)
    svc = service(webhooks)

    by_mid = svc.apply_receipt(receipt("delivered"))
    by_watermark = svc.apply_watermark(watermark("delivered", int(T0 * 1000) + 10))

    assert by_mid.effect is ReceiptEffect.APPLIED
    assert [r.effect for r in by_watermark] == [ReceiptEffect.DUPLICATE]
    assert webhooks.statuses_of(uuid) == ["delivered"]


def test_a_replay_after_the_notifier_attempted_the_webhook_queues_nothing_even_once_the_lease_ran_out(
    aws, now
) -> None:
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications(notifier_keeps_up=False)
    svc = service(webhooks)
    svc.apply_receipt(receipt("delivered"))
    notifier_attempted(uuid, "status:delivered")

    now[0] += 61
    replay = svc.apply_receipt(receipt("delivered"))

    assert replay.effect is ReceiptEffect.DUPLICATE
    assert webhooks.statuses_of(uuid) == ["delivered"]


def test_a_replay_of_a_queued_webhook_the_notifier_has_not_reached_waits_for_its_lease(aws, now) -> None:
    """The write that applied it queued it (no write afterwards); the notifier is behind."""
    uuid = submitted("m-1", "mid.1")
    webhooks = RecordingNotifications(notifier_keeps_up=False)
    service(webhooks).apply_receipt(receipt("delivered"))
    svc = service(webhooks)  # the replay reaches another instance

    with pytest.raises(NotificationInProgress):
        svc.apply_receipt(receipt("delivered"))
    assert webhooks.statuses_of(uuid) == ["delivered"]

    now[0] += 61  # no attempt recorded once the lease ran out: queued again, under a new lease
    assert svc.apply_receipt(receipt("delivered")).effect is ReceiptEffect.DUPLICATE
    assert webhooks.statuses_of(uuid) == ["delivered", "delivered"]
    assert record(uuid)[notify_lease_attribute("status:delivered")] == int(T0) + 61 + 60


def test_a_replay_while_the_first_writer_holds_the_lease_is_told_to_retry(aws, now) -> None:
    uuid = submitted("m-1", "mid.1")
    store = MessagesTable()
    # The first writer applied the status and then vanished before queuing (no release).
    store.apply_status(uuid, "read", status_machine.ALLOWED_FROM["read"], T0 + 3)
    webhooks = RecordingNotifications()
    svc = service(webhooks)

    with pytest.raises(NotificationInProgress):
        svc.apply_receipt(receipt("read"))
    assert webhooks.status == []

    now[0] += 61  # the lease outlives any function: its holder is gone
    assert svc.apply_receipt(receipt("read")).effect is ReceiptEffect.DUPLICATE
    assert webhooks.status == [(uuid, "read", "2026-09-21T14:13:23.000Z", None)]
    assert svc.apply_receipt(receipt("read")).effect is ReceiptEffect.DUPLICATE
    assert len(webhooks.status) == 1


def test_a_watermark_applies_every_message_before_raising_an_enqueue_failure(aws, now) -> None:
    base = int(T0 * 1000)
    uuids = [submitted(f"m-{i}", f"mid.{i}", sent_at_ms=base + i) for i in range(3)]
    webhooks = RecordingNotifications(failures=1)
    svc = service(webhooks)

    with pytest.raises(ConnectionError):
        svc.apply_watermark(watermark("delivered", base + 10))

    assert all(record(u)["status"] == "delivered" for u in uuids)
    assert len(webhooks.status) == 2
    results = svc.apply_watermark(watermark("delivered", base + 10))
    assert {r.effect for r in results} == {ReceiptEffect.DUPLICATE}
    assert sorted(u for u, *_ in webhooks.status) == sorted(uuids)
