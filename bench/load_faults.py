"""Measurement ``load_faults`` (``make bench-faults``): the load run with faults mixed in, judged by the providers' own log.

Run only when asked (``bench.measurements.OPT_IN``): most of its few minutes is waiting out the
queues' 180 s visibility timeout for records whose processing failed.

300 messages (120 with ``--quick``) over SMS, Messenger and Viber, 20 at a time, against a local
stack of our own started with DynamoDB write faults (``local_stack.aws_server.DynamoDBWriteFaults``):

- 5% to a ``0021`` recipient: the provider accepts, then answers after the read timeout;
- 2% to a ``0022`` recipient: the provider accepts, then resets the connection;
- 2% of every DynamoDB write of the functions fails as the caller sees it (SDK retries included),
  half before the write is applied and half after (the answer lost);
- the rest delivered normally.

Then it waits, as the load run does, until every accepted message is submitted or final, and
reports (each must be 0):

- **lost**: accepted (202) but never submitted or final;
- **duplicated**: provider acceptances beyond one per message (the simulators' log marks what
  they accepted, whatever the caller saw);
- **falsely final**: a final status the provider's log contradicts: sent (submitted, delivered,
  read) with no acceptance, or rejected/undeliverable although the provider accepted it, except
  the documented ``rejected`` 1030 "outcome unknown" (``docs/reliability.md``: the one final status
  that may be wrong, only towards "delivered once"), which is counted on its own row;
- **refused but sent**: a request answered other than 202 whose text a provider accepted anyway
  (a client retrying it would send it twice).

Requests the API refused under the faults (503 when a write failed) are counted, not judged: the
client was told. The faults are turned on only once the stack is up, so its own start-up is unhurt.
"""
from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from bench.api_requests import DELIVERED_AND_READ
from bench.load_run import (
    BATCH_GET_LIMIT,
    CONCURRENCY,
    MESSAGES_TABLE,
    STARTUP_TIMEOUT_SECONDS,
    Answer,
    PlannedMessage,
    Settling,
    burst_plan,
    require_loopback,
    send_burst,
    text_index,
    wait_until_settled,
)
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from local_stack.aws_server import FAULT_INJECTION_VARIABLE, FAULTS_PATH
from tests.support.stack import running_stack

SLOW_ACCEPT = "0021"
RESET_AFTER_ACCEPT = "0022"
DYNAMODB_WRITE_FAILURE_RATE = 0.02
FAULT_SEED = 11
SENT = frozenset({"submitted", "delivered", "read"})
FAILED = frozenset({"rejected", "undeliverable"})
OUTCOME_UNKNOWN_CODE = 1030
OUTCOME_UNKNOWN_PREFIX = "Internal error: outcome unknown"


def scenario_for(index: int) -> str:
    """5 in 100 slow-accept, 2 in 100 reset-after-accept, spread over the run (not in runs of one channel)."""
    slot = (index * 37) % 100
    if slot < 5:
        return SLOW_ACCEPT
    if slot < 7:
        return RESET_AFTER_ACCEPT
    return DELIVERED_AND_READ


def fault_plan(count: int) -> list[PlannedMessage]:
    return burst_plan(count, scenario_for)


@dataclass(frozen=True)
class FinalState:
    status: str
    text_index: int | None
    error_code: int | None
    error_reason: str

    @property
    def outcome_unknown(self) -> bool:
        return self.error_code == OUTCOME_UNKNOWN_CODE and self.error_reason.startswith(OUTCOME_UNKNOWN_PREFIX)


