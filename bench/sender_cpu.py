"""Measurement: the sender's CPU time per message in a batch of 10, against a minimal sender.

The real SenderFunction handler (Powertools decorators, batch runner, thread pool, channel
adapters, outbox) sends batches of 10 messages (SMS, Messenger and Viber) that the API accepted.
The baseline is ``MinimalSender``: for each record of the same kind of batch, on a plain thread
pool, the same claim (one conditional UpdateItem returning the record), the same provider call
(``requests``, one keep-alive ``Session``) and a final conditional UpdateItem, with plain boto3, and
nothing else.

What is counted is CPU time, not wall time: the process's CPU time over the batch, less what moto
spends serving the AWS calls (moto runs in this process; its share is each call's thread CPU time
inside moto's request handler, so only the client side of an AWS call, as in Lambda, stays). The
provider answers after 100 ms from a process of its own (``bench.provider_process``), so its CPU
is not counted either. moto's patching of ``requests`` (the ``responses`` library, which would
route every provider call through its matcher) is switched off for the run: it is a test artifact
in both subjects, not the sender's. Batches alternate between the two subjects.

``sender_cpu.lambda_batch_of_10`` turns the measured CPU time into an estimate of the same batch's
wall time on Lambda at the template's memory size. Lambda gives a function CPU in proportion to its
memory (1,769 MB = one vCPU), so CPU work takes ``1769 / MemorySize`` times as long as on one full
core (this machine's core stands in for a Lambda vCPU). The waits overlap (the ten records run at
once): the estimate is one provider round-trip, plus each record's AWS calls as 5 ms waits one after
another (how many it made, counted here), plus the whole batch's CPU time stretched by that factor.
CPU and waits are added, not overlapped (a slightly pessimistic estimate: one vCPU fraction runs one
record's work while another's waits, but the interpreter lock and the fraction make CPU work serial).
"""
from __future__ import annotations

import gc
import json
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.aws_sandbox import WITHOUT_PROVIDER_PACING, AwsSandbox, aws_sandbox, requests_unpatched
from bench.batch_concurrency import (
    AWS_CALL_SECONDS,
    BATCH_SIZE,
    OUTBOUND_QUEUE,
    PROVIDER_DELAY_SECONDS,
    accept_messages,
    provider_round_trip_ms,
    receive_batch,
)
from bench.credentials import provision_credentials
from bench.provider_process import ProviderProcess
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from bench.stats import median
from local_stack.event_sources import sqs_event
from tests.support.lambdas import basic_auth

TARGET_RATIO = 1.5
MESSAGES_TABLE = "MessagesTable"
SENDER_FUNCTION = "SenderFunction"
ONE_VCPU_MB = 1769  # Lambda: one full vCPU at 1,769 MB, CPU share proportional to memory


