"""The one SQS batch runner of the sender, notifier and workflow functions."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from switchboard.adapters.sqs.batch_runner import BatchRunner, Ordering
from switchboard.domain.queue_record import Disposition
from switchboard.observability import logger


def record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1790000000000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:SomeQueue",
        "awsRegion": "us-east-1",
    }


def decode(body: str | None) -> str | None:
    """Bodies ``ok:<name>`` are ours; anything else is not."""
    return body[3:] if body and body.startswith("ok:") else None


def failures(response: Any) -> list[str]:
    return sorted(item["itemIdentifier"] for item in response["batchItemFailures"])


@pytest.mark.parametrize("concurrency", [1, 4])
def test_raising_and_redelivering_records_are_batch_item_failures_and_foreign_bodies_are_acknowledged(
    concurrency: int,
) -> None:
    handled: list[str] = []
    lock = threading.Lock()

    def handle(item: str, sqs_record: Any) -> Disposition | None:
        with lock:
            handled.append(item)
        if item == "boom":
            raise RuntimeError("dynamodb down")
        return Disposition.REDELIVER if item == "later" else Disposition.ACK

    event = {"Records": [record("1", "ok:fine"), record("2", "ok:boom"), record("3", "ok:later"), record("4", "junk")]}
    runner = BatchRunner(f"test-{concurrency}", decode, str, concurrency)

    assert failures(runner.run(event, None, handle)) == ["2", "3"]
    assert sorted(handled) == ["boom", "fine", "later"]  # the foreign body never reached the handler


def test_a_batch_runs_concurrently_up_to_its_concurrency() -> None:
    barrier = threading.Barrier(4)
    threads: set[str] = set()

    def handle(item: str, sqs_record: Any) -> None:
        threads.add(threading.current_thread().name)
        barrier.wait(timeout=10)  # completes only if all four are in flight at once

    event = {"Records": [record(str(i), f"ok:{i}") for i in range(4)]}

    assert failures(BatchRunner("together", decode, str, 4).run(event, None, handle)) == []
    assert len(threads) == 4
    assert all(name.startswith("together") for name in threads)


def test_records_of_one_group_run_one_after_another_by_rank() -> None:
    order: list[str] = []
    lock = threading.Lock()

    def handle(item: str, sqs_record: Any) -> None:
        with lock:
            order.append(item)

    # item "<group>-<rank>"; records arrive out of rank order
    bodies = ["a-3", "b-2", "a-1", "b-1", "a-2"]
    event = {"Records": [record(f"m{i}", f"ok:{body}") for i, body in enumerate(bodies)]}
    ordering = Ordering(group=lambda item: item.split("-")[0], rank=lambda item: int(item.split("-")[1]))

    assert failures(BatchRunner("ordered", decode, str, 5, ordering).run(event, None, handle)) == []
    assert [item for item in order if item.startswith("a")] == ["a-1", "a-2", "a-3"]
    assert [item for item in order if item.startswith("b")] == ["b-1", "b-2"]


def test_each_record_is_handled_with_its_correlation_id_and_after_batch_runs_once() -> None:
    seen: dict[str, str | None] = {}
    after: list[int] = []

    def handle(item: str, sqs_record: Any) -> None:
        seen[item] = logger.thread_safe_get_current_keys().get("correlation_id")

    event = {"Records": [record("1", "ok:x"), record("2", "ok:y")]}
    runner = BatchRunner("keys", decode, lambda item: f"corr-{item}", 2)

    runner.run(event, None, handle, after_batch=lambda: after.append(1))

    assert seen == {"x": "corr-x", "y": "corr-y"}
    assert after == [1]
    assert "correlation_id" not in logger.thread_safe_get_current_keys()


def test_after_batch_runs_even_when_the_batch_fails() -> None:
    after: list[int] = []

    def handle(item: str, sqs_record: Any) -> None:
        raise RuntimeError("down")

    response = BatchRunner("fails", decode, str, 1).run(
        {"Records": [record("1", "ok:x")]}, None, handle, after_batch=lambda: after.append(1)
    )

    assert failures(response) == ["1"]
    assert after == [1]


@pytest.mark.parametrize("concurrency", [1, 4])
def test_items_after_batch_could_not_finish_become_failures_once_each(concurrency: int) -> None:
    def handle(item: str, sqs_record: Any) -> Disposition | None:
        if item == "y":
            raise RuntimeError("down")
        return None

    bodies = ["ok:x", "ok:y", "ok:z", "ok:x", "not ours"]
    event = {"Records": [record(str(number), body) for number, body in enumerate(bodies, start=1)]}

    response = BatchRunner("after", decode, str, concurrency).run(event, None, handle, after_batch=lambda: ["x", "y"])

    assert response["batchItemFailures"].count({"itemIdentifier": "2"}) == 1  # failed in the batch and after it
    assert failures(response) == ["1", "2", "4"]  # both records naming x; z and the foreign body acknowledged
