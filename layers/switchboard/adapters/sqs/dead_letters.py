"""The stack's dead-letter queues: find them, look at what is in them, and move it back.

A dead-letter queue is found, not listed: every queue among the stack's outputs is asked for its
``RedrivePolicy``, and the queue its ``deadLetterTargetArn`` names is a DLQ whose source is that
queue. A DLQ added to ``template.yaml`` (with its queue's URL as an output) is found the same way.

A listed message shows when it was first sent (``SentTimestamp``: for a message SQS moved there
after ``maxReceiveCount`` receives, when it was sent to the source queue) and first received, and
its receive count. SQS records no time of the last receive; a given-up webhook carries its own
``gave_up_at`` in the body, which the summary shows.

Looking never consumes: messages are received in pages with a short visibility timeout (so paging
reaches past the first ten) and made visible again at once (``ChangeMessageVisibility`` 0). SQS
counts every receive, so a listing raises each message's ``ApproximateReceiveCount`` by one; a DLQ
has no redrive policy of its own, so that count changes nothing.

Moving back has two paths:

* ``native``: SQS's own ``StartMessageMoveTask`` from the DLQ to its source queue. AWS runs it
  asynchronously and moves everything in the DLQ; the answer is the task handle.
* ``copy``: receive, ``SendMessage`` to the source queue (body and message attributes kept), and
  only once that send succeeded ``DeleteMessage`` from the DLQ. A failed send leaves the message in
  the DLQ (it is visible again after ``MOVE_HOLD_SECONDS``); a failed delete after a successful
  send leaves a copy in both, so a message is never lost, at worst redriven twice (every consumer
  of these queues is idempotent: ``docs/reliability.md``). Used where ``StartMessageMoveTask``
  does not exist (moto, hence the local stack) and when only some messages are to move (``max``).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from switchboard import clock

LIST_HOLD_SECONDS = 30  # a listed page is hidden at most this long (made visible again at once)
MOVE_HOLD_SECONDS = 60  # a message being copied is hidden this long if the copy is cut short
RECEIVE_BATCH = 10  # SQS's maximum per ReceiveMessage
# A queue URL as SQS and moto both write it: scheme, host, 12-digit account, queue name.
_QUEUE_URL = re.compile(r"^https?://[^/]+/\d{12}/[A-Za-z0-9_-]{1,80}(\.fifo)?$")
_OUTPUT_SUFFIX = "Url"
# Error codes that mean the service has no StartMessageMoveTask (an emulator), so copying is the only way.
_UNSUPPORTED_CODES = frozenset({"InvalidAction", "UnsupportedOperation", "NotImplemented", "UnknownOperationException"})


class MoveTaskUnsupported(Exception):
    """The SQS endpoint has no ``StartMessageMoveTask``."""


@dataclass(frozen=True)
class DeadLetterQueue:
    name: str  # the output's name without "Url" (``NotifyDLQ``), else the SQS queue name
    url: str
    arn: str
    source_name: str
    source_url: str
    source_arn: str
    max_receive_count: int | None

    def matches(self, wanted: str) -> bool:
        """``wanted`` names this DLQ: its name, its SQS queue name, or its source queue's (case-insensitive)."""
        wanted = wanted.lower()
        return wanted in {self.name.lower(), self.arn.rsplit(":", 1)[-1].lower(), self.source_name.lower()}


@dataclass(frozen=True)
class DeadLetter:
    """One message in a DLQ, as listed (nothing about it is changed but its receive count)."""

    message_id: str
    receive_count: int
    sent_at: str | None
    first_received_at: str | None
    summary: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "receive_count": self.receive_count,
            "sent_at": self.sent_at,
            "first_received_at": self.first_received_at,
            "summary": self.summary,
        }


@dataclass
class MoveReport:
    queue: str
    method: str  # "native" | "copy"
    moved: int = 0
    failed: int = 0  # copy: sends that failed (the message stays in the DLQ)
    left_twice: int = 0  # copy: sent but not deleted from the DLQ (it will be redriven again)
    task_handle: str | None = None  # native
    approximate_messages: int | None = None  # native: the DLQ's depth when the task started
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        report: dict[str, Any] = {"queue": self.queue, "method": self.method}
        if self.method == "native":
            report.update(task_handle=self.task_handle, approximate_messages=self.approximate_messages)
        else:
            report.update(moved=self.moved, failed=self.failed, left_twice=self.left_twice)
        if self.errors:
            report["errors"] = self.errors
        return report


