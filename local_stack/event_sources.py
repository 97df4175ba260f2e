"""SQS event source mappings, read from the template's ``SQS`` events and run as Lambda runs them.

For each mapping one receiver long-polls the queue (1 s), gathers up to ``BatchSize`` records
within ``MaximumBatchingWindowInSeconds`` and hands the batch to one of a few concurrent
invocations, so a slow or failing batch does not hold up the others. Receiving is done by one
thread per queue: concurrent receives on moto can hand the same message out twice.

After the invocation, as Lambda does:
- the handler raised (or timed out): nothing is deleted; the records come back after the queue's
  visibility timeout, and the queue's redrive policy moves them to the dead-letter queue after
  ``maxReceiveCount`` receives (moto applies the policy on receive, as SQS does);
- with ``ReportBatchItemFailures``: every record not listed in ``batchItemFailures`` is deleted;
  an empty or missing response deletes them all; a response Lambda cannot read (not an object,
  not a list, an ``itemIdentifier`` that is empty or not in the batch) fails the whole batch;
- without it: a returning handler deletes the whole batch.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from local_stack.functions import FunctionError, Invocable
from local_stack.template import LOCAL_REGION, LocalResources, resolve

logger = logging.getLogger(__name__)

SQS_RECEIVE_LIMIT = 10  # most messages one ReceiveMessage returns
LONG_POLL_SECONDS = 1
# While a batch fills within its window, the receiver looks again this often: every look is a
# ReceiveMessage moto answers with CPU (at 50 ms, three pollers spent about a fifth of moto's time here).
BATCHING_POLL_INTERVAL_SECONDS = 0.25
RECEIVE_ERROR_BACKOFF_SECONDS = 1.0
# Lambda's defaults for SQS event sources.
DEFAULT_BATCH_SIZE = 10
DEFAULT_CONCURRENCY = 3
REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"


@dataclass(frozen=True)
class SqsEventSource:
    function: str  # logical id
    queue_arn: str
    batch_size: int = DEFAULT_BATCH_SIZE
    batching_window_seconds: float = 0
    report_batch_item_failures: bool = False
    maximum_concurrency: int | None = None  # ScalingConfig.MaximumConcurrency

    @property
    def queue_name(self) -> str:
        return self.queue_arn.rsplit(":", 1)[-1]


def sqs_event_sources(template: dict[str, Any], local: LocalResources) -> list[SqsEventSource]:
    sources = []
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event in (resource["Properties"].get("Events") or {}).values():
            if event.get("Type") != "SQS":
                continue
            props = resolve(event.get("Properties") or {}, local)
            if props.get("Enabled") is False:
                continue
            if props.get("FilterCriteria"):
                logger.warning("%s: FilterCriteria is not applied by the local stack", logical_id)
            scaling = props.get("ScalingConfig") or {}
            sources.append(
                SqsEventSource(
                    function=logical_id,
                    queue_arn=props["Queue"],
                    batch_size=int(props.get("BatchSize", DEFAULT_BATCH_SIZE)),
                    batching_window_seconds=float(props.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES in (props.get("FunctionResponseTypes") or []),
                    maximum_concurrency=int(scaling["MaximumConcurrency"]) if "MaximumConcurrency" in scaling else None,
                )
            )
    return sources


def _message_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An SQS message attribute in the shape Lambda's SQS records use."""
    shaped: dict[str, Any] = {}
    if "StringValue" in value:
        shaped["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        shaped["binaryValue"] = _base64(value["BinaryValue"])
    shaped["stringListValues"] = list(value.get("StringListValues") or [])
    shaped["binaryListValues"] = [_base64(v) for v in value.get("BinaryListValues") or []]
    shaped["dataType"] = value["DataType"]
    return shaped


def _base64(data: bytes | str) -> str:
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode("ascii")


def sqs_record(message: dict[str, Any], queue_arn: str, region: str = LOCAL_REGION) -> dict[str, Any]:
    """One received SQS message as a record of Lambda's SQS event."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": {k: _message_attribute(v) for k, v in (message.get("MessageAttributes") or {}).items()},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str = LOCAL_REGION) -> dict[str, Any]:
    return {"Records": [sqs_record(m, queue_arn, region) for m in messages]}


class UnreadableResponse(ValueError):
    """A partial batch response Lambda would reject: the whole batch counts as failed."""


def reported_failures(response: Any, message_ids: list[str]) -> set[str]:
    """The message ids a ``ReportBatchItemFailures`` response lists as failed."""
    if response is None:
        return set()
    if not isinstance(response, dict):
        raise UnreadableResponse(f"the response is not an object: {response!r}")
    failures = response.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        raise UnreadableResponse("batchItemFailures is not a list")
    failed = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in message_ids:
            raise UnreadableResponse(f"itemIdentifier {identifier!r} is not a message of the batch")
        failed.add(identifier)
    return failed


class SqsPoller:
    """Runs one event source: ``start()`` for the background loop, or ``poll_once()`` step by step."""

    def __init__(
        self,
        source: SqsEventSource,
        function: Invocable,
        sqs: Any,
        concurrency: int = DEFAULT_CONCURRENCY,
        wait_seconds: int = LONG_POLL_SECONDS,
        region: str = LOCAL_REGION,
    ) -> None:
        self.source = source
        self.function = function
        self.sqs = sqs
        self.queue_url: str = sqs.get_queue_url(QueueName=source.queue_name)["QueueUrl"]
        self.concurrency = max(1, min(concurrency, source.maximum_concurrency or concurrency))
        self.wait_seconds = wait_seconds
        self.region = region
        self._stopped = threading.Event()
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._executor: ThreadPoolExecutor | None = None
        self._receiver: threading.Thread | None = None

    # -- one step at a time -------------------------------------------------------------------

    def receive_batch(self) -> list[dict[str, Any]]:
        """Up to ``batch_size`` messages gathered within the batching window; [] when the long poll found none."""
        messages: list[dict[str, Any]] = []
        deadline = 0.0
        while len(messages) < self.source.batch_size and not self._stopped.is_set():
            received = self.sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=min(SQS_RECEIVE_LIMIT, self.source.batch_size - len(messages)),
                WaitTimeSeconds=0 if messages else self.wait_seconds,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                if not received:
                    return []
                deadline = time.monotonic() + self.source.batching_window_seconds
            messages.extend(received)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            if not received:
                self._stopped.wait(min(BATCHING_POLL_INTERVAL_SECONDS, remaining))
        return messages

    def process(self, messages: list[dict[str, Any]]) -> list[str]:
        """Invoke the function with the batch and delete what succeeded; the ids deleted."""
        ids = [m["MessageId"] for m in messages]
        try:
            response = self.function.invoke(sqs_event(messages, self.source.queue_arn, self.region))
        except FunctionError:
            logger.warning(
                "%s: batch of %d failed; its records return after the visibility timeout",
                self.source.function,
                len(ids),
            )
            return []
        failed: set[str] = set()
        if self.source.report_batch_item_failures:
            try:
                failed = reported_failures(response, ids)
            except UnreadableResponse as exc:
                logger.warning("%s: whole batch of %d failed: %s", self.source.function, len(ids), exc)
                return []
            if failed:
                logger.info("%s: %d of %d records reported failed", self.source.function, len(failed), len(ids))
        succeeded = [m for m in messages if m["MessageId"] not in failed]
        self._delete(succeeded)
        return [m["MessageId"] for m in succeeded]

    def poll_once(self) -> int:
        """Receive one batch and process it on this thread; the number of records."""
        messages = self.receive_batch()
        if messages:
            self.process(messages)
        return len(messages)

    def _delete(self, messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), SQS_RECEIVE_LIMIT):
            chunk = messages[start : start + SQS_RECEIVE_LIMIT]
            entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)]
            result = self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=entries)
            for failure in result.get("Failed", []):
                logger.warning("%s: could not delete a record: %s", self.source.function, failure.get("Message"))

    # -- in the background --------------------------------------------------------------------

    def start(self) -> None:
        self._executor = ThreadPoolExecutor(self.concurrency, thread_name_prefix=f"{self.source.function}-invoke")
        self._receiver = threading.Thread(target=self._run, name=f"{self.source.function}-poller", daemon=True)
        self._receiver.start()

    def stop(self) -> None:
        """Stop receiving, then wait for the invocations under way (a batch being received included)
        to finish and delete what they did, so nothing is left half done."""
        self._stopped.set()
        if self._receiver is not None:
            self._receiver.join()
        if self._executor is not None:
            self._executor.shutdown(wait=True)

    def _run(self) -> None:
        assert self._executor is not None
        while not self._stopped.is_set():
            if not self._slots.acquire(timeout=LONG_POLL_SECONDS):
                continue
            try:
                messages = self.receive_batch()
            except Exception:  # noqa: BLE001 - keep polling, as Lambda does
                if not self._stopped.is_set():
                    logger.exception("%s: receiving from %s failed", self.source.function, self.source.queue_name)
                    self._stopped.wait(RECEIVE_ERROR_BACKOFF_SECONDS)
                messages = []
            if not messages:
                self._slots.release()
                continue
            try:
                self._executor.submit(self._process_in_slot, messages)
            except RuntimeError:  # the executor is shutting down
                self._slots.release()
                return

    def _process_in_slot(self, messages: list[dict[str, Any]]) -> None:
        try:
            self.process(messages)
        except Exception:  # noqa: BLE001 - a failed delete must not stop the mapping
            logger.exception("%s: processing a batch failed", self.source.function)
        finally:
            self._slots.release()
