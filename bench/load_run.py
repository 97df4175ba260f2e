"""Measurement 5: a bounded burst against a local stack of our own, then wait until every message settles.

2,000 messages (200 with ``--quick``) over SMS, Messenger and Viber, 20 at a time, one in ten to a
``0005`` recipient (the provider fails twice, then accepts) and one in ten to a ``0006`` one
(throttled once), the rest delivered normally. Then the messages not yet ``submitted`` or final
are looked up until none is left, nothing has settled for ``STALL_SECONDS`` (longer than the
outbound queue's visibility timeout, after which a record whose invocation failed comes back), or
the run's time limit is reached. The lookups are kept cheap on purpose, because moto runs inside
the stack's process and a full-table scan would slow what it measures: each poll reads only the
oldest unsettled messages, 100 at a time (one BatchGetItem), moving on while they are all settled.

Reported: accepted per second over the burst, API latency p50/p99 (against the same stack's idle
latency: ``IDLE_REQUESTS`` sends one at a time before the burst, texts outside the burst's), time to settle (from the
first request), lost messages (accepted but never settled within the deadline) and duplicate
provider sends. Lost and duplicates must be 0.

Every request's text is unique ("bench load 00042"). Duplicates compare, per text, the providers'
acceptances (the simulators' request log) with the stored messages carrying that text: a provider
accepting a text more often than messages carry it is a repeated send. Requests whose message was
stored with another request's text are counted on their own ("crossed requests"): that is the API,
not the sender.

Traffic goes only to 127.0.0.1 (checked), the run is bounded, and the stack is stopped at the end.
"""
from __future__ import annotations

import json
import re
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.api_requests import (
    CHANNELS,
    DELIVERED_AND_READ,
    SEND_PATH,
    SERVER_ERROR_TWICE,
    THROTTLED_ONCE,
    recipient,
    v1_message,
)
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from bench.stats import percentile
from local_stack.child import LOOPBACK
from tests.support.stack import RunningStack, running_stack

CONCURRENCY = 20
STARTUP_TIMEOUT_SECONDS = 90
REQUEST_TIMEOUT_SECONDS = 30
SETTLE_POLL_SECONDS = 2.0
STALL_SECONDS = 200
BATCH_GET_LIMIT = 100
MESSAGES_TABLE = "MessagesTable"
SETTLED = frozenset({"submitted", "delivered", "read", "rejected", "undeliverable"})
TEXT_PREFIX = "bench load"
IDLE_REQUESTS = 20
IDLE_TEXT_PREFIX = "bench idle"
_TEXT_PATTERN = re.compile(re.escape(TEXT_PREFIX) + r" (\d{5})")


def require_loopback(url: str) -> None:
    """Refuse to send benchmark traffic anywhere but this machine's loopback address."""
    host = urlsplit(url).hostname
    if host != LOOPBACK:
        raise RuntimeError(f"refusing to send load to {url}: only {LOOPBACK} is allowed")


@dataclass(frozen=True)
class PlannedMessage:
    index: int
    body: dict[str, Any]


def scenario_for(index: int) -> str:
    """One in ten fails twice at the provider first, one in ten is throttled once, the rest go through."""
    return {3: SERVER_ERROR_TWICE, 7: THROTTLED_ONCE}.get(index % 10, DELIVERED_AND_READ)


def burst_plan(count: int, scenario: Callable[[int], str] = scenario_for) -> list[PlannedMessage]:
    """``count`` v1 messages round-robin over the channels, each to the simulator scenario ``scenario(index)``."""
    plan = []
    for index in range(count):
        channel = CHANNELS[index % len(CHANNELS)]
        to = recipient(channel, scenario(index), index)
        plan.append(PlannedMessage(index, v1_message(channel, to, f"{TEXT_PREFIX} {index:05d}")))
    return plan


@dataclass(frozen=True)
class Answer:
    index: int
    status: int  # 0: no HTTP answer
    latency_ms: float
    message_uuid: str | None
    failure: str = ""  # why there was no HTTP answer

    @property
    def outcome(self) -> str:
        return self.failure or f"HTTP {self.status}"


def send_burst(
    api_url: str, auth: tuple[str, str], plan: Sequence[PlannedMessage]
) -> tuple[list[Answer], float]:
    """Every planned message, ``CONCURRENCY`` at a time; the answers and the burst's wall time in seconds."""
    require_loopback(api_url)
    local = threading.local()
    sessions: list[requests.Session] = []
    lock = threading.Lock()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.trust_env = False
            with lock:
                sessions.append(local.session)
        return local.session

    def send(message: PlannedMessage) -> Answer:
        start = time.perf_counter()
        try:
            response = session().post(
                api_url + SEND_PATH, json=message.body, auth=auth, timeout=REQUEST_TIMEOUT_SECONDS
            )
        except requests.RequestException as exc:
            return Answer(message.index, 0, (time.perf_counter() - start) * 1000, None, type(exc).__name__)
        latency = (time.perf_counter() - start) * 1000
        message_uuid = response.json().get("message_uuid") if response.status_code == 202 else None
        return Answer(message.index, response.status_code, latency, message_uuid)

    start = time.perf_counter()
    pool = ThreadPoolExecutor(CONCURRENCY, thread_name_prefix="load")
    try:
        answers = list(pool.map(send, plan))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # on Ctrl-C: only the requests in flight finish
        for each in sessions:
            each.close()
    return answers, time.perf_counter() - start


