"""Measurement 4: every AWS request one message causes over its whole life, and what it costs.

Messages go through ``bench.message_lifecycle`` with moto in this process; every AWS call is
recorded through botocore's hooks (``bench.aws_call_recorder``). Three passes:

- cold: one message through freshly loaded functions (empty caches: the first message a new
  Lambda environment handles);
- first contact: N more messages through the same functions, each to a number the Viber service
  has not written to before (the sender records the contact);
- warm: N more messages to the same N numbers, now known contacts. The per-message figures come
  from this pass; ``aws_requests.first_contact_extra`` is what a new contact adds.

Then ``bench.whatsapp_window`` counts what the WhatsApp customer service window adds: a write per
inbound WhatsApp message, a read per free-form WhatsApp send (``aws_requests.whatsapp_window.*``).

The event source mapping's requests (ReceiveMessage that found messages, DeleteMessageBatch) are
counted, shared by the records of a batch; its idle polls are not (they cost per hour, not per
message). Batches are as full as they get here (every message waits when the queue is drained),
the cheapest case. Lambda duration is the handler's wall time here (moto in process, simulators on
localhost): real AWS and provider latency come on top. The per-account rate limit's counter write
(one UpdateItem per send request, ``switchboard.api.rate_limit``) is counted with the rest and
shown on its own row.
"""
from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.aws_call_recorder import AwsCall, AwsCallRecorder, MotoItems
from bench.aws_sandbox import aws_sandbox
from bench.message_lifecycle import EVENT_SOURCE_MAPPING, STAGES, Invocation, MessageLifecycle, PassResult
from bench.pricing import (
    DYNAMODB_PER_MILLION_WRITE_UNITS,
    PRICE_REGION,
    PRICES_AS_OF,
    LambdaUsage,
    MessageUsage,
    cost_per_million,
)
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from bench.stats import median
from bench.whatsapp_window import CONTACTS_TABLE, window_rows
from bench.template_functions import FunctionSpec

PRIVATE_WEBHOOK_HOSTS_PARAMETER = "AllowedPrivateWebhookHosts"
RATE_LIMIT_TABLE = "RateLimitTable"  # the template's per-account request counters
# Issue 13's targets for one Viber message lifecycle (accept, send, three receipts and webhooks).
TARGET_REQUESTS = 16  # including the per-account rate limit's counter write
TARGET_REQUESTS_WITHOUT_RATE_LIMIT = 15
TARGET_WRITE_UNITS_WITHOUT_RATE_LIMIT = 9
COLD_PASS_SERIAL = 999  # the cold pass writes to a number the other passes do not
TARGET_RECORD_BYTES = 1023  # under 1 KB: every write to the record costs one write unit


@dataclass(frozen=True)
class OperationCount:
    service: str
    operation: str
    per_message: float
    by_stage: dict[str, float]  # stage name (without the pass label) -> calls per message
    by_caller: dict[str, float]


def counted(calls: Iterable[AwsCall], stage_keys: set[str]) -> list[AwsCall]:
    """The calls of the given stages, idle polls left out."""
    return [c for c in calls if c.stage in stage_keys and not c.found_nothing]


def stage_name(stage_key: str) -> str:
    return stage_key.split(":", 1)[1]


def count_operations(calls: Iterable[AwsCall], messages: int) -> list[OperationCount]:
    totals: dict[tuple[str, str], int] = defaultdict(int)
    stages: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    callers: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for call in calls:
        key = (call.service, call.operation)
        totals[key] += 1
        stages[key][stage_name(call.stage)] += 1
        callers[key][call.caller] += 1
    return [
        OperationCount(
            service,
            operation,
            count / messages,
            {k: v / messages for k, v in stages[(service, operation)].items()},
            {k: v / messages for k, v in callers[(service, operation)].items()},
        )
        for (service, operation), count in sorted(totals.items())
    ]


