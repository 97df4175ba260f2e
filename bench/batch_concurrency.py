"""Measurement 3: one SQS batch of 10 records through the sender, against a provider answering after 100 ms.

The batch's wall time is reported as a multiple of one provider round-trip measured in the same
run (a keep-alive POST to the same slow provider). 1.0x is the physical limit (all ten sends at
once); sending one after another would be 10x. The records are real: ten messages (SMS, Messenger
and Viber) accepted by the API handler and received from the outbound queue, so the sender does
all its AWS work. The first batch warms the sender up and is discarded.

The targeted figure runs the real sender (batch processing, thread pool, channel adapters, HTTP to
the slow provider) with its AWS ports as in-memory stand-ins whose every call is a 5 ms wait, as a
DynamoDB or SQS round-trip is (the tests' fakes, ``tests.support.fakes``): that is what the sender's concurrency meets
in production. Its provider runs in a process of its own (``bench.provider_process``), as a real one
runs elsewhere: in this process its request parsing would compete with the sender for the
interpreter lock. Its round-trips, the figure's baseline, are measured between those batches.

The same batch with moto as AWS is reported beside it, for information. Unlike real AWS, a moto call
is CPU work under this interpreter's lock, so the batch's AWS calls run one after another there. To
tell that floor from the provider's share, moto batches alternate between the provider answering
after 100 ms and answering at once: the difference is what the provider's wait adds to a batch (at
most about 1x of a round-trip when the ten waits overlap; about 10x when the sends go one by one).
The provider also counts how many sends it has in flight at once.
"""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import requests

from bench.api_requests import (
    CHANNELS,
    DELIVERED_AND_READ,
    api_event,
    recipient,
    send_request,
    v1_message,
)
from bench.aws_sandbox import WITHOUT_PROVIDER_PACING, AwsSandbox, aws_sandbox, requests_unpatched
from bench.credentials import provision_credentials
from bench.provider_process import ProviderProcess
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from bench.slow_provider import SlowProvider
from bench.stats import median
from local_stack.event_sources import sqs_event
from local_stack.functions import Handler
from tests.support.lambdas import basic_auth

PROVIDER_DELAY_SECONDS = 0.1
BATCH_SIZE = 10
TARGET_RATIO = 1.5
OUTBOUND_QUEUE = "OutboundQueue"
ROUND_TRIPS_PER_BATCH = 3
AWS_CALL_SECONDS = 0.005  # a typical in-region DynamoDB / SQS round-trip


def accept_messages(aws: AwsSandbox, api_handler: Handler, api_function: str, authorization: str, count: int) -> None:
    routes = aws.routes
    for index in range(count):
        channel = CHANNELS[index % len(CHANNELS)]
        body = v1_message(channel, recipient(channel, DELIVERED_AND_READ, index), f"batch message {index}")
        response = api_handler(api_event(routes, send_request(body, authorization)), aws.context(api_function))
        if response.get("statusCode") != 202:
            raise RuntimeError(f"the API refused a benchmark message: {response}")


def receive_batch(sqs: Any, queue_url: str, size: int) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(50):
        if len(messages) >= size:
            break
        messages += sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=size - len(messages), MessageSystemAttributeNames=["All"]
        ).get("Messages", [])
    if len(messages) != size:
        raise RuntimeError(f"expected {size} queued messages, received {len(messages)}")
    return messages


def provider_round_trip_ms(session: requests.Session, provider: SlowProvider | ProviderProcess) -> float:
    form = {"api_key": "benchkey", "api_secret": "benchsecret", "from": "Acme", "to": "447700900000", "text": "x"}
    start = time.perf_counter()
    response = session.post(f"{provider.base_url}/sms/sms/json", data=form, timeout=10)
    elapsed = (time.perf_counter() - start) * 1000
    response.raise_for_status()
    return elapsed


