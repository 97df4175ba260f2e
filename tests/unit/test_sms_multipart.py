"""A long SMS split into parts: every part's provider id indexed, delivered only once every part is,
ended as soon as one part fails, and its status webhook reporting the part count.

Driven through the real ports: the sender (a fake SMS adapter answering with three parts) writes
the record and the part index items in moto; receipts go through ``StatusService.apply_receipt``
as the SMS webhook route hands them over; webhooks are read off the NotifyQueue.
"""
from __future__ import annotations

import itertools
import json
from typing import Any

import pytest

from switchboard import clock
from switchboard.domain.message import Channel
from switchboard.domain.provider_events import StatusReceipt
from switchboard.domain.sending import SendOutcome, SendResult
from switchboard.notifier.outbox import Outbox
from switchboard.receipts.status_machine import ReceiptEffect, StatusService
from switchboard.sender.outbound_sender import OutboundSender, SenderPolicy
from tests.support.builders import PRINCIPAL, sms_message, sqs_record
from tests.support.fakes.channel_adapter import FakeAdapter
from tests.support.fakes.sender_ports import RecordingTally, SpyQueue
from tests.support.stores import ContactStore, MessagesTable, Notifications
from tests.support.webhook_schemas import schema_errors
from tests.support.wiring import send_batch

T0 = 1_790_000_000.0
UUID = "aaaaaaaa-bbbb-4ccc-8ddd-00000000aa01"
PART_IDS = ("0A0000000000PART0", "0A0000000000PART1", "0A0000000000PART2")
UNDELIVERABLE = {"code": 1180, "reason": "Absent Subscriber Temporary"}


def three_parts() -> SendResult:
    return SendResult(
        SendOutcome.ACCEPTED, provider_message_id=PART_IDS[0], part_count=3, part_message_ids=PART_IDS[1:],
        network_code="23410",
    )


def submit(result: SendResult, uuid: str = UUID) -> dict[str, Any]:
    records = MessagesTable()
    records.create(uuid, sms_message(), PRINCIPAL)
    sender = OutboundSender(
        records=records,
        contacts=ContactStore(),
        queue=SpyQueue(),
        adapter_for=FakeAdapter(result, channel=Channel.SMS).for_channel,
        policy=SenderPolicy(max_attempts=3, retry_base_seconds=2, max_receive_count=8),
        outcomes=RecordingTally(),
        webhooks=Outbox(records, Notifications()),
    )
    response = send_batch({"Records": [sqs_record(uuid)]}, sender)
    assert response["batchItemFailures"] == []
    found = records.get(uuid)
    assert found is not None and found["status"] == "submitted"
    return found


def receipt(part: int, state: str = "delivered", client_ref: str | None = UUID) -> StatusReceipt:
    return StatusReceipt(
        channel=Channel.SMS, provider_message_id=PART_IDS[part], status=state, occurred_at=T0 + 30 + part,
        error=UNDELIVERABLE if state == "undeliverable" else None, client_ref=client_ref,
    )


def statuses() -> StatusService:
    return StatusService(MessagesTable(), Notifications())


def status_webhooks(aws) -> list[dict[str, Any]]:
    sqs, url = aws.client("sqs"), aws.env["NOTIFY_QUEUE_URL"]
    found: list[dict[str, Any]] = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        for message in batch:
            found.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [n["body"] for n in found if n["kind"] == "status"]


def test_every_part_is_indexed_and_the_record_keeps_the_part_count(aws, now) -> None:
    record = submit(three_parts())

    assert record["sms_part_count"] == 3 and record["network_code"] == "23410"
    assert record["provider_ref"] == f"sms#{PART_IDS[0]}"
    table = MessagesTable()
    for part, part_id in enumerate(PART_IDS):
        expected = UUID if part == 0 else f"sms-part#{UUID}#{part}"
        assert table.message_uuids_by_provider_ref(f"sms#{part_id}") == [expected]
    part_item = table.get(f"sms-part#{UUID}#2")
    assert part_item["part_of"] == UUID and part_item["expires_at"] == record["expires_at"]
    # The submitted webhook of a v1 message: the part count and network, valid v1.
    (submitted,) = status_webhooks(aws)
    assert submitted["sms"] == {"count_total": "3"} and submitted["destination"] == {"network_code": "23410"}
    assert schema_errors("v1", "status", "sms", submitted) == []


