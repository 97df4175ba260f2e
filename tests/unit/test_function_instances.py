"""Functions on instance processes: concurrent as Lambda's, one event each, warm between invocations."""

from __future__ import annotations

import io
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from local_stack.function_instances import FunctionInstances
from local_stack.functions import FunctionConfig, FunctionError, FunctionTimeout

HANDLER = '''
import os, time, json
STARTED = time.time()
calls = 0

def handler(event, context):
    global calls
    calls += 1
    print(json.dumps({"message": "handled", "service": os.environ["POWERTOOLS_SERVICE_NAME"]}))
    if event.get("fail"):
        raise ValueError("bad event")
    time.sleep(event.get("sleep", 0))
    return {"pid": os.getpid(), "calls": calls, "remaining_ms": context.get_remaining_time_in_millis(),
            "setting": os.environ.get("OWN_SETTING")}
'''


@pytest.fixture
def function(tmp_path: Path) -> Iterator[FunctionInstances]:
    (tmp_path / "app.py").write_text(HANDLER)
    config = FunctionConfig(
        name="EchoFunction",
        code_dir=tmp_path,
        handler="app.handler",
        memory_mb=128,
        timeout_seconds=2,
        environment={"POWERTOOLS_SERVICE_NAME": "echo", "OWN_SETTING": "mine"},
    )
    instances = FunctionInstances(config, max_instances=2)
    instances.start()
    yield instances
    instances.stop()


def test_an_instance_stays_warm_with_its_own_environment(function: FunctionInstances) -> None:
    first = function.invoke({})
    second = function.invoke({})
    assert first["pid"] == second["pid"]
    assert (first["calls"], second["calls"]) == (1, 2)
    assert first["setting"] == "mine"
    assert 0 < first["remaining_ms"] <= 2000


def test_concurrent_invocations_run_side_by_side_on_at_most_max_instances(function: FunctionInstances) -> None:
    results: list[dict] = []

    def invoke() -> None:
        results.append(function.invoke({"sleep": 0.5}))

    threads = [threading.Thread(target=invoke) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A second instance starts only while the first is busy: the events ran side by side, and the
    # cap held (four events, two instances, each took two in turn).
    assert len({r["pid"] for r in results}) == 2
    assert function.instances == 2


def test_a_handler_error_is_a_function_error_and_the_instance_stays(function: FunctionInstances) -> None:
    pid = function.invoke({})["pid"]
    with pytest.raises(FunctionError, match="ValueError: bad event"):
        function.invoke({"fail": True})
    assert function.invoke({})["pid"] == pid


def test_a_timed_out_instance_is_ended_and_the_next_invocation_gets_a_fresh_one(function: FunctionInstances) -> None:
    pid = function.invoke({})["pid"]
    with pytest.raises(FunctionTimeout):
        function.invoke({"sleep": 5})
    fresh = function.invoke({})
    assert fresh["pid"] != pid and fresh["calls"] == 1
    assert function.wait_until_idle(1.0)


def test_the_function_s_standard_output_reaches_this_process_s(function: FunctionInstances, monkeypatch) -> None:  # noqa: ANN001
    captured = io.StringIO()
    monkeypatch.setattr(sys, "stdout", captured)
    function.invoke({})
    deadline = time.monotonic() + 5
    while '"service": "echo"' not in captured.getvalue() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert '{"message": "handled", "service": "echo"}\n' in captured.getvalue()