def waits_batch_ms(
    provider: ProviderProcess, session: requests.Session, batches: int, queue_arn: str
) -> tuple[list[float], list[float]]:
    """Wall times of batches of 10 through the real sender, with AWS calls as waits (first one discarded),
    and provider round-trips measured between them."""
    import uuid

    # Imported here: the switchboard package reads its environment (set by the sandbox) at import.
    # The tests' in-memory ports, each call spent waiting AWS_CALL_SECONDS as a network round-trip is.
    from switchboard.adapters.providers import transport
    from switchboard.adapters.providers.registry import adapter_for
    from switchboard.adapters.sqs.outbound_queue import outbound_body
    from switchboard.composition import sender_function
    from switchboard.domain.outbox_markers import status_notification
    from switchboard.sender.outbound_sender import OutboundSender, SenderPolicy
    from switchboard.sender.send_handler import SendHandler
    from switchboard.validation import parse_flat
    from tests.support.fakes.message_records import FakeMessageRecords
    from tests.support.fakes.sender_ports import FakeContacts, FakeOutbox, NoMetrics, SpyQueue

    submitted_webhook = status_notification("submitted")  # one per send the provider accepted
    records = FakeMessageRecords(AWS_CALL_SECONDS)
    contacts, queue, outbox = FakeContacts(AWS_CALL_SECONDS), SpyQueue(call_seconds=AWS_CALL_SECONDS), FakeOutbox(AWS_CALL_SECONDS)
    policy = SenderPolicy(max_attempts=5, retry_base_seconds=2, max_receive_count=8)
    sender = OutboundSender(records, contacts, queue, adapter_for, policy, NoMetrics(), webhooks=outbox)
    config = provider.channels_secret
    # The deployed function's runner and provider HTTP: as many records at once as its SENDER_CONCURRENCY.
    settings = sender_function.settings()
    transport.configure(sender_function.provider_http(settings))
    handler = SendHandler(sender, lambda: config)
    runner = sender_function.sender_runner(settings.sender_concurrency)
    timings: list[float] = []
    round_trips: list[float] = []
    for batch_index in range(batches + 1):
        messages = []
        for index in range(BATCH_SIZE):
            channel = CHANNELS[index % len(CHANNELS)]
            body = v1_message(channel, recipient(channel, DELIVERED_AND_READ, index), f"waits batch {batch_index}.{index}")
            message_uuid = records.add(parse_flat(body))
            messages.append(
                {"MessageId": str(uuid.uuid4()), "ReceiptHandle": message_uuid, "Body": outbound_body(message_uuid),
                 "Attributes": {"ApproximateReceiveCount": "1"}, "MD5OfBody": ""}
            )
        published_before = len(outbox.published)
        start = time.perf_counter()
        response = handler.run(runner, sqs_event(messages, queue_arn), None)
        elapsed = (time.perf_counter() - start) * 1000
        submitted = sum(marker == submitted_webhook for _, marker in outbox.published[published_before:])
        if response.get("batchItemFailures") or submitted != BATCH_SIZE:
            raise RuntimeError(f"waits batch {batch_index}: {submitted} submitted, response {response}")
        if batch_index > 0:
            timings.append(elapsed)
        round_trips += [provider_round_trip_ms(session, provider) for _ in range(ROUND_TRIPS_PER_BATCH)]
    return timings, round_trips