def lambda_usage(
    invocations: Iterable[Invocation], stage_keys: set[str], messages: int, specs: Mapping[str, FunctionSpec]
) -> tuple[LambdaUsage, ...]:
    count: dict[str, int] = defaultdict(int)
    billed: dict[str, int] = defaultdict(int)
    for each in invocations:
        if each.stage in stage_keys:
            count[each.function] += 1
            billed[each.function] += each.billed_ms
    return tuple(
        LambdaUsage(
            function=name,
            invocations=count[name] / messages,
            billed_ms=billed[name] / messages,
            memory_mb=specs[name].config.memory_mb,
            architecture=specs[name].architecture,
        )
        for name in sorted(count)
    )


def message_usage(
    calls: Sequence[AwsCall], lambdas: tuple[LambdaUsage, ...], http_api_requests: float, messages: int
) -> MessageUsage:
    return MessageUsage(
        http_api_requests=http_api_requests,
        lambda_usage=lambdas,
        sqs_requests=sum(1 for c in calls if c.service == "sqs") / messages,
        dynamodb_write_units=sum(c.write_units for c in calls) / messages,
        dynamodb_read_units=sum(c.read_units for c in calls) / messages,
        secrets_manager_calls=sum(1 for c in calls if c.service == "secretsmanager") / messages,
    )


def _breakdown(parts: Mapping[str, float]) -> str:
    return ", ".join(f"{name} {value:.3g}" for name, value in sorted(parts.items(), key=lambda kv: -kv[1]))


def rate_limit_counter_row(calls: Sequence[AwsCall], messages: int, table: str) -> Measurement:
    """The per-account rate limit's own share of the counted calls: its counter writes per message."""
    counter = [c for c in calls if c.service == "dynamodb" and c.table == table]
    units = sum(c.write_units for c in counter) / messages
    operations = _breakdown({op: n / messages for op, n in _group_count(counter, lambda c: c.operation).items()})
    return Measurement(
        name="aws_requests.rate_limit_counter",
        value=len(counter) / messages,
        unit="calls",
        runs=messages,
        note=f"per-account rate limit on {table}: {operations or 'no calls'}; {units:.3g} write units, "
        f"{units * DYNAMODB_PER_MILLION_WRITE_UNITS:.3g} USD per million messages (in the totals)",
    )


def lifecycle_measurements(
    cold: PassResult,
    warm: PassResult,
    calls: Sequence[AwsCall],
    invocations: Sequence[Invocation],
    specs: Mapping[str, FunctionSpec],
    rate_limit_table: str = RATE_LIMIT_TABLE,
    first_contact: PassResult | None = None,
) -> list[Measurement]:
    n = warm.messages
    warm_calls = counted(calls, warm.stage_keys)
    scope = f"stages measured: {', '.join(STAGES)}"
    counter_calls = [c for c in warm_calls if c.service == "dynamodb" and c.table == rate_limit_table]
    rows = [
        Measurement(
            name="aws_requests.per_message",
            value=len(warm_calls) / n,
            unit="calls",
            runs=n,
            target=TARGET_REQUESTS,
            note=f"Viber message to a known contact, warm functions, rate-limit counter included; {scope}",
        ),
        Measurement(
            name="aws_requests.per_message_without_rate_limit",
            value=(len(warm_calls) - len(counter_calls)) / n,
            unit="calls",
            runs=n,
            target=TARGET_REQUESTS_WITHOUT_RATE_LIMIT,
            note="as above, without the per-account rate limit's counter write",
        ),
    ]
    for stage in STAGES:
        result = warm.stages[stage]
        stage_calls = [c for c in warm_calls if c.stage == warm.stage_key(stage)]
        callers = {k: v / n for k, v in _group_count(stage_calls, lambda c: c.caller).items()}
        rows.append(
            Measurement(
                name=f"aws_requests.stage.{stage}",
                value=len(stage_calls) / n,
                unit="calls",
                runs=n,
                note="; ".join([f"by {_breakdown(callers)}" if callers else "no AWS calls", *result.remarks]),
            )
        )
    for op in count_operations(warm_calls, n):
        rows.append(
            Measurement(
                name=f"aws_requests.{op.service}.{op.operation}",
                value=op.per_message,
                unit="calls",
                runs=n,
                note=f"{_breakdown(op.by_stage)} | {_breakdown(op.by_caller)}",
            )
        )
    rows.append(rate_limit_counter_row(warm_calls, n, rate_limit_table))
    rows.append(_units_row("write_units", [c.write_units for c in warm_calls], n, warm_calls, "write_units"))
    counter_units = sum(c.write_units for c in counter_calls) / n
    rows.append(
        Measurement(
            name="aws_requests.dynamodb.write_units_without_rate_limit",
            value=sum(c.write_units for c in warm_calls) / n - counter_units,
            unit="units",
            runs=n,
            target=TARGET_WRITE_UNITS_WITHOUT_RATE_LIMIT,
            note=f"the message's own write units (the rate-limit counter's {counter_units:.3g} left out)",
        )
    )
    rows.append(_units_row("read_units", [c.read_units for c in warm_calls], n, warm_calls, "read_units"))
    if warm.record_bytes:
        rows.append(
            Measurement(
                name="aws_requests.dynamodb.message_record_size",
                value=median(warm.record_bytes),
                unit="bytes",
                runs=len(warm.record_bytes),
                target=TARGET_RECORD_BYTES,
                note="a message record at the end of its life; each write costs 1 unit per started KB of the record",
            )
        )
    rows += cold_container_rows(cold, warm, calls)
    if first_contact is not None:
        rows += first_contact_rows(first_contact, warm, calls)

    lambdas = lambda_usage(invocations, warm.stage_keys, n, specs)
    http_api = sum(s.http_api_requests for s in warm.stages.values()) / n
    usage = message_usage(warm_calls, lambdas, http_api, n)
    for item, dollars in cost_per_million(usage).items():
        rows.append(
            Measurement(
                name=f"aws_requests.cost_per_million.{item}",
                value=dollars,
                unit="USD",
                runs=n,
                note=_cost_note(item, usage, scope),
                detail=item != "total",
            )
        )
    for each in lambdas:
        rows.append(
            Measurement(
                name=f"aws_requests.lambda.{each.function}",
                value=each.billed_ms,
                unit="ms",
                runs=n,
                note=f"billed ms per message over {each.invocations:.3g} invocations "
                f"({each.memory_mb} MB, {each.architecture})",
                detail=True,
            )
        )
    return rows


