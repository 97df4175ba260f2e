"""Measurement 2: warm overhead of the send API, in process, against a handler doing only its AWS work.

The real ApiFunction handler (with its Powertools decorators) answers a valid SMS ``POST
/v1/messages`` many times: once with Basic auth, once with a JWT (a fresh token per request, as
the SDKs send them; signing happens before the clock starts). The baseline is a minimal handler
making the same AWS calls (the per-account rate limit's counter write, one conditional DynamoDB put
of the same record, one SQS send) and nothing else. AWS is moto in this process, so AWS costs the
same for both and the ratio is our own overhead. The counter write's own time, measured inside the
baseline, is reported on its own row.

Samples are taken in interleaved blocks (baseline, Basic, JWT, then rotated) so that a noisy
moment on the machine lands on all three alike. The queues are purged before every block: moto's
SendMessage walks the whole queue, so a growing queue would slow whichever subject runs last.
"""
from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.api_requests import (
    DELIVERED_AND_READ,
    api_event,
    bearer_authorization,
    recipient,
    send_request,
    v1_message,
)
from bench.aws_call_timer import AwsCallTimer
from bench.aws_sandbox import AwsSandbox, aws_sandbox
from bench.credentials import BENCH_RATE_LIMIT_PER_SECOND, jwt_signer, provision_credentials
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from bench.stats import percentile
from tests.support.lambdas import basic_auth

TARGET_BASIC = 1.3
TARGET_JWT = 1.5
UNREACHABLE_PROVIDER = "http://127.0.0.1:9"  # nothing is sent in this measurement
MESSAGES_TABLE = "MessagesTable"
RATE_LIMIT_TABLE = "RateLimitTable"
OUTBOUND_QUEUE = "OutboundQueue"
ROUNDS = 10
WARM_UP_INVOCATIONS = 50

Handler = Callable[[dict[str, Any], Any], Any]


class MinimalSendHandler:
    """The baseline: accept a message with the same AWS work as the API and nothing else.

    It counts the request with the API's own counter write (``DynamoDbRequestCounter``: one
    conditional UpdateItem on the RateLimitTable, for the same account and limit), then writes
    ``record`` (a message record the API wrote, in DynamoDB's format) under a new uuid, so both put
    the same item: moto's cost grows with an item's size, real DynamoDB's hardly does.
    ``counter_ms`` collects how long each counter write took.
    """

    def __init__(self, aws: AwsSandbox, record: dict[str, Any], api_key: str) -> None:
        from switchboard.api.rate_limit import COUNTER_TTL_SECONDS, DynamoDbRequestCounter

        self._dynamodb = aws.client("dynamodb")
        self._sqs = aws.client("sqs")
        self._table = aws.local.refs[MESSAGES_TABLE]
        self._queue_url = aws.queue_url(OUTBOUND_QUEUE)
        self._record = record
        self._counter = DynamoDbRequestCounter(aws.local.refs[RATE_LIMIT_TABLE], self._dynamodb)
        self._counter_ttl = COUNTER_TTL_SECONDS
        self._api_key = api_key
        self.counter_ms: list[float] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        json.loads(event["body"])
        second = int(time.time())
        start = time.perf_counter()
        counted = self._counter.try_count(
            f"{self._api_key}#{second}", BENCH_RATE_LIMIT_PER_SECOND, second + self._counter_ttl
        )
        self.counter_ms.append((time.perf_counter() - start) * 1000)
        if not counted:
            return {"statusCode": 429, "body": "{}"}
        message_uuid = str(uuid.uuid4())
        self._dynamodb.put_item(
            TableName=self._table,
            Item={**self._record, "message_uuid": {"S": message_uuid}},
            ConditionExpression="attribute_not_exists(message_uuid)",
        )
        self._sqs.send_message(QueueUrl=self._queue_url, MessageBody=json.dumps({"message_uuid": message_uuid}))
        return {"statusCode": 202, "body": json.dumps({"message_uuid": message_uuid})}