def run(options: RunOptions) -> list[Measurement]:
    batches = options.pick(full=15, quick=5)
    waits_ms: list[float] = []
    batch_ms: dict[float, list[float]] = {PROVIDER_DELAY_SECONDS: [], 0.0: []}
    sends_in_flight: list[int] = []
    round_trips_ms: list[float] = []
    # Provider calls are not AWS's: they skip moto's patch of ``requests`` (its URL matcher), as in production.
    with SlowProvider(PROVIDER_DELAY_SECONDS) as provider, aws_sandbox(WITHOUT_PROVIDER_PACING) as aws, requests_unpatched(), \
            tempfile.TemporaryDirectory(prefix="bench-keys-") as key_dir, requests.Session() as session, \
            ProviderProcess(PROVIDER_DELAY_SECONDS) as remote_provider:
        session.trust_env = False
        aws.put_channels_secret(provider.channels_secret())
        credentials = provision_credentials(Path(key_dir))
        authorization = basic_auth(credentials.api_key, credentials.api_secret)
        api_function = aws.function_for_route("POST", "/v1/messages")
        api_handler = aws.load_handler(api_function)
        source = aws.consumer_of(OUTBOUND_QUEUE)
        sender = aws.load_handler(source.function)
        sqs = aws.client("sqs")
        queue_url = aws.queue_url(OUTBOUND_QUEUE)
        provider.delay_seconds = PROVIDER_DELAY_SECONDS
        progress(f"batch concurrency: {batches} batches of {BATCH_SIZE} with AWS calls as {AWS_CALL_SECONDS * 1000:.0f} ms waits")
        waits_ms, waits_round_trips_ms = waits_batch_ms(remote_provider, session, batches, source.queue_arn)
        progress(
            f"batch concurrency: {batches} batches of {BATCH_SIZE} with the provider answering after "
            f"{PROVIDER_DELAY_SECONDS * 1000:.0f} ms and {batches} answering at once (+1 warm-up)"
        )
        for batch_index in range(2 * batches + 1):
            delay = PROVIDER_DELAY_SECONDS if batch_index % 2 == 0 else 0.0
            accept_messages(aws, api_handler, api_function, authorization, BATCH_SIZE)
            messages = receive_batch(sqs, queue_url, BATCH_SIZE)
            event = sqs_event(messages, source.queue_arn)
            sent_before = sum(provider.requests.values())
            provider.delay_seconds = delay
            provider.reset_max_in_flight()
            start = time.perf_counter()
            response = sender(event, aws.context(source.function))
            elapsed = (time.perf_counter() - start) * 1000
            failures = (response or {}).get("batchItemFailures") or []
            sent = sum(provider.requests.values()) - sent_before
            if failures or sent != BATCH_SIZE:
                raise RuntimeError(f"batch {batch_index}: {sent} sends, failures {failures}")
            aws.empty_queues()  # the outbound records are done; the notify queue would only grow
            if batch_index > 0:
                batch_ms[delay].append(elapsed)
                if delay:
                    sends_in_flight.append(provider.max_in_flight)
            provider.delay_seconds = PROVIDER_DELAY_SECONDS
            round_trips_ms += [provider_round_trip_ms(session, provider) for _ in range(ROUND_TRIPS_PER_BATCH)]
    return concurrency_measurements(
        waits_ms, waits_round_trips_ms, batch_ms[PROVIDER_DELAY_SECONDS], batch_ms[0.0], round_trips_ms, sends_in_flight
    )


def concurrency_measurements(
    waits_batches_ms: list[float],
    waits_round_trips_ms: list[float],
    slow_batches_ms: list[float],
    instant_batches_ms: list[float],
    round_trips_ms: list[float],
    sends_in_flight: list[int],
) -> list[Measurement]:
    slow, instant, round_trip = median(slow_batches_ms), median(instant_batches_ms), median(round_trips_ms)
    return [
        Measurement(
            name="batch_concurrency.batch_of_10",
            value=median(waits_batches_ms),
            unit="ms",
            runs=len(waits_batches_ms),
            baseline=median(waits_round_trips_ms),
            target=TARGET_RATIO,
            note=f"median batch wall time / one provider round-trip ({len(waits_round_trips_ms)} samples; provider in "
            f"its own process), AWS calls as {AWS_CALL_SECONDS * 1000:.0f} ms waits; 1.0x = all sends in parallel, "
            "10x = one after another",
        ),
        Measurement(
            name="batch_concurrency.batch_of_10.moto",
            value=slow,
            unit="ms",
            runs=len(slow_batches_ms),
            baseline=round_trip,
            note="the same batch with moto as AWS: its calls are CPU under the interpreter lock, not waits",
        ),
        Measurement(
            name="batch_concurrency.batch_of_10.instant_provider",
            value=instant,
            unit="ms",
            runs=len(instant_batches_ms),
            note="the same batch with the provider answering at once: the AWS work (moto, CPU-bound here) and our code",
        ),
        Measurement(
            name="batch_concurrency.batch_of_10.provider_wait",
            value=slow - instant,
            unit="ms",
            runs=len(slow_batches_ms),
            baseline=round_trip,
            note="what the provider's wait adds to a batch: <= 1x when the ten waits overlap, ~10x if sent one by one",
        ),
        Measurement(
            name="batch_concurrency.batch_of_10.sends_in_flight",
            value=median(sends_in_flight),
            unit="sends",
            runs=len(sends_in_flight),
            note=f"most sends the provider had in flight at once in a batch, median (fewest {min(sends_in_flight)}, "
            f"at most {BATCH_SIZE})",
        ),
    ]