def queue_outputs(outputs: Mapping[str, str]) -> dict[str, str]:
    """The outputs whose value is an SQS queue URL, by name without ``Url``."""
    return {
        (key[: -len(_OUTPUT_SUFFIX)] if key.endswith(_OUTPUT_SUFFIX) else key): value
        for key, value in outputs.items()
        if isinstance(value, str) and _QUEUE_URL.match(value)
    }


def find_dead_letter_queues(client: Any, outputs: Mapping[str, str]) -> list[DeadLetterQueue]:
    """Every DLQ that a queue among ``outputs`` redrives to, with that source queue; sorted by name."""
    queues = queue_outputs(outputs)
    attributes = {
        name: client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn", "RedrivePolicy"])["Attributes"]
        for name, url in queues.items()
    }
    by_arn = {attrs["QueueArn"]: name for name, attrs in attributes.items()}
    found: list[DeadLetterQueue] = []
    for source_name, attrs in attributes.items():
        policy = attrs.get("RedrivePolicy")
        if not policy:
            continue
        redrive = json.loads(policy)
        dlq_arn = str(redrive["deadLetterTargetArn"])
        dlq_name = by_arn.get(dlq_arn)
        dlq_url = queues[dlq_name] if dlq_name else _url_of(client, dlq_arn)
        count = redrive.get("maxReceiveCount")
        found.append(
            DeadLetterQueue(
                name=dlq_name or dlq_arn.rsplit(":", 1)[-1],
                url=dlq_url,
                arn=dlq_arn,
                source_name=source_name,
                source_url=queues[source_name],
                source_arn=attrs["QueueArn"],
                max_receive_count=int(count) if count is not None else None,
            )
        )
    return sorted(found, key=lambda q: q.name)