def final_states(client: Any, message_uuids: Sequence[str]) -> dict[str, FinalState]:
    """Status, text and error of the given messages (BatchGetItem, 100 at a time)."""
    found: dict[str, FinalState] = {}
    for start in range(0, len(message_uuids), BATCH_GET_LIMIT):
        keys = [{"message_uuid": {"S": u}} for u in message_uuids[start : start + BATCH_GET_LIMIT]]
        request: dict[str, Any] = {
            MESSAGES_TABLE: {
                "Keys": keys,
                "ProjectionExpression": "message_uuid, #s, content.#t, #e",
                "ExpressionAttributeNames": {"#s": "status", "#t": "text", "#e": "error"},
            }
        }
        while request:
            response = client.batch_get_item(RequestItems=request)
            for item in response.get("Responses", {}).get(MESSAGES_TABLE, []):
                error = item.get("error", {}).get("M", {})
                code = error.get("code", {}).get("N")
                found[item["message_uuid"]["S"]] = FinalState(
                    status=item.get("status", {}).get("S", ""),
                    text_index=text_index(item.get("content", {}).get("M", {}).get("text", {}).get("S", "")),
                    error_code=int(code) if code is not None else None,
                    error_reason=error.get("reason", {}).get("S", ""),
                )
            request = response.get("UnprocessedKeys") or {}
    return found


def acceptances(provider_requests: Iterable[dict[str, Any]]) -> Counter[int]:
    """How many requests each benchmark text had accepted by a provider (its log's ``accepted``)."""
    accepted: Counter[int] = Counter()
    for request in provider_requests:
        if request.get("accepted"):
            index = text_index(json.dumps(request.get("body"), ensure_ascii=False))
            if index is not None:
                accepted[index] += 1
    return accepted


@dataclass(frozen=True)
class Verdict:
    lost: list[str]
    duplicated: int
    falsely_final: list[str]
    outcome_unknown: int
    refused_but_sent: list[int]
    final: Counter[str]


def judge(answers: Sequence[Answer], states: dict[str, FinalState], accepted_by_provider: Counter[int]) -> Verdict:
    accepted = {a.message_uuid: a.index for a in answers if a.message_uuid}
    lost = [u for u in accepted if u not in states or states[u].status not in SENT | FAILED]
    falsely_final = []
    outcome_unknown = 0
    for message_uuid, index in accepted.items():
        state = states.get(message_uuid)
        if state is None:
            continue
        took = accepted_by_provider.get(index, 0)
        if state.status in SENT and took == 0:
            falsely_final.append(message_uuid)
        elif state.status in FAILED and state.outcome_unknown:
            outcome_unknown += 1
        elif state.status in FAILED and took > 0:
            falsely_final.append(message_uuid)
    duplicated = sum(max(0, accepted_by_provider.get(index, 0) - 1) for index in accepted.values())
    refused_but_sent = [a.index for a in answers if not a.message_uuid and accepted_by_provider.get(a.index, 0)]
    final = Counter(states[u].status if u in states else "missing" for u in accepted)
    return Verdict(lost, duplicated, falsely_final, outcome_unknown, refused_but_sent, final)


def set_faults(aws_endpoint_url: str, rate: float) -> dict[str, Any]:
    """Turn the stack's DynamoDB write faults to ``rate``; the counts so far."""
    require_loopback(aws_endpoint_url)
    response = requests.post(
        aws_endpoint_url + FAULTS_PATH, json={"dynamodb_write_failure_rate": rate, "seed": FAULT_SEED}, timeout=10
    )
    response.raise_for_status()
    return dict(response.json())