def idle_latencies(api_url: str, auth: tuple[str, str], count: int = IDLE_REQUESTS) -> list[float]:
    """Milliseconds per send, one request at a time, on a stack with nothing else to do."""
    require_loopback(api_url)
    latencies = []
    with requests.Session() as session:
        session.trust_env = False
        for index in range(count):
            body = v1_message("sms", recipient("sms", DELIVERED_AND_READ, index), f"{IDLE_TEXT_PREFIX} {index:05d}")
            start = time.perf_counter()
            session.post(api_url + SEND_PATH, json=body, auth=auth, timeout=REQUEST_TIMEOUT_SECONDS).raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


@dataclass(frozen=True)
class StoredMessage:
    status: str
    text_index: int | None  # the benchmark index in the stored text


def _stored(item: dict[str, Any]) -> StoredMessage:
    text = item.get("content", {}).get("M", {}).get("text", {}).get("S", "")
    return StoredMessage(item.get("status", {}).get("S", ""), text_index(text))


def stored_messages(client: Any, message_uuids: Sequence[str]) -> dict[str, StoredMessage]:
    """Status and text of the given messages (BatchGetItem, 100 at a time)."""
    stored: dict[str, StoredMessage] = {}
    for start in range(0, len(message_uuids), BATCH_GET_LIMIT):
        keys = [{"message_uuid": {"S": u}} for u in message_uuids[start : start + BATCH_GET_LIMIT]]
        request: dict[str, Any] = {
            MESSAGES_TABLE: {
                "Keys": keys,
                "ProjectionExpression": "message_uuid, #s, content.#t",
                "ExpressionAttributeNames": {"#s": "status", "#t": "text"},
            }
        }
        while request:
            response = client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(MESSAGES_TABLE, []):
                stored[item["message_uuid"]["S"]] = _stored(item)
            request = response.get("UnprocessedKeys") or {}
    return stored


def text_index(text: str) -> int | None:
    match = _TEXT_PATTERN.search(text)
    return int(match.group(1)) if match else None


def unsettled(accepted: Iterable[str], stored: dict[str, StoredMessage]) -> list[str]:
    return [u for u in accepted if u not in stored or stored[u].status not in SETTLED]


@dataclass(frozen=True)
class Settling:
    stored: dict[str, StoredMessage]  # the last look at every accepted message
    settled_at: float | None  # monotonic time the last one settled; None if some never did
    stopped_because: str  # "settled", "stalled" or "time limit"


def wait_until_settled(stack: RunningStack, accepted: Sequence[str], deadline: float) -> Settling:
    require_loopback(stack.aws_endpoint_url)
    client = stack.boto3_client("dynamodb")
    stored: dict[str, StoredMessage] = {}
    pending = list(accepted)  # oldest first: the queue drains roughly in that order
    last_progress = time.monotonic()
    while True:
        before = len(pending)
        while pending:
            oldest = pending[:BATCH_GET_LIMIT]
            stored.update(stored_messages(client, oldest))
            still = unsettled(oldest, stored)
            pending = still + pending[BATCH_GET_LIMIT:]
            if still:
                break
        now = time.monotonic()
        if len(pending) < before:
            last_progress = now
        if not pending:
            return Settling(stored, now, "settled")
        if now - last_progress >= STALL_SECONDS:
            stored.update(stored_messages(client, pending))  # a last look at every one left
            return Settling(stored, None, "stalled")
        if now >= deadline:
            stored.update(stored_messages(client, pending))
            return Settling(stored, None, "time limit")
        time.sleep(SETTLE_POLL_SECONDS)


def provider_acceptances(provider_requests: Iterable[dict[str, Any]]) -> Counter[int]:
    """How many times a provider accepted (HTTP 200) each benchmark text, by its index.

    No benchmark recipient is refused outright, so a 200 is an acceptance.
    """
    accepted: Counter[int] = Counter()
    for request in provider_requests:
        if request.get("response_status") != 200:
            continue
        index = text_index(json.dumps(request.get("body"), ensure_ascii=False))
        if index is not None:
            accepted[index] += 1
    return accepted


def duplicate_sends(acceptances: Counter[int], stored_texts: Counter[int]) -> int:
    """Acceptances beyond the number of stored messages carrying each text."""
    return sum(max(0, count - stored_texts.get(index, 0)) for index, count in acceptances.items())


