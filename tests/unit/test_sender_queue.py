"""OutboundQueue: what the API enqueues and how the sender delays a redelivery."""
from __future__ import annotations

import json

import pytest

from tests.support.stores import OutboundQueue
from switchboard.adapters.sqs.outbound_queue import outbound_body, parse_outbound_body
from switchboard.sender.backoff import retry_delay_seconds


def _receive_all(sqs, url: str) -> list[dict]:
    return sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"], VisibilityTimeout=30
    ).get("Messages", [])


def test_enqueue_sends_the_uuid_only(aws) -> None:
    queue = OutboundQueue()
    sqs = aws.client("sqs")

    queue.enqueue("aaaaaaaa-bbbb-cccc-dddd-0123456789ab")

    messages = _receive_all(sqs, queue.queue_url)
    for m in messages:
        sqs.delete_message(QueueUrl=queue.queue_url, ReceiptHandle=m["ReceiptHandle"])
    assert [json.loads(m["Body"]) for m in messages] == [{"message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"}]
    assert queue.queue_url == aws.env["OUTBOUND_QUEUE_URL"]


def test_enqueue_with_a_delay_is_not_visible_yet(aws) -> None:
    queue = OutboundQueue()
    sqs = aws.client("sqs")

    queue.enqueue("aaaaaaaa-bbbb-cccc-dddd-0123456789ab", delay_seconds=900)

    assert _receive_all(sqs, queue.queue_url) == []
    sqs.purge_queue(QueueUrl=queue.queue_url)


def test_enqueue_refuses_a_delay_sqs_cannot_take(aws) -> None:
    with pytest.raises(ValueError):
        OutboundQueue().enqueue("x", delay_seconds=901)


def test_enqueue_lets_botocore_errors_propagate(aws) -> None:
    from botocore.exceptions import ClientError

    queue = OutboundQueue(queue_url=aws.env["OUTBOUND_QUEUE_URL"].rsplit("/", 1)[0] + "/NoSuchQueue")
    with pytest.raises(ClientError):
        queue.enqueue("x")


def test_delay_redelivery_hides_the_received_message(aws) -> None:
    queue = OutboundQueue()
    sqs = aws.client("sqs")
    queue.enqueue("aaaaaaaa-bbbb-cccc-dddd-0123456789ab")
    (received,) = _receive_all(sqs, queue.queue_url)
    sqs.change_message_visibility(
        QueueUrl=queue.queue_url, ReceiptHandle=received["ReceiptHandle"], VisibilityTimeout=0
    )
    (again,) = _receive_all(sqs, queue.queue_url)

    queue.delay_redelivery(again["ReceiptHandle"], 600)

    assert _receive_all(sqs, queue.queue_url) == []
    sqs.delete_message(QueueUrl=queue.queue_url, ReceiptHandle=again["ReceiptHandle"])


@pytest.mark.parametrize(
    "body, expected",
    [
        (outbound_body("u-1"), "u-1"),
        ('{"message_uuid": "u-2", "other": 1}', "u-2"),
        ("not json", None),
        ("[]", None),
        ('{"message_uuid": ""}', None),
        ('{"message_uuid": 5}', None),
        ("{}", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_outbound_body(body, expected) -> None:
    assert parse_outbound_body(body) == expected


@pytest.mark.parametrize(
    "attempt, base, expected",
    [(1, 2, 2), (2, 2, 4), (3, 2, 8), (4, 2, 16), (9, 2, 512), (10, 2, 900), (5, 60, 900), (1000, 2, 900)],
)
def test_retry_delay_doubles_up_to_900_seconds(attempt, base, expected) -> None:
    assert retry_delay_seconds(attempt, base) == expected