def run(options: RunOptions) -> list[Measurement]:
    count = options.pick(full=300, quick=120)
    settle_limit = options.pick(full=400, quick=300)
    plan = fault_plan(count)
    os.environ[FAULT_INJECTION_VARIABLE] = "1"  # this worker's stack only
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as state:
        progress("load faults: starting a local stack of our own with fault injection")
        with running_stack(Path(state), STARTUP_TIMEOUT_SECONDS) as stack:
            require_loopback(stack.api_url)
            set_faults(stack.aws_endpoint_url, DYNAMODB_WRITE_FAILURE_RATE)
            progress(f"load faults: {count} messages, {CONCURRENCY} at a time, {DYNAMODB_WRITE_FAILURE_RATE:.0%} DynamoDB writes failing")
            started = time.monotonic()
            answers, burst_seconds = send_burst(stack.api_url, stack.auth, plan)
            accepted = [a.message_uuid for a in answers if a.message_uuid]
            progress(f"load faults: {len(accepted)} accepted in {burst_seconds:.1f} s; waiting until they settle")
            settling = wait_until_settled(stack, accepted, time.monotonic() + settle_limit)
            settle_seconds = None if settling.settled_at is None else settling.settled_at - started
            injected = set_faults(stack.aws_endpoint_url, 0.0)
            progress(f"load faults: {settling.stopped_because} {time.monotonic() - started:.0f} s after the first request")
            states = final_states(stack.boto3_client("dynamodb"), accepted)
            provider_requests = stack.provider_requests()
    return fault_measurements(answers, settling, settle_seconds, states, acceptances(provider_requests), injected)


def fault_measurements(
    answers: Sequence[Answer],
    settling: Settling,
    settle_seconds: float | None,
    states: dict[str, FinalState],
    accepted_by_provider: Counter[int],
    injected: dict[str, Any],
) -> list[Measurement]:
    n = len(answers)
    verdict = judge(answers, states, accepted_by_provider)
    accepted = sum(1 for a in answers if a.message_uuid)
    refused = Counter(a.outcome for a in answers if a.message_uuid is None)
    faults = {k: v for k, v in injected.items() if k.startswith("failed_")}
    scenarios = Counter(scenario_for(a.index) for a in answers)
    mix = f"{scenarios[SLOW_ACCEPT]} slow-accept, {scenarios[RESET_AFTER_ACCEPT]} reset-after-accept"
    return [
        Measurement(
            name="load_faults.lost_messages",
            value=float(len(verdict.lost)),
            unit="messages",
            runs=accepted,
            target=0,
            note=f"accepted but never submitted or final ({settling.stopped_because}); states: {dict(sorted(verdict.final.items()))}",
        ),
        Measurement(
            name="load_faults.duplicate_provider_sends",
            value=float(verdict.duplicated),
            unit="sends",
            runs=accepted,
            target=0,
            note=f"{sum(accepted_by_provider.values())} provider acceptances for {accepted} accepted messages",
        ),
        Measurement(
            name="load_faults.falsely_final",
            value=float(len(verdict.falsely_final)),
            unit="messages",
            runs=accepted,
            target=0,
            note="final status contradicting the provider's log"
            + (f": {verdict.falsely_final[:5]}" if verdict.falsely_final else ""),
        ),
        Measurement(
            name="load_faults.refused_but_sent",
            value=float(len(verdict.refused_but_sent)),
            unit="requests",
            runs=n - accepted,
            target=0,
            note="requests not answered 202 whose text a provider accepted anyway",
        ),
        Measurement(
            name="load_faults.outcome_unknown_rejections",
            value=float(verdict.outcome_unknown),
            unit="messages",
            runs=accepted,
            note="rejected 1030 'outcome unknown' (documented: possibly delivered once, never twice)",
        ),
        Measurement(
            name="load_faults.api_refusals",
            value=float(sum(refused.values())),
            unit="requests",
            runs=n,
            note=f"answered other than 202 under the faults: {dict(refused)}" if refused else "none",
        ),
        Measurement(
            name="load_faults.injected",
            value=float(sum(faults.values())),
            unit="writes",
            runs=n,
            note=f"DynamoDB writes failed at {DYNAMODB_WRITE_FAILURE_RATE:.0%}: {faults}; messages: {mix}",
        ),
        Measurement(
            name="load_faults.time_to_settle",
            value=settle_seconds,
            unit="s",
            runs=accepted,
            note="from the first request until every accepted message was submitted or final"
            if settle_seconds is not None
            else f"did not settle: {settling.stopped_because}",
        ),
    ]
