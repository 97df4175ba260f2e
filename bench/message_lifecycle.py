"""Driving messages through their whole life, function by function, as the deployed system would.

Every function the template declares is imported the way the local stack imports it, and is
invoked with the events the local stack builds: HTTP requests go through the local API Gateway
(routes read from the template), queues are drained as Lambda's SQS event source mappings drain
them (receive up to a batch, invoke, delete what succeeded). Stages:

    accept             POST /v1/messages (Basic auth)            -> the API function
    send               the outbound queue                        -> the sender (records "submitted")
    webhook_submitted  the other queues (customer webhooks)      -> the notifier
    delivered          the provider's delivery receipt (HTTP)    -> the provider-webhook function
    webhook_delivered  as above
    read               the provider's read receipt (HTTP)        -> the provider-webhook function
    webhook_read       as above

The message is a Viber transaction message (Viber reports both delivered and seen per message).
A stage that cannot run (a function, route or queue consumer missing from the template, a refused
receipt, a message in the wrong state) makes the measurement fail; nothing is faked.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from bench.api_requests import (
    API_ID,
    DELIVERED_AND_READ,
    recipient,
    send_request,
    v1_message,
)
from bench.aws_call_recorder import AwsCallRecorder, MotoItems
from bench.aws_sandbox import AwsSandbox
from bench.dynamodb_capacity import item_size
from local_stack.event_sources import SqsEventSource, reported_failures, sqs_event
from local_stack.functions import LocalFunction
from local_stack.gateway import ApiIdentity, HttpApiGateway, HttpRequest
from local_stack.provision import DemoCredentials
from local_stack.routes import Route
from local_stack.simulators import DEMO_VIBER_SERVICE_ID
from tests.support.lambdas import basic_auth

CHANNEL = "viber_service"
OUTBOUND_QUEUE = "OutboundQueue"
MESSAGES_TABLE = "MessagesTable"
EVENT_SOURCE_MAPPING = "event source mapping"
SQS_RECEIVE_LIMIT = 10
VIBER_DELIVERED, VIBER_SEEN = 0, 1
VIBER_SIGNATURE_HEADER = "X-Viber-Content-Signature"

ACCEPT, SEND = "accept", "send"
WEBHOOK_SUBMITTED, DELIVERED, WEBHOOK_DELIVERED = "webhook_submitted", "delivered", "webhook_delivered"
READ, WEBHOOK_READ = "read", "webhook_read"
STAGES = (ACCEPT, SEND, WEBHOOK_SUBMITTED, DELIVERED, WEBHOOK_DELIVERED, READ, WEBHOOK_READ)
RECEIPT_STAGES = {DELIVERED: (VIBER_DELIVERED, "delivered"), READ: (VIBER_SEEN, "read")}
WEBHOOK_STAGES = {WEBHOOK_SUBMITTED: "submitted", WEBHOOK_DELIVERED: "delivered", WEBHOOK_READ: "read"}


@dataclass(frozen=True)
class Invocation:
    function: str
    stage: str
    duration_ms: float

    @property
    def billed_ms(self) -> int:
        return max(1, math.ceil(self.duration_ms))


@dataclass
class StageResult:
    name: str
    remarks: list[str] = field(default_factory=list)
    http_api_requests: int = 0


@dataclass
class PassResult:
    label: str  # what the recorder's stage names are prefixed with
    messages: int
    stages: dict[str, StageResult]
    record_bytes: list[int] = field(default_factory=list)  # each message record's size at the end

    def stage_key(self, stage: str) -> str:
        return f"{self.label}:{stage}"

    @property
    def stage_keys(self) -> set[str]:
        return {self.stage_key(name) for name in self.stages}


class TimedFunction:
    """A local function whose invocations are timed and whose AWS calls are attributed to it."""

    def __init__(
        self, function: LocalFunction, recorder: AwsCallRecorder, on_invocation: Callable[[Invocation], None]
    ) -> None:
        self.function = function
        self.name = function.name
        self.timeout_seconds = function.timeout_seconds
        self._recorder = recorder
        self._on_invocation = on_invocation

    def invoke(self, event: Any, time_limit: float | None = None) -> Any:
        start = time.perf_counter()
        try:
            with self._recorder.attributed_to(caller=self.name):
                return self.function.invoke(event, time_limit)
        finally:
            self._on_invocation(Invocation(self.name, self._recorder.stage, (time.perf_counter() - start) * 1000))


def viber_receipt(message_token: str, status_code: int, phone_number: str, callback_secret: str) -> HttpRequest:
    """A signed Viber Service Messages delivery callback, as Viber sends it."""
    body = json.dumps(
        {
            "message_token": int(message_token),
            "message_status": status_code,
            "message_time": int(time.time() * 1000),
            "phone_number": phone_number,
            "service_id": int(DEMO_VIBER_SERVICE_ID),
        }
    ).encode("utf-8")
    signature = hmac.new(callback_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return HttpRequest(
        method="POST",
        target="",  # set by the caller: the template's route
        headers=[("Content-Type", "application/json"), ("User-Agent", "Viber"), (VIBER_SIGNATURE_HEADER, signature)],
        body=body,
        source_ip="127.0.0.1",
    )


def viber_webhook_route(routes: Iterable[Route]) -> Route | None:
    """The template's route for Viber callbacks: a POST (or ANY) path with a literal ``viber`` segment."""
    for route in routes:
        if route.method in ("POST", "ANY") and "viber" in route.path.strip("/").split("/"):
            return route
    return None