def record_written_by(aws: AwsSandbox, handler: Handler, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The message record the API writes for ``event`` (one untimed request), in DynamoDB's format."""
    response = handler(event, context)
    message_uuid = json.loads(response["body"])["message_uuid"]
    item = aws.client("dynamodb").get_item(
        TableName=aws.local.refs[MESSAGES_TABLE], Key={"message_uuid": {"S": message_uuid}}, ConsistentRead=True
    )
    return dict(item["Item"])


@dataclass
class Subject:
    name: str
    handler: Handler
    events: list[dict[str, Any]]
    context: Any
    timer: AwsCallTimer
    samples_ms: list[float] = field(default_factory=list)
    own_code_ms: list[float] = field(default_factory=list)  # each sample less its time in AWS calls

    def invoke(self, event: dict[str, Any]) -> tuple[float, float]:
        """(milliseconds, milliseconds outside AWS calls) of one invocation."""
        self.timer.take_seconds()
        start = time.perf_counter()
        response = self.handler(event, self.context)
        elapsed = (time.perf_counter() - start) * 1000
        in_aws = self.timer.take_seconds() * 1000
        if response.get("statusCode") != 202:
            raise RuntimeError(f"{self.name}: expected 202, got {response.get('statusCode')}: {response.get('body')}")
        return elapsed, elapsed - in_aws


def channels_secret() -> dict[str, Any]:
    """SMS configured (the API checks the sender is), pointing nowhere: the API never calls providers."""
    return {
        "messenger": {"api_base": UNREACHABLE_PROVIDER, "api_version": "v18.0", "pages": {}},
        "viber": {"api_base": UNREACHABLE_PROVIDER, "service_ids": []},
        "sms": {"api_base": UNREACHABLE_PROVIDER, "api_key": "benchkey", "api_secret": "benchsecret"},
    }


def run_interleaved(
    subjects: Sequence[Subject], per_subject: int, rounds: int, between_blocks: Callable[[], None]
) -> None:
    """Warm every subject up, then sample them in ``rounds`` interleaved blocks, in a rotating order.

    ``between_blocks`` runs (untimed) before every block, to give each the same starting state.
    """
    for subject in subjects:
        between_blocks()
        for event in subject.events[:WARM_UP_INVOCATIONS]:
            subject.invoke(event)
    block = max(1, per_subject // rounds)
    for round_index in range(rounds):
        shift = round_index % len(subjects)
        for subject in [*subjects[shift:], *subjects[:shift]]:
            between_blocks()
            start = WARM_UP_INVOCATIONS + round_index * block
            for event in subject.events[start : start + block]:
                elapsed, own = subject.invoke(event)
                subject.samples_ms.append(elapsed)
                subject.own_code_ms.append(own)
        progress(f"send overhead: round {round_index + 1}/{rounds}")


def run(options: RunOptions) -> list[Measurement]:
    per_subject = options.pick(full=1000, quick=300)
    total = WARM_UP_INVOCATIONS + per_subject
    timer = AwsCallTimer()
    timer.install()
    with aws_sandbox() as aws, tempfile.TemporaryDirectory(prefix="bench-keys-") as key_dir:
        aws.put_channels_secret(channels_secret())
        credentials = provision_credentials(Path(key_dir))
        api_function = aws.function_for_route("POST", "/v1/messages")
        api_handler = aws.load_handler(api_function)
        routes = aws.routes

        def events(authorizations: Sequence[str]) -> list[dict[str, Any]]:
            body = v1_message("sms", recipient("sms", DELIVERED_AND_READ), "benchmark message")
            return [api_event(routes, send_request(body, authorization)) for authorization in authorizations]

        progress(f"send overhead: signing {total} JWTs (outside the timed part)")
        basic = basic_auth(credentials.api_key, credentials.api_secret)
        sign = jwt_signer(credentials)
        tokens = [bearer_authorization(sign()) for _ in range(total)]
        record = record_written_by(aws, api_handler, events([basic])[0], aws.context(api_function))
        context = aws.context(api_function)
        minimal = MinimalSendHandler(aws, record, credentials.api_key)
        baseline = Subject("baseline", minimal, events([basic] * total), context, timer)
        with_basic = Subject("basic", api_handler, events([basic] * total), context, timer)
        with_jwt = Subject("jwt", api_handler, events(tokens), context, timer)
        progress(f"send overhead: {per_subject} invocations each of the baseline, Basic and JWT")
        run_interleaved([baseline, with_basic, with_jwt], per_subject, ROUNDS, aws.empty_queues)

    timer.uninstall()
    counter_ms = minimal.counter_ms[WARM_UP_INVOCATIONS:]  # the timed invocations only
    return [*overhead_measurements(baseline, with_basic, with_jwt), counter_measurement(counter_ms, baseline)]


def counter_measurement(counter_ms: Sequence[float], baseline: Subject) -> Measurement:
    """The rate limit's counter write on its own, against the whole baseline request it is part of."""
    return Measurement(
        name="send_overhead.rate_limit_counter.p50",
        value=percentile(counter_ms, 50),
        unit="ms",
        runs=len(counter_ms),
        baseline=percentile(baseline.samples_ms, 50),
        note="the per-account rate limit's one conditional UpdateItem, timed inside the baseline (moto in "
        "process; in AWS one DynamoDB round trip); part of every subject above; ratio = its share of the baseline",
    )


def overhead_measurements(baseline: Subject, basic: Subject, jwt: Subject) -> list[Measurement]:
    baseline_note = (
        "baseline: minimal handler, the same rate-limit counter write + conditional DynamoDB put + one SQS send"
    )
    own_baseline = percentile(baseline.own_code_ms, 50)
    rows = []
    for label, subject, target in (("basic", basic, TARGET_BASIC), ("jwt", jwt, TARGET_JWT)):
        samples = subject.samples_ms
        extra = "; a fresh JWT per request" if label == "jwt" else ""
        extra += (
            f"; outside AWS calls p50 {percentile(subject.own_code_ms, 50):.2f} ms (baseline {own_baseline:.2f} ms)"
        )
        rows.append(
            Measurement(
                name=f"send_overhead.{label}.p50",
                value=percentile(samples, 50),
                unit="ms",
                runs=len(samples),
                baseline=percentile(baseline.samples_ms, 50),
                target=target,
                note=f"{baseline_note}{extra}",
            )
        )
        rows.append(
            Measurement(
                name=f"send_overhead.{label}.p99",
                value=percentile(samples, 99),
                unit="ms",
                runs=len(samples),
                baseline=percentile(baseline.samples_ms, 99),
                note="no target (p50 only)",
            )
        )
    return rows