ORDERS = list(itertools.permutations(range(3)))


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(map(str, o)) for o in ORDERS])
def test_delivered_once_every_part_is_in_any_order(aws, now, order: tuple[int, ...]) -> None:
    submit(three_parts())
    status_webhooks(aws)
    service = statuses()

    effects = [service.apply_receipt(receipt(part)).effect for part in order]

    assert effects == [ReceiptEffect.PART_DELIVERED, ReceiptEffect.PART_DELIVERED, ReceiptEffect.APPLIED]
    record = MessagesTable().get(UUID)
    assert record["status"] == "delivered" and record["delivered_parts"] == {"0", "1", "2"}
    (delivered,) = status_webhooks(aws)
    assert delivered["status"] == "delivered" and delivered["sms"] == {"count_total": "3"}
    # The webhook's time is the receipt that completed the message.
    assert delivered["timestamp"] == clock.iso(receipt(order[-1]).occurred_at)
    assert schema_errors("v1", "status", "sms", delivered) == []


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(map(str, o)) for o in ORDERS])
def test_repeated_part_receipts_change_nothing_and_send_one_webhook(aws, now, order: tuple[int, ...]) -> None:
    submit(three_parts())
    status_webhooks(aws)
    service = statuses()

    first, second, last = order
    effects = [service.apply_receipt(receipt(part)).effect for part in (first, first, second, first, second)]
    assert set(effects) == {ReceiptEffect.PART_DELIVERED}
    assert MessagesTable().get(UUID)["status"] == "submitted"
    assert status_webhooks(aws) == []

    assert service.apply_receipt(receipt(last)).effect is ReceiptEffect.APPLIED
    assert [service.apply_receipt(receipt(part)).effect for part in order] == [ReceiptEffect.DUPLICATE] * 3
    assert [body["status"] for body in status_webhooks(aws)] == ["delivered"]


@pytest.mark.parametrize("failing", [0, 1, 2])
@pytest.mark.parametrize("delivered_before", [0, 1, 2])
def test_one_failing_part_ends_the_message_at_once(aws, now, failing: int, delivered_before: int) -> None:
    submit(three_parts())
    status_webhooks(aws)
    service = statuses()
    others = [part for part in range(3) if part != failing]

    for part in others[:delivered_before]:
        assert service.apply_receipt(receipt(part)).effect is ReceiptEffect.PART_DELIVERED
    assert service.apply_receipt(receipt(failing, "undeliverable")).effect is ReceiptEffect.APPLIED
    # Parts delivered after the failure change nothing.
    for part in others[delivered_before:]:
        assert service.apply_receipt(receipt(part)).effect in (ReceiptEffect.LATE, ReceiptEffect.PART_DELIVERED)

    record = MessagesTable().get(UUID)
    assert record["status"] == "undeliverable" and record["error"] == UNDELIVERABLE
    bodies = status_webhooks(aws)
    assert [body["status"] for body in bodies] == ["undeliverable"]
    assert bodies[0]["error"]["title"] == "1180" and bodies[0]["sms"] == {"count_total": "3"}
    assert schema_errors("v1", "status", "sms", bodies[0]) == []


def test_a_part_receipt_without_our_reference_is_found_through_its_index_item(aws, now) -> None:
    submit(three_parts())
    service = statuses()

    effects = [service.apply_receipt(receipt(part, client_ref=None)).effect for part in (2, 1, 0)]

    assert effects[-1] is ReceiptEffect.APPLIED
    assert MessagesTable().get(UUID)["status"] == "delivered"


class LaggingIndex(MessagesTable):
    """The ProviderRefIndex before it caught up with the send: it finds nothing yet."""

    def message_uuids_by_provider_ref(self, provider_ref: str) -> list[str]:
        return []


def test_part_receipts_that_outrun_the_index_are_found_through_our_reference(aws, now) -> None:
    submit(three_parts())
    lagging = StatusService(LaggingIndex(), Notifications())

    effects = [lagging.apply_receipt(receipt(part)).effect for part in (1, 2, 0)]

    assert effects == [ReceiptEffect.PART_DELIVERED, ReceiptEffect.PART_DELIVERED, ReceiptEffect.APPLIED]
    assert MessagesTable().get(UUID)["delivered_parts"] == {"0", "1", "2"}
    # Without our reference and without the index there is nothing to go by.
    assert lagging.apply_receipt(receipt(1, client_ref=None)).effect is ReceiptEffect.UNKNOWN_MESSAGE
    # A provider id that is not one of the message's parts is not taken for one.
    stranger = StatusReceipt(channel=Channel.SMS, provider_message_id="0A00000000STRANGE", status="delivered",
                             occurred_at=T0 + 40, client_ref=UUID)
    assert lagging.apply_receipt(stranger).effect is ReceiptEffect.UNKNOWN_MESSAGE


def test_a_single_sms_is_delivered_by_its_one_receipt_as_before(aws, now) -> None:
    record = submit(SendResult(SendOutcome.ACCEPTED, provider_message_id=PART_IDS[0]))
    assert "sms_part_count" not in record
    status_webhooks(aws)

    assert statuses().apply_receipt(receipt(0)).effect is ReceiptEffect.APPLIED

    record = MessagesTable().get(UUID)
    assert record["status"] == "delivered" and "delivered_parts" not in record
    (delivered,) = status_webhooks(aws)
    assert delivered["sms"] == {"count_total": "1"}