class MessageLifecycle:
    def __init__(
        self,
        sandbox: AwsSandbox,
        recorder: AwsCallRecorder,
        demo: DemoCredentials,
        channels_secret: dict[str, Any],
        webhooks_received: Callable[[], list[dict[str, Any]]],
    ) -> None:
        self.sandbox = sandbox
        self.recorder = recorder
        self.demo = demo
        self.channels_secret = channels_secret
        self.webhooks_received = webhooks_received
        self.items = MotoItems(region="us-east-1")
        self.invocations: list[Invocation] = []
        self.functions = {
            name: TimedFunction(
                LocalFunction(name, sandbox.load_handler(name), spec.config.memory_mb, spec.config.timeout_seconds),
                recorder,
                self.invocations.append,
            )
            for name, spec in sandbox.functions.items()
        }
        self.gateway = HttpApiGateway(sandbox.routes, self.functions, ApiIdentity(API_ID))
        self.sqs = sandbox.client("sqs")  # created after the recorder was installed: its calls count

    # -- one pass ---------------------------------------------------------------------------------

    def run(self, messages: int, label: str, first_serial: int = 0) -> PassResult:
        """Drive ``messages`` messages through every stage; calls are attributed to ``<label>:<stage>``.

        Message ``i`` goes to recipient number ``first_serial + i``: passes with the same
        ``first_serial`` write to the same numbers (known Viber contacts the second time).
        """
        result = PassResult(label, messages, {})
        uuids: list[str] = []
        steps: list[tuple[str, Callable[[StageResult], None]]] = [
            (ACCEPT, lambda stage: uuids.extend(self._accept(messages, label, stage, first_serial))),
            (SEND, lambda stage: self._send(uuids)),
            (WEBHOOK_SUBMITTED, lambda stage: self._webhooks(uuids, WEBHOOK_STAGES[WEBHOOK_SUBMITTED], stage)),
            (DELIVERED, lambda stage: self._receipts(uuids, DELIVERED, stage)),
            (WEBHOOK_DELIVERED, lambda stage: self._webhooks(uuids, WEBHOOK_STAGES[WEBHOOK_DELIVERED], stage)),
            (READ, lambda stage: self._receipts(uuids, READ, stage)),
            (WEBHOOK_READ, lambda stage: self._webhooks(uuids, WEBHOOK_STAGES[WEBHOOK_READ], stage)),
        ]
        for name, step in steps:
            stage = StageResult(name)
            result.stages[name] = stage
            with self.recorder.attributed_to(stage=result.stage_key(name), caller=EVENT_SOURCE_MAPPING):
                step(stage)
        result.record_bytes = [item_size(self._record(u)) for u in uuids]
        return result

    def _accept(self, messages: int, label: str, stage: StageResult, first_serial: int = 0) -> list[str]:
        authorization = basic_auth(self.demo.api_key, self.demo.api_secret)
        uuids = []
        for index in range(messages):
            to = recipient("viber_service", DELIVERED_AND_READ, first_serial + index)
            request = send_request(v1_message(CHANNEL, to, f"lifecycle {label} {index}"), authorization)
            response = self.gateway.handle(request)
            stage.http_api_requests += 1
            if response.status != 202:
                raise RuntimeError(f"the API answered {response.status}: {response.body[:300]!r}")
            uuids.append(json.loads(response.body)["message_uuid"])
        return uuids

    def _send(self, uuids: list[str]) -> None:
        self._drain(self.sandbox.consumer_of(OUTBOUND_QUEUE))
        self._expect_status(uuids, {"submitted"}, "after the send")

    def _webhooks(self, uuids: list[str], status: str, stage: StageResult) -> None:
        sources = [s for s in self.sandbox.event_sources() if s.queue_name != OUTBOUND_QUEUE]
        if not sources:
            raise LookupError("no function in the template consumes the notify queue")
        before = self._webhook_count(uuids, status)
        for source in sources:
            self._drain(source)
        arrived = self._webhook_count(uuids, status) - before
        if arrived != len(uuids):
            stage.remarks.append(f"{arrived} of {len(uuids)} '{status}' webhooks reached the customer")

    def _receipts(self, uuids: list[str], stage_name: str, stage: StageResult) -> None:
        route = viber_webhook_route(self.sandbox.routes.routes)
        if route is None:
            raise LookupError("the template has no route for Viber delivery callbacks")
        status_code, expected = RECEIPT_STAGES[stage_name]
        secret = str(self.channels_secret["viber"]["callback_secret"])
        refused: list[int] = []
        for message_uuid in uuids:
            record = self._record(message_uuid)
            token = record.get("provider_message_id", {}).get("S")
            number = record.get("to", {}).get("M", {}).get("number", {}).get("S", "")
            if token is None:
                raise RuntimeError(f"message {message_uuid} has no provider message id")
            request = viber_receipt(token, status_code, number, secret)
            request = HttpRequest(request.method, route.path, request.headers, request.body, request.source_ip)
            response = self.gateway.handle(request)
            stage.http_api_requests += 1
            if response.status >= 300:
                refused.append(response.status)
        if refused:
            raise RuntimeError(f"{len(refused)} receipts were refused (HTTP {sorted(set(refused))})")
        self._expect_status(uuids, {expected}, f"after the {stage_name} receipts")

    def drain_queues(self) -> None:
        """Run every queue consumer until its queue is empty: the outbound queue first, then the rest."""
        sources = sorted(self.sandbox.event_sources(), key=lambda s: s.queue_name != OUTBOUND_QUEUE)
        for source in sources:
            self._drain(source)

    # -- helpers ----------------------------------------------------------------------------------

    def _drain(self, source: SqsEventSource) -> None:
        """Receive, invoke and delete until the queue is empty, as the event source mapping does."""
        function = self.functions[source.function]
        queue_url = self.sandbox.queue_url(source.queue_name)
        batch_size = min(SQS_RECEIVE_LIMIT, source.batch_size)
        while True:
            messages = self.sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=batch_size,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if not messages:
                return
            response = function.invoke(sqs_event(messages, source.queue_arn))
            failed: set[str] = set()
            if source.report_batch_item_failures:
                failed = reported_failures(response, [m["MessageId"] for m in messages])
            done = [m for m in messages if m["MessageId"] not in failed]
            if done:
                self.sqs.delete_message_batch(
                    QueueUrl=queue_url,
                    Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
                )
            if failed:
                raise RuntimeError(f"{source.function} reported {len(failed)} records failed")

    def _record(self, message_uuid: str) -> dict[str, Any]:
        table = self.sandbox.local.refs[MESSAGES_TABLE]
        return dict(self.items.get(table, {"message_uuid": {"S": message_uuid}}) or {})

    def _expect_status(self, uuids: list[str], expected: set[str], when: str) -> None:
        statuses = [self._record(u).get("status", {}).get("S") for u in uuids]
        wrong = [s for s in statuses if s not in expected]
        if wrong:
            raise RuntimeError(f"{len(wrong)} of {len(uuids)} messages are {sorted(set(map(str, wrong)))} {when}")

    def _webhook_count(self, uuids: list[str], status: str) -> int:
        wanted = set(uuids)
        return sum(
            1
            for hook in self.webhooks_received()
            if isinstance(hook.get("body"), dict)
            and hook["body"].get("message_uuid") in wanted
            and hook["body"].get("status") == status
        )