def _group_count(calls: Iterable[AwsCall], key: object) -> dict[str, int]:
    grouped: dict[str, int] = defaultdict(int)
    for call in calls:
        grouped[key(call)] += 1  # type: ignore[operator]
    return dict(grouped)


def _units_row(label: str, units: Sequence[float], n: int, calls: Sequence[AwsCall], attribute: str) -> Measurement:
    by_operation: dict[str, float] = defaultdict(float)
    for call in calls:
        by_operation[call.operation] += getattr(call, attribute) / n
    spent = _breakdown({operation: value for operation, value in by_operation.items() if value}) or "none"
    return Measurement(
        name=f"aws_requests.dynamodb.{label}",
        value=sum(units) / n,
        unit="units",
        runs=n,
        note=f"on-demand {label.replace('_', ' ')} per message: {spent}",
    )


def _calls_per_operation(calls: Iterable[AwsCall], messages: int) -> dict[str, float]:
    """``service.operation`` -> calls per message."""
    grouped: dict[str, float] = defaultdict(float)
    for call in calls:
        grouped[f"{call.service}.{call.operation}"] += 1 / messages
    return grouped


def _extra_calls(subject: Mapping[str, float], reference: Mapping[str, float]) -> dict[str, float]:
    """What ``subject`` calls per message beyond ``reference``, each operation that differs by 0.05 or more."""
    extra = {op: subject.get(op, 0) - reference.get(op, 0) for op in set(subject) | set(reference)}
    return {op: value for op, value in extra.items() if abs(value) >= 0.05}


def cold_container_rows(cold: PassResult, warm: PassResult, calls: Sequence[AwsCall]) -> list[Measurement]:
    """What the first message in fresh functions costs beyond a warm one (the event source mapping left out)."""

    def by_operation(result: PassResult) -> dict[str, float]:
        own = (c for c in counted(calls, result.stage_keys) if c.caller != EVENT_SOURCE_MAPPING)
        return _calls_per_operation(own, result.messages)

    extra = _extra_calls(by_operation(cold), by_operation(warm))
    return [
        Measurement(
            name="aws_requests.first_message_extra",
            value=sum(extra.values()),
            unit="calls",
            runs=cold.messages,
            note=f"first message in fresh functions vs a warm one: {_breakdown(extra) or 'none'}",
        )
    ]