def crossed_requests(answers: Iterable[Answer], stored: dict[str, StoredMessage]) -> int:
    """Accepted requests whose message was stored with another request's text."""
    return sum(
        1
        for answer in answers
        if answer.message_uuid in stored and stored[answer.message_uuid].text_index != answer.index
    )


def run(options: RunOptions) -> list[Measurement]:
    count = options.pick(full=2000, quick=200)
    settle_limit = options.pick(full=600, quick=150)  # after the burst; the stall rule usually ends it first
    plan = burst_plan(count)
    with tempfile.TemporaryDirectory(prefix="bench-load-") as state:
        progress("load run: starting a local stack of our own on free ports")
        with running_stack(Path(state), STARTUP_TIMEOUT_SECONDS) as stack:
            require_loopback(stack.api_url)
            auth = stack.auth
            idle = idle_latencies(stack.api_url, auth)
            progress(f"load run: {count} messages, {CONCURRENCY} at a time")
            burst_started = time.monotonic()
            answers, burst_seconds = send_burst(stack.api_url, auth, plan)
            accepted = [a.message_uuid for a in answers if a.message_uuid]
            progress(f"load run: {len(accepted)} accepted in {burst_seconds:.1f} s; waiting until they settle")
            settling = wait_until_settled(stack, accepted, time.monotonic() + settle_limit)
            settle_seconds = None if settling.settled_at is None else settling.settled_at - burst_started
            progress(f"load run: {settling.stopped_because} {time.monotonic() - burst_started:.0f} s after the first request")
            provider_requests = stack.provider_requests()
    return load_measurements(answers, burst_seconds, settling, settle_seconds, provider_requests, idle)


def load_measurements(
    answers: Sequence[Answer],
    burst_seconds: float,
    settling: Settling,
    settle_seconds: float | None,
    provider_requests: Sequence[dict[str, Any]],
    idle_latencies_ms: Sequence[float] = (),
) -> list[Measurement]:
    n = len(answers)
    stored = settling.stored
    accepted = [a.message_uuid for a in answers if a.message_uuid]
    latencies = [a.latency_ms for a in answers]
    failed = Counter(a.outcome for a in answers if a.message_uuid is None)
    lost = unsettled(accepted, stored)
    final = Counter(stored[u].status if u in stored else "missing" for u in accepted)
    acceptances = provider_acceptances(provider_requests)
    stored_texts = Counter(
        stored[u].text_index for u in accepted if u in stored and stored[u].text_index is not None
    )
    crossed = crossed_requests(answers, stored)
    idle_p50 = percentile(idle_latencies_ms, 50) if idle_latencies_ms else None
    return [
        Measurement(
            name="load_run.accepted_per_second",
            value=len(accepted) / burst_seconds,
            unit="msg/s",
            runs=n,
            note=f"{len(accepted)} of {n} accepted in {burst_seconds:.1f} s at concurrency {CONCURRENCY}"
            + (f"; refused: {dict(failed)}" if failed else ""),
        ),
        *(
            [Measurement(
                name="load_run.api_latency.idle_p50", value=idle_p50, unit="ms", runs=len(idle_latencies_ms),
                note="the same stack before the burst, one request at a time",
            )]
            if idle_p50 is not None
            else []
        ),
        Measurement(
            name="load_run.api_latency.p50", value=percentile(latencies, 50), unit="ms", runs=n, baseline=idle_p50,
            note=f"at concurrency {CONCURRENCY}" + ("; ratio: to the same stack's idle p50" if idle_p50 else ""),
        ),
        Measurement(name="load_run.api_latency.p99", value=percentile(latencies, 99), unit="ms", runs=n),
        Measurement(
            name="load_run.time_to_settle",
            value=settle_seconds,
            unit="s",
            runs=len(accepted),
            note="from the first request until every accepted message was submitted or final"
            if settle_seconds is not None
            else f"did not settle: {settling.stopped_because}",
        ),
        Measurement(
            name="load_run.api_errors",
            value=float(sum(failed.values())),
            unit="requests",
            runs=n,
            note="requests not answered 202" + (f": {dict(failed)}" if failed else ""),
        ),
        Measurement(
            name="load_run.lost_messages",
            value=float(len(lost)),
            unit="messages",
            runs=len(accepted),
            target=0,
            note=f"accepted but never submitted or final ({settling.stopped_because}); "
            f"states: {dict(sorted(final.items()))}",
        ),
        Measurement(
            name="load_run.duplicate_provider_sends",
            value=float(duplicate_sends(acceptances, stored_texts)),
            unit="sends",
            runs=len(accepted),
            target=0,
            note=f"{sum(acceptances.values())} provider acceptances for {len(accepted)} accepted messages",
        ),
        Measurement(
            name="load_run.crossed_requests",
            value=float(crossed),
            unit="requests",
            runs=len(accepted),
            note="accepted requests whose message was stored with another concurrent request's content",
        ),
    ]
