"""SQS event source mappings: batches as Lambda builds them, deletes as Lambda does, redrive by the queue."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_stack.event_sources import (
    SqsEventSource,
    SqsPoller,
    UnreadableResponse,
    reported_failures,
    sqs_event_sources,
)
from local_stack.functions import LocalFunction
from local_stack.template import LOCAL_ACCOUNT, LOCAL_REGION

QUEUE = "Work"
QUEUE_ARN = f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{QUEUE}"


@pytest.fixture
def sqs() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("sqs", region_name=LOCAL_REGION)


def _queue(sqs: Any, name: str = QUEUE, **attributes: str) -> str:
    return sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]


def _send(sqs: Any, url: str, *bodies: str) -> list[str]:
    return [sqs.send_message(QueueUrl=url, MessageBody=body)["MessageId"] for body in bodies]


def _counts(sqs: Any, url: str) -> tuple[int, int]:
    """(visible, in flight)"""
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])


class Handler:
    """Records every event; answers with ``respond(event)``."""

    def __init__(self, respond: Callable[[dict[str, Any]], Any] = lambda event: None) -> None:
        self.respond = respond
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        return self.respond(event)

    @property
    def bodies(self) -> list[list[str]]:
        return [[r["body"] for r in e["Records"]] for e in self.events]


def _poller(
    sqs: Any, handler: Handler, report: bool = True, batch_size: int = 10, window: float = 0, **kwargs: Any
) -> SqsPoller:
    source = SqsEventSource(
        "Fn", QUEUE_ARN, batch_size=batch_size, batching_window_seconds=window, report_batch_item_failures=report
    )
    return SqsPoller(source, LocalFunction("Fn", handler, timeout_seconds=5), sqs, wait_seconds=0, **kwargs)


def test_event_sources_come_from_the_templates_sqs_events(aws: Any) -> None:
    sources = {s.function: s for s in sqs_event_sources(aws.template, aws.local)}
    consumers = [
        name
        for name, res in aws.template["Resources"].items()
        if res["Type"] == "AWS::Serverless::Function"
        and any(e["Type"] == "SQS" for e in res["Properties"].get("Events", {}).values())
    ]
    assert sorted(sources) == sorted(consumers)
    declared = aws.template["Resources"]["SenderFunction"]["Properties"]["Events"]["Outbound"]["Properties"]
    assert sources["SenderFunction"] == SqsEventSource(
        function="SenderFunction",
        queue_arn=aws.local.attrs[("OutboundQueue", "Arn")],
        batch_size=declared["BatchSize"],
        batching_window_seconds=declared["MaximumBatchingWindowInSeconds"],
        report_batch_item_failures=True,
        maximum_concurrency=int(aws.local.parameters[declared["ScalingConfig"]["MaximumConcurrency"]["Ref"]]),
    )


def test_records_have_the_shape_of_lambdas_sqs_event(sqs: Any) -> None:
    url = _queue(sqs)
    sqs.send_message(
        QueueUrl=url,
        MessageBody='{"message_uuid": "m-1"}',
        MessageAttributes={
            "kind": {"DataType": "String", "StringValue": "sms"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01"},
        },
    )
    handler = Handler()
    assert _poller(sqs, handler).poll_once() == 1

    (record,) = handler.events[0]["Records"]
    assert set(record) == {
        "messageId",
        "receiptHandle",
        "body",
        "attributes",
        "messageAttributes",
        "md5OfBody",
        "eventSource",
        "eventSourceARN",
        "awsRegion",
    }
    assert record["body"] == '{"message_uuid": "m-1"}'
    assert record["md5OfBody"] == hashlib.md5(record["body"].encode()).hexdigest()  # noqa: S324 - SQS's checksum
    assert (record["eventSource"], record["eventSourceARN"], record["awsRegion"]) == (
        "aws:sqs",
        QUEUE_ARN,
        LOCAL_REGION,
    )
    attributes = record["attributes"]
    assert {"ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"} <= set(
        attributes
    )
    assert attributes["ApproximateReceiveCount"] == "1"
    assert all(isinstance(v, str) for v in attributes.values())
    assert record["messageAttributes"] == {
        "kind": {"stringValue": "sms", "stringListValues": [], "binaryListValues": [], "dataType": "String"},
        "blob": {"binaryValue": "AAE=", "stringListValues": [], "binaryListValues": [], "dataType": "Binary"},
    }
    json.dumps(handler.events[0])  # the event is plain JSON, as Lambda delivers it


def test_a_batch_holds_at_most_batch_size_records_across_several_receives(sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="120")
    _send(sqs, url, *(f"m{i}" for i in range(15)))
    handler = Handler()

    # A full batch goes at once: the 60 s window is not waited for.
    assert _poller(sqs, handler, batch_size=12, window=60).poll_once() == 12
    assert _poller(sqs, handler, batch_size=12, window=0).poll_once() == 3
    assert sorted(b for batch in handler.bodies for b in batch) == sorted(f"m{i}" for i in range(15))
    assert _counts(sqs, url) == (0, 0)


def test_within_the_batching_window_records_sent_later_join_the_batch(sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="120")
    _send(sqs, url, "first")
    handler = Handler()
    poller = _poller(sqs, handler, batch_size=2, window=60)
    threading.Timer(0.2, _send, args=(sqs, url, "second")).start()
    assert poller.poll_once() == 2
    assert handler.bodies == [["first", "second"]]


def test_without_a_batching_window_a_batch_is_what_one_receive_returned(sqs: Any) -> None:
    url = _queue(sqs)
    _send(sqs, url, "a")
    handler = Handler()
    assert _poller(sqs, handler, batch_size=10, window=0).poll_once() == 1
    assert _poller(sqs, handler).poll_once() == 0
    assert handler.bodies == [["a"]]


def _fail_bodies(*bodies: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def respond(event: dict[str, Any]) -> dict[str, Any]:
        return {
            "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"] if r["body"] in bodies]
        }

    return respond


def test_partial_failure_deletes_only_the_records_not_reported(sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="60")
    _send(sqs, url, "ok-1", "fail", "ok-2")
    assert _poller(sqs, Handler(_fail_bodies("fail"))).poll_once() == 3
    assert _counts(sqs, url) == (0, 1)  # the failed record waits out its visibility timeout


def test_a_reported_failure_comes_back_alone_after_its_visibility_timeout(sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="0")
    _send(sqs, url, "ok-1", "fail", "ok-2")
    handler = Handler(_fail_bodies("fail"))
    poller = _poller(sqs, handler)
    assert [poller.poll_once(), poller.poll_once()] == [3, 1]
    assert handler.bodies[1] == ["fail"]
    assert handler.events[1]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_a_handler_exception_deletes_nothing(sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="60")
    _send(sqs, url, "a", "b", "c")

    def crash(event: dict[str, Any]) -> Any:
        raise RuntimeError("provider down")

    assert _poller(sqs, Handler(crash)).poll_once() == 3
    assert _counts(sqs, url) == (0, 3)


@pytest.mark.parametrize(
    "response",
    [
        "not an object",
        {"batchItemFailures": "nope"},
        {"batchItemFailures": [{"itemIdentifier": "not-in-the-batch"}]},
        {"batchItemFailures": [{"itemIdentifier": ""}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": [{"id": "wrong key"}]},
    ],
)
def test_a_response_lambda_cannot_read_fails_the_whole_batch(sqs: Any, response: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="60")
    _send(sqs, url, "a", "b")
    assert _poller(sqs, Handler(lambda event: response)).poll_once() == 2
    assert _counts(sqs, url) == (0, 2)


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}])
def test_an_empty_response_means_every_record_succeeded(sqs: Any, response: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="60")
    _send(sqs, url, "a", "b")
    assert _poller(sqs, Handler(lambda event: response)).poll_once() == 2
    assert _counts(sqs, url) == (0, 0)


def test_without_report_batch_item_failures_a_returning_handler_deletes_the_batch(sqs: Any) -> None:
    url = _queue(sqs, VisibilityTimeout="60")
    ids = _send(sqs, url, "a", "b")
    response = {"batchItemFailures": [{"itemIdentifier": ids[0]}]}
    assert _poller(sqs, Handler(lambda event: response), report=False).poll_once() == 2
    assert _counts(sqs, url) == (0, 0)


def test_reported_failures_reads_only_well_formed_responses() -> None:
    ids = ["a", "b", "c"]
    assert reported_failures({"batchItemFailures": [{"itemIdentifier": "b"}]}, ids) == {"b"}
    assert reported_failures(None, ids) == set()
    with pytest.raises(UnreadableResponse):
        reported_failures([{"itemIdentifier": "b"}], ids)


def test_the_queues_redrive_policy_moves_a_record_to_the_dlq_after_max_receive_count(sqs: Any) -> None:
    dlq_url = _queue(sqs, "WorkDLQ")
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = _queue(
        sqs, VisibilityTimeout="0", RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2})
    )
    _send(sqs, url, "poison")

    def crash(event: dict[str, Any]) -> Any:
        raise RuntimeError("cannot process")

    handler = Handler(crash)
    poller = _poller(sqs, handler)
    assert [poller.poll_once() for _ in range(3)] == [1, 1, 0]  # the third receive moves it instead

    assert handler.bodies == [["poison"], ["poison"]]
    assert _counts(sqs, url) == (0, 0)
    dead = sqs.receive_message(QueueUrl=dlq_url, MessageSystemAttributeNames=["All"])["Messages"]
    assert [m["Body"] for m in dead] == ["poison"]


def test_batches_of_one_function_run_one_at_a_time_like_one_instance(sqs: Any) -> None:
    """All handlers share one process, so a function is one Lambda instance: one event at a time."""
    url = _queue(sqs, VisibilityTimeout="60")
    release = threading.Event()
    running = threading.Semaphore(1)
    overlaps: list[str] = []

    def slow_or_fast(event: dict[str, Any]) -> None:
        if not running.acquire(blocking=False):
            overlaps.append(event["Records"][0]["body"])
            return
        try:
            if event["Records"][0]["body"] == "slow":
                release.wait(10)
        finally:
            running.release()

    handler = Handler(slow_or_fast)
    poller = _poller(sqs, handler, batch_size=1, concurrency=2)
    poller.start()
    try:
        _send(sqs, url, "slow")
        _wait_until(lambda: handler.bodies == [["slow"]])
        _send(sqs, url, "fast")
        _wait_until(lambda: _counts(sqs, url)[1] == 2)  # both received: the fast one waits its turn
        assert handler.bodies == [["slow"]]
        release.set()
        _wait_until(lambda: _counts(sqs, url) == (0, 0))
        assert handler.bodies == [["slow"], ["fast"]]
        assert overlaps == []
    finally:
        release.set()
        poller.stop()


def _wait_until(condition: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.02)