def first_contact_rows(first: PassResult, warm: PassResult, calls: Sequence[AwsCall]) -> list[Measurement]:
    """What a message to a number the Viber service never wrote to costs beyond one to a known contact."""
    first_calls, warm_calls = counted(calls, first.stage_keys), counted(calls, warm.stage_keys)
    extra = _extra_calls(
        _calls_per_operation(first_calls, first.messages), _calls_per_operation(warm_calls, warm.messages)
    )
    units = sum(c.write_units for c in first_calls) / first.messages - sum(c.write_units for c in warm_calls) / warm.messages
    return [
        Measurement(
            name="aws_requests.first_contact_extra",
            value=sum(extra.values()),
            unit="calls",
            runs=first.messages,
            note=f"a message to a new Viber contact vs a known one: {_breakdown(extra) or 'none'}; "
            f"{units:.3g} more write units",
        )
    ]


def _cost_note(item: str, usage: MessageUsage, scope: str) -> str:
    per_message = {
        "http_api": f"{usage.http_api_requests:.3g} requests",
        "lambda_requests": f"{sum(u.invocations for u in usage.lambda_usage):.3g} invocations",
        "lambda_duration": f"{sum(u.gb_seconds for u in usage.lambda_usage) * 1000:.3g} GB-ms (handler wall time here)",
        "sqs": f"{usage.sqs_requests:.3g} requests",
        "dynamodb_writes": f"{usage.dynamodb_write_units:.3g} write units",
        "dynamodb_reads": f"{usage.dynamodb_read_units:.3g} read units",
        "secrets_manager": f"{usage.secrets_manager_calls:.3g} calls",
    }
    if item == "total":
        return f"USD per million messages at {PRICE_REGION} on-demand prices of {PRICES_AS_OF}; {scope}"
    return f"per message: {per_message[item]}"


def run(options: RunOptions) -> list[Measurement]:
    from local_stack.provision import link_demo_channels, provision_demo
    from local_stack.simulators import ProviderSimulators
    from local_stack.sink import WebhookSink

    messages = options.pick(full=50, quick=10)
    recorder = AwsCallRecorder()
    recorder.install()
    with tempfile.TemporaryDirectory(prefix="bench-lifecycle-") as state:
        state_dir = Path(state)
        simulators = ProviderSimulators(state_dir)
        sink = WebhookSink(state_dir, signature_secrets=list)
        simulators.start()
        sink.start()
        try:
            overrides = {PRIVATE_WEBHOOK_HOSTS_PARAMETER: f"{sink.host}:{sink.port}"}
            with aws_sandbox(overrides) as aws:
                recorder.items = MotoItems(region="us-east-1")
                secret = simulators.channels_secret()
                aws.put_channels_secret(secret)
                demo = provision_demo(
                    sink.url("/webhooks/inbound"), sink.url("/webhooks/status"), state_dir / "demo.key"
                )
                link_demo_channels(demo)
                lifecycle = MessageLifecycle(aws, recorder, demo, secret, lambda: sink.received)
                recorder.recording = True
                progress("aws requests: the first message through fresh functions")
                cold = lifecycle.run(1, "cold", first_serial=COLD_PASS_SERIAL)
                progress(f"aws requests: {messages} messages to new contacts")
                first_contact = lifecycle.run(messages, "first_contact")
                progress(f"aws requests: {messages} messages to the same, now known, contacts")
                warm = lifecycle.run(messages, "warm")
                progress(f"aws requests: the WhatsApp window of {messages} customers (inbound, then a reply)")
                window = window_rows(lifecycle, recorder, aws.local.refs[CONTACTS_TABLE], messages)
                recorder.recording = False
                return window + lifecycle_measurements(
                    cold,
                    warm,
                    recorder.calls(),
                    lifecycle.invocations,
                    aws.functions,
                    aws.local.refs[RATE_LIMIT_TABLE],
                    first_contact=first_contact,
                )
        finally:
            recorder.uninstall()
            sink.stop()
            simulators.stop()
