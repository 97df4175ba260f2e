"""Each function's log lines and metrics carry its own name and service, also when functions run at
once in one process (the local stack), and the local terminal shows them one short line each."""

from __future__ import annotations

import io
import json
import sys
import textwrap
import threading
import uuid
from pathlib import Path

import pytest

from local_stack.terminal_log import ConsoleRouter, ShortFormatter, short_line
from local_stack.functions import FunctionConfig, LocalFunction, import_handler

HANDLER = textwrap.dedent(
    """
    import time

    from switchboard.observability import ContextExecutor, logger, metrics, new_metrics

    pool = ContextExecutor(2)


    def shared_step(i):  # shared layer code: it logs through the module-level logger
        logger.info("shared step", extra={"step": i})


    @logger.inject_lambda_context
    @metrics.log_metrics
    def handler(event, context):
        for i in range(event["steps"]):
            logger.info("own step", extra={"step": i})
            pool.submit(shared_step, i).result()  # on another thread
            metrics.add_metric(name="steps", unit="Count", value=1)
            time.sleep(0.002)
        tally = new_metrics()
        tally.add_metric(name="batches", unit="Count", value=1)
        tally.flush_metrics()
        return {}
    """
)
STEPS = 15
INVOCATIONS = 4


def load(tmp_path: Path, name: str, service: str) -> LocalFunction:
    code_dir = tmp_path / name
    code_dir.mkdir()
    (code_dir / "app.py").write_text(HANDLER)
    config = FunctionConfig(
        name=name,
        code_dir=code_dir,
        handler="app.handler",
        memory_mb=128,
        timeout_seconds=30,
        environment={"POWERTOOLS_SERVICE_NAME": service, "POWERTOOLS_METRICS_NAMESPACE": "Test"},
    )
    return LocalFunction(name, import_handler(config), config.memory_mb, config.timeout_seconds)


def read_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_concurrent_functions_each_log_and_count_under_their_own_name_and_service(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    terminal = io.StringIO()
    router = ConsoleRouter(terminal, tmp_path / "logs")
    monkeypatch.setattr(sys, "stdout", router)  # where the functions' Loggers write, as in the local stack
    run = uuid.uuid4().hex[:8]
    services = {"AlphaFunction": f"alpha-{run}", "BetaFunction": f"beta-{run}"}
    functions = [load(tmp_path, name, service) for name, service in services.items()]
    start = threading.Barrier(len(functions) * 2)

    def invoke(function: LocalFunction) -> None:
        start.wait()
        for _ in range(INVOCATIONS):
            function.invoke({"steps": STEPS})

    threads = [threading.Thread(target=invoke, args=(f,)) for f in functions for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    for name, service in services.items():
        lines = read_lines(tmp_path / "logs" / f"{name}.jsonl")
        assert len(lines) == 2 * INVOCATIONS * STEPS * 2  # "own step" and "shared step", from two threads each
        assert {(line["function_name"], line["service"]) for line in lines} == {(name, service)}
        assert {line["message"] for line in lines} == {"own step", "shared step"}
        assert len({line["function_request_id"] for line in lines}) == 2 * INVOCATIONS
    metric_docs = read_lines(tmp_path / "logs" / "metrics.jsonl")
    steps = {doc["service"]: 0.0 for doc in metric_docs}
    for doc in metric_docs:
        steps[doc["service"]] += sum(doc.get("steps", []))  # EMF: the values added, as a list
    assert steps == {service: 2 * INVOCATIONS * STEPS for service in services.values()}
    batches = sorted(doc["service"] for doc in metric_docs if "batches" in doc)
    assert batches == sorted([*services.values()] * 2 * INVOCATIONS)

    shown = terminal.getvalue().splitlines()
    assert len(shown) == 2 * 2 * INVOCATIONS * STEPS * 2
    assert all(line.split()[1] in services for line in shown)
    assert all(len(line) < 120 for line in shown)


def test_a_log_line_reads_as_one_short_line_and_points_at_its_traceback(tmp_path: Path) -> None:
    record = {
        "level": "ERROR",
        "message": "outbound record processing failed",
        "timestamp": "2026-12-05 07:04:52,440+0000",
        "service": "switchboard-sender",
        "function_name": "SenderFunction",
        "correlation_id": "502829ca-9c70-4c98-b4ac-7c5a0e294455",
        "channel": "sms",
        "cold_start": False,
        "function_arn": "arn:aws:lambda:us-east-1:123456789012:function:SenderFunction",
        "exception": "Traceback (most recent call last):\n  File x\nValueError: bad record",
        "exception_name": "ValueError",
    }
    line = short_line(record, "SenderFunction", tmp_path / "SenderFunction.jsonl")
    assert line == (
        "07:04:52 SenderFunction    ERROR outbound record processing failed  "
        "id=502829ca-9c70-4c98-b4ac-7c5a0e294455 channel=sms  "
        f"(ValueError: bad record; traceback in {tmp_path / 'SenderFunction.jsonl'})"
    )


def test_the_router_passes_other_output_through_and_files_lines_of_unknown_functions(tmp_path: Path) -> None:
    terminal = io.StringIO()
    router = ConsoleRouter(terminal, tmp_path)
    router.name_services({"switchboard-local-stack": "local-stack"})
    router.write("Switchboard local stack is ready.\n{not json\n")
    router.write('{"level":"INFO","message":"demo provisioned","timestamp":"2026-12-05 07:00:00,000+0000",')
    router.write('"service":"switchboard-local-stack"}\n')
    router.write('{"level":"INFO","message":"x","timestamp":"t","service":"nobody"}\n')
    assert terminal.getvalue().splitlines()[:2] == ["Switchboard local stack is ready.", "{not json"]
    assert "local-stack       demo provisioned" in terminal.getvalue()
    assert read_lines(tmp_path / "local-stack.jsonl")[0]["message"] == "demo provisioned"
    assert read_lines(tmp_path / "other.jsonl")[0]["service"] == "nobody"


def test_the_stacks_own_records_share_the_layout() -> None:
    import logging

    record = logging.LogRecord("local_stack.event_sources", logging.WARNING, __file__, 1, "batch of %d failed", (3,), None)
    formatted = ShortFormatter().format(record)
    assert formatted.endswith(" event_sources     WARNING batch of 3 failed")