class MotoCpu:
    """CPU time (thread time) spent inside moto's request handler, and the number of AWS calls it served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seconds = 0.0
        self.calls = 0
        self._original: Any = None

    def install(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        original = self._original = BotocoreStubber.process_request
        meter = self

        def process_request(stubber: Any, request: Any) -> Any:
            started = time.thread_time()
            try:
                return original(stubber, request)
            finally:
                spent = time.thread_time() - started
                with meter._lock:
                    meter.seconds += spent
                    meter.calls += 1

        BotocoreStubber.process_request = process_request  # type: ignore[method-assign]

    def uninstall(self) -> None:
        from moto.core.botocore_stubber import BotocoreStubber

        if self._original is not None:
            BotocoreStubber.process_request = self._original  # type: ignore[method-assign]

    def take(self) -> tuple[float, int]:
        with self._lock:
            taken = self.seconds, self.calls
            self.seconds, self.calls = 0.0, 0
        return taken


class MinimalSender:
    """The baseline: claim, provider call and final write per record, on a plain thread pool."""

    def __init__(self, aws: AwsSandbox, channels_secret: dict[str, Any]) -> None:
        self._dynamodb = aws.client("dynamodb")
        self._table = aws.local.refs[MESSAGES_TABLE]
        self._config = channels_secret
        self._session = requests.Session()  # as plain as it comes: the environment's proxy settings apply
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=BATCH_SIZE, max_retries=0)
        self._session.mount("http://", adapter)
        self._pool = ThreadPoolExecutor(max_workers=BATCH_SIZE, thread_name_prefix="minimal")

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        list(self._pool.map(self._send, event["Records"]))
        return {"batchItemFailures": []}

    def close(self) -> None:
        self._pool.shutdown()
        self._session.close()

    def _send(self, record: dict[str, Any]) -> None:
        message_uuid = json.loads(record["body"])["message_uuid"]
        token = uuid.uuid4().hex
        key = {"message_uuid": {"S": message_uuid}}
        claimed = self._dynamodb.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="SET #status = :sending, claim_token = :token ADD attempts :one",
            ConditionExpression="#status = :accepted",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":sending": {"S": "sending"}, ":accepted": {"S": "accepted"}, ":token": {"S": token}, ":one": {"N": "1"}
            },
            ReturnValues="ALL_NEW",
        )["Attributes"]
        provider_id = self._provider_call(claimed)
        self._dynamodb.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="SET #status = :submitted, provider_message_id = :id REMOVE claim_token",
            ConditionExpression="claim_token = :token",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":submitted": {"S": "submitted"}, ":id": {"S": provider_id}, ":token": {"S": token}},
            ReturnValues="ALL_NEW",
        )

    def _provider_call(self, item: dict[str, Any]) -> str:
        """The provider's send for the record's channel, in its wire format; its message id."""
        channel = item["channel"]["S"]
        sender, recipient = item["from"]["M"], item["to"]["M"]
        text = item["content"]["M"]["text"]["S"]
        if channel == "sms":
            sms = self._config["sms"]
            form = {"api_key": sms["api_key"], "api_secret": sms["api_secret"], "from": sender["number"]["S"],
                    "to": recipient["number"]["S"], "text": text}
            reply = self._post(f"{sms['api_base']}/sms/json", data=form)
            return str(reply["messages"][0]["message-id"])
        if channel == "messenger":
            messenger = self._config["messenger"]
            page = sender["id"]["S"]
            body = {"recipient": {"id": recipient["id"]["S"]}, "message": {"text": text}}
            url = f"{messenger['api_base']}/{messenger['api_version']}/me/messages"
            return str(self._post(url, json=body, params={"access_token": messenger["pages"][page]})["message_id"])
        viber = self._config["viber"]
        body = {"service_id": sender["id"]["S"], "dest": recipient["number"]["S"], "seq": 1, "message": {"text": text}}
        return str(self._post(f"{viber['api_base']}/send_message", json=body)["message_token"])

    def _post(self, url: str, **kwargs: Any) -> Any:
        response = self._session.post(url, timeout=(3, 10), **kwargs)
        response.raise_for_status()
        return response.json()


@dataclass
class CpuSamples:
    name: str
    send: Callable[[dict[str, Any], Any], Any]
    per_message_ms: list[float] = field(default_factory=list)  # CPU per message, one figure per batch
    aws_calls_per_message: list[float] = field(default_factory=list)

    def run_batch(self, event: dict[str, Any], context: Any, moto: MotoCpu, keep: bool) -> None:
        # moto's tables grow with every batch; frozen, they are not walked by collections during the
        # batch, which then cost what they cost in a function's own small heap.
        gc.collect()
        gc.freeze()
        moto.take()
        started = time.process_time()
        response = self.send(event, context)
        spent = time.process_time() - started
        in_moto, calls = moto.take()
        if (response or {}).get("batchItemFailures"):
            raise RuntimeError(f"{self.name}: batch item failures {response}")
        if keep:
            self.per_message_ms.append((spent - in_moto) * 1000 / BATCH_SIZE)
            self.aws_calls_per_message.append(calls / BATCH_SIZE)


def run(options: RunOptions) -> list[Measurement]:
    batches = options.pick(full=25, quick=5)
    moto = MotoCpu()
    with ProviderProcess(PROVIDER_DELAY_SECONDS) as provider, aws_sandbox(WITHOUT_PROVIDER_PACING) as aws, tempfile.TemporaryDirectory(
        prefix="bench-keys-"
    ) as key_dir, requests.Session() as session:
        session.trust_env = False
        aws.put_channels_secret(provider.channels_secret)
        credentials = provision_credentials(Path(key_dir))
        authorization = basic_auth(credentials.api_key, credentials.api_secret)
        api_function = aws.function_for_route("POST", "/v1/messages")
        api_handler = aws.load_handler(api_function)
        source = aws.consumer_of(OUTBOUND_QUEUE)
        sender_function = source.function
        memory_mb = aws.functions[sender_function].config.memory_mb
        sqs = aws.client("sqs")
        queue_url = aws.queue_url(OUTBOUND_QUEUE)
        minimal = MinimalSender(aws, provider.channels_secret)
        subjects = [CpuSamples("sender", aws.load_handler(sender_function)), CpuSamples("minimal", minimal)]
        round_trips_ms: list[float] = []
        progress(f"sender CPU: {batches} batches of {BATCH_SIZE} each through the sender and a minimal sender (+1 warm-up)")
        moto.install()
        try:
            with requests_unpatched():
                for batch_index in range(batches + 1):
                    shift = batch_index % len(subjects)
                    for subject in subjects[shift:] + subjects[:shift]:
                        accept_messages(aws, api_handler, api_function, authorization, BATCH_SIZE)
                        event = sqs_event(receive_batch(sqs, queue_url, BATCH_SIZE), source.queue_arn)
                        subject.run_batch(event, aws.context(sender_function), moto, keep=batch_index > 0)
                        aws.empty_queues()
                    round_trips_ms.append(provider_round_trip_ms(session, provider))
        finally:
            moto.uninstall()
            minimal.close()
            gc.unfreeze()
    sender, baseline = subjects
    return cpu_measurements(sender, baseline, median(round_trips_ms), memory_mb)


def lambda_batch_estimate_ms(cpu_per_message_ms: float, aws_calls_per_message: float, round_trip_ms: float, memory_mb: int) -> float:
    """A batch of 10 on Lambda at ``memory_mb``: the overlapped waits plus the CPU work at Lambda's CPU share."""
    waits = round_trip_ms + aws_calls_per_message * AWS_CALL_SECONDS * 1000
    return waits + cpu_per_message_ms * BATCH_SIZE * ONE_VCPU_MB / memory_mb