def depth(client: Any, queue: DeadLetterQueue) -> dict[str, int]:
    """Approximate counts: visible, in flight (being received or moved), delayed."""
    attrs = client.get_queue_attributes(
        QueueUrl=queue.url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return {
        "visible": int(attrs.get("ApproximateNumberOfMessages", 0)),
        "in_flight": int(attrs.get("ApproximateNumberOfMessagesNotVisible", 0)),
        "delayed": int(attrs.get("ApproximateNumberOfMessagesDelayed", 0)),
    }


def peek(client: Any, queue: DeadLetterQueue, limit: int) -> list[DeadLetter]:
    """Up to ``limit`` messages of ``queue``, left in it (visible again when this returns)."""
    seen: dict[str, DeadLetter] = {}
    handles: list[tuple[str, str]] = []
    try:
        for message in _receive(client, queue.url, limit, LIST_HOLD_SECONDS):
            handles.append((message["MessageId"], message["ReceiptHandle"]))
            if message["MessageId"] not in seen:
                seen[message["MessageId"]] = _dead_letter(message)
    finally:
        _make_visible(client, queue.url, handles)
    return list(seen.values())


def move_back(client: Any, queue: DeadLetterQueue, limit: int | None = None, method: str = "auto") -> MoveReport:
    """Move ``queue``'s messages to its source queue (module docstring); ``limit`` forces ``copy``.

    ``method``: ``native``, ``copy``, or ``auto`` (native unless ``limit`` is set, falling back to
    copy when the endpoint has no ``StartMessageMoveTask``).
    """
    if method not in ("auto", "native", "copy"):
        raise ValueError(f"unknown redrive method {method!r}")
    if method == "native" and limit is not None:
        raise ValueError("StartMessageMoveTask moves every message: a limit needs the copy method")
    if method != "copy" and limit is None:
        try:
            return _start_move_task(client, queue)
        except MoveTaskUnsupported:
            if method == "native":
                raise
    return _copy_back(client, queue, limit)


def _start_move_task(client: Any, queue: DeadLetterQueue) -> MoveReport:
    from botocore.exceptions import ClientError

    waiting = depth(client, queue)["visible"]
    try:
        answer = client.start_message_move_task(SourceArn=queue.arn, DestinationArn=queue.source_arn)
    except NotImplementedError as exc:  # moto in process
        raise MoveTaskUnsupported(str(exc)) from None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in _UNSUPPORTED_CODES:
            raise MoveTaskUnsupported(str(exc)) from None
        raise
    return MoveReport(queue.name, "native", task_handle=answer.get("TaskHandle"), approximate_messages=waiting)


def _copy_back(client: Any, queue: DeadLetterQueue, limit: int | None) -> MoveReport:
    report = MoveReport(queue.name, "copy")
    done: set[str] = set()
    for message in _receive(client, queue.url, limit, MOVE_HOLD_SECONDS):
        if message["MessageId"] in done:
            continue
        done.add(message["MessageId"])
        send: dict[str, Any] = {"QueueUrl": queue.source_url, "MessageBody": message["Body"]}
        if message.get("MessageAttributes"):
            send["MessageAttributes"] = message["MessageAttributes"]
        try:
            client.send_message(**send)
        except Exception as exc:  # stays in the DLQ; visible again after MOVE_HOLD_SECONDS
            report.failed += 1
            report.errors.append(f"{message['MessageId']}: not sent ({type(exc).__name__}: {exc})")
            continue
        try:
            client.delete_message(QueueUrl=queue.url, ReceiptHandle=message["ReceiptHandle"])
        except Exception as exc:
            report.left_twice += 1
            report.errors.append(f"{message['MessageId']}: sent but not deleted ({type(exc).__name__}: {exc})")
            continue
        report.moved += 1
    return report


def _receive(client: Any, url: str, limit: int | None, hold_seconds: int) -> Iterator[dict[str, Any]]:
    """Messages of ``url`` until it answers none or ``limit`` distinct ones were received."""
    distinct: set[str] = set()
    while limit is None or len(distinct) < limit:
        wanted = RECEIVE_BATCH if limit is None else min(RECEIVE_BATCH, limit - len(distinct))
        messages = client.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=wanted,
            VisibilityTimeout=hold_seconds,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        fresh = [m for m in messages if m["MessageId"] not in distinct]
        if not fresh:
            return
        for message in fresh:
            distinct.add(message["MessageId"])
            yield message


def _make_visible(client: Any, url: str, handles: list[tuple[str, str]]) -> None:
    for start in range(0, len(handles), RECEIVE_BATCH):
        entries = [
            {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
            for i, (_, handle) in enumerate(handles[start : start + RECEIVE_BATCH])
        ]
        client.change_message_visibility_batch(QueueUrl=url, Entries=entries)


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    attrs = message.get("Attributes", {})
    return DeadLetter(
        message_id=message["MessageId"],
        receive_count=int(attrs.get("ApproximateReceiveCount", 0)),
        sent_at=_iso_ms(attrs.get("SentTimestamp")),
        first_received_at=_iso_ms(attrs.get("ApproximateFirstReceiveTimestamp")),
        summary=summarize_body(message.get("Body", "")),
    )


def summarize_body(body: str) -> dict[str, Any]:
    """What a DLQ message is about, from any of the stack's queue bodies; ``{"body": <start>}`` otherwise.

    Outbound: ``{"message_uuid"}``. Notify: kind, message uuid (a workflow report: the workflow's),
    webhook, account, application, attempt and when it was given up. Workflow events: kind,
    workflow uuid, step, message uuid and status, or due time.
    """
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return {"body": body[:80]}
    target = data.get("target") if isinstance(data.get("target"), dict) else {}
    picked = {
        "kind": data.get("kind"),
        "message_uuid": data.get("message_uuid"),
        "workflow_uuid": data.get("workflow_uuid"),
        "webhook": data.get("notification"),
        "api_key": target.get("api_key"),
        "application_id": target.get("application_id"),
        "attempt": data.get("attempt"),
        "gave_up_at": data.get("gave_up_at"),
        "step": data.get("step"),
        "status": data.get("status"),
        "due_at": data.get("due_at"),
    }
    summary = {key: value for key, value in picked.items() if value is not None}
    return summary or {"body": body[:80]}


def _url_of(client: Any, arn: str) -> str:
    parts = arn.split(":")
    return str(client.get_queue_url(QueueName=parts[-1], QueueOwnerAWSAccountId=parts[-2])["QueueUrl"])


def _iso_ms(epoch_ms: Any) -> str | None:
    if epoch_ms in (None, "", "0", 0):
        return None
    return clock.iso(int(epoch_ms) / 1000)