def cpu_measurements(sender: CpuSamples, minimal: CpuSamples, round_trip_ms: float, memory_mb: int) -> list[Measurement]:
    cpu, cpu_minimal = median(sender.per_message_ms), median(minimal.per_message_ms)
    calls, calls_minimal = median(sender.aws_calls_per_message), median(minimal.aws_calls_per_message)
    estimate = lambda_batch_estimate_ms(cpu, calls, round_trip_ms, memory_mb)
    estimate_minimal = lambda_batch_estimate_ms(cpu_minimal, calls_minimal, round_trip_ms, memory_mb)
    return [
        Measurement(
            name="sender_cpu.per_message",
            value=cpu,
            unit="ms",
            runs=len(sender.per_message_ms),
            baseline=cpu_minimal,
            target=TARGET_RATIO,
            note=f"CPU time (process time less moto's) per message in a batch of {BATCH_SIZE}, median of batches; "
            f"baseline: a minimal sender's claim, provider call and final write (plain boto3 + requests); AWS calls "
            f"per message {calls:g} (baseline {calls_minimal:g})",
        ),
        Measurement(
            name="sender_cpu.lambda_batch_of_10",
            value=estimate,
            unit="ms",
            runs=len(sender.per_message_ms),
            baseline=round_trip_ms,
            note=f"estimated batch wall time on Lambda at the template's {memory_mb} MB ({memory_mb / ONE_VCPU_MB:.2f} "
            f"vCPU): one provider round-trip + {calls:g} AWS calls x {AWS_CALL_SECONDS * 1000:.0f} ms + batch CPU x "
            f"{ONE_VCPU_MB}/{memory_mb}; the minimal sender: {estimate_minimal:.0f} ms",
        ),
    ]
