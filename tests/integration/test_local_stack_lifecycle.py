"""Starting, stopping and restarting the local stack as a developer does: its own stacks, not the session's.

- a second start on a running stack's state directory or ports fails and changes nothing of it;
- a stop (Ctrl-C / SIGTERM) finishes the work under way, prints no traceback and saves the state;
- a restart restores it: the same demo credentials and key, old messages, other accounts, and the
  queued work (a failover timer) runs once, neither lost nor repeated.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from local_stack.child import ROOT, ChildStack, child_stack_process, free_port, stack_environment

pytestmark = pytest.mark.integration

STARTUP_TIMEOUT_SECONDS = 90
SECOND_START_TIMEOUT_SECONDS = 60
SETTLE_SECONDS = 60
DEMO_SMS_NUMBER = "447700900001"
DEMO_PAGE_ID = "107083064136738"
T = TypeVar("T")


def wait_for(predicate: Callable[[], T], what: str, timeout: float = SETTLE_SECONDS) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)


def session() -> requests.Session:
    s = requests.Session()
    s.trust_env = False
    return s


def sms(text: str, to: str = "447700900000") -> dict[str, Any]:
    return {"from": {"type": "sms", "number": DEMO_SMS_NUMBER}, "to": {"type": "sms", "number": to},
            "message": {"content": {"type": "text", "text": text}}}


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    records = []
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        try:
            records.append(json.loads(line))
        except ValueError:
            break
    return records


def sms_requests_by_message(local_dir: Path) -> dict[str, int]:
    """message uuid (the SMS ``client-ref``) -> how many times the SMS simulator accepted it."""
    counts: dict[str, int] = {}
    for record in read_jsonl(local_dir / "provider-requests.jsonl"):
        body = record.get("body")
        if record.get("provider") == "sms" and record.get("response_status") == 200 and isinstance(body, dict):
            ref = str(body.get("client-ref"))
            counts[ref] = counts.get(ref, 0) + 1
    return counts


def message_status(child: ChildStack, message_uuid: str) -> str | None:
    info = child.info
    response = session().get(
        f"{info['api_url']}/v1/messages/{message_uuid}", auth=(info["api_key"], info["api_secret"]), timeout=10
    )
    return response.json().get("status") if response.status_code == 200 else None


def run_second_start(local_dir: Path, http_port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "local_stack"],
        cwd=ROOT,
        env=stack_environment(local_dir, http_port),
        capture_output=True,
        text=True,
        timeout=SECOND_START_TIMEOUT_SECONDS,
    )


def fingerprint(local_dir: Path) -> dict[str, str]:
    """Every file of the state directory but the stack's own output log, by content hash."""
    return {
        str(path.relative_to(local_dir)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(local_dir.rglob("*"))
        if path.is_file() and path.name != "stack.log"
    }


def cli(local_dir: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args, "--local-dir", str(local_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def jwt_for(info: dict[str, Any]) -> str:
    from switchboard.provisioning import generate_jwt

    return generate_jwt(info["application_id"], Path(info["private_key_path"]).read_bytes())


def test_a_second_start_fails_and_changes_nothing_of_the_running_stack(tmp_path: Path) -> None:
    local_dir = tmp_path / "state"
    with child_stack_process(local_dir, STARTUP_TIMEOUT_SECONDS) as first:
        info = first.info
        api = session()
        accepted = api.post(f"{info['api_url']}/beta/messages", json=sms("before the second start"),
                            auth=(info["api_key"], info["api_secret"]), timeout=10)
        assert accepted.status_code == 202, accepted.text
        wait_for(lambda: read_jsonl(local_dir / "webhooks.jsonl"), "a webhook at the sink")
        time.sleep(3)  # the delivery report and its webhook, so the logs are quiet
        before = fingerprint(local_dir)
        port = int(info["api_url"].rsplit(":", 1)[1])

        same_ports = run_second_start(local_dir, port)
        other_ports = run_second_start(local_dir, free_port())
        other_dir = tmp_path / "other"
        same_port_other_dir = run_second_start(other_dir, port)

        for result in (same_ports, other_ports):
            assert result.returncode == 1
            assert "another local stack is running with its state in" in result.stderr
            assert f"pid {first.process.pid}" in result.stderr
            assert "Traceback" not in result.stderr
        assert same_port_other_dir.returncode == 1
        assert f"127.0.0.1:{port}" in same_port_other_dir.stderr and "in use" in same_port_other_dir.stderr
        assert not (other_dir / "stack.json").exists()

        assert fingerprint(local_dir) == before  # stack.json, outputs.json, demo-app.key, logs, ...
        # Everything that reads the state files still works against the first stack.
        again = api.post(f"{info['api_url']}/v0.1/messages", json=sms("after the second start"),
                         headers={"Authorization": f"Bearer {jwt_for(info)}"}, timeout=10)
        assert again.status_code == 202, again.text
        assert cli(local_dir, "accounts", "create")["api_key"]


def test_state_survives_a_restart_and_queued_work_runs_once(tmp_path: Path) -> None:
    local_dir = tmp_path / "state"
    with child_stack_process(local_dir, STARTUP_TIMEOUT_SECONDS, log_name="first.log") as first:
        info = first.info
        auth = (info["api_key"], info["api_secret"])
        api = session()
        sent = api.post(f"{info['api_url']}/beta/messages", json=sms("kept across a restart"), auth=auth, timeout=10)
        message_uuid = sent.json()["message_uuid"]
        wait_for(lambda: message_status(first, message_uuid) == "delivered", "the first message delivered")
        own = cli(local_dir, "accounts", "create")
        # A failover whose expiry timer is still in the queue when the stack stops: the Messenger
        # step is delivered but never read (0004), so the SMS step goes out when the timer fires.
        dispatch = api.post(f"{info['api_url']}/v0.1/dispatch", auth=auth, timeout=10, json={
            "template": "failover",
            "workflow": [
                {"from": {"type": "messenger", "id": DEMO_PAGE_ID}, "to": {"type": "messenger", "id": "5550000004"},
                 "message": {"content": {"type": "text", "text": "timer across a restart"}},
                 "failover": {"expiry_time": 20, "condition_status": "read"}},
                sms("the failover's second step"),
            ],
        })
        assert dispatch.status_code == 202, dispatch.text
        dispatch_uuid = dispatch.json()["dispatch_uuid"]
        time.sleep(3)
        assert first.stop() == 0
        output = first.output()
    assert "Traceback" not in output, output
    state_file = local_dir / "state.json"
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o600
    assert not (local_dir / "stack.json").exists()

    with child_stack_process(local_dir, STARTUP_TIMEOUT_SECONDS, log_name="second.log") as second:
        assert "State: restored 2 messages, 1 workflow, 2 accounts, 1 queued record" in second.output()
        for key in ("api_key", "api_secret", "signature_secret", "application_id", "private_key_path"):
            assert second.info[key] == info[key], key
        assert second.info["api_url"] != info["api_url"]  # new ports: the state does not depend on them
        api = session()
        assert message_status(second, message_uuid) == "delivered"
        jwt_lookup = api.get(f"{second.info['api_url']}/v1/messages/{message_uuid}",
                             headers={"Authorization": f"Bearer {jwt_for(info)}"}, timeout=10)
        assert jwt_lookup.status_code == 200
        unknown = f"{second.info['api_url']}/v1/messages/{uuid.uuid4()}"
        assert api.get(unknown, auth=(own["api_key"], own["api_secret"]), timeout=10).status_code == 404  # not 401

        def report() -> dict[str, Any] | None:
            body = api.get(f"{second.info['api_url']}/v0.1/dispatch/{dispatch_uuid}", auth=auth, timeout=10).json()
            return body if body.get("status") == "completed" else None

        finished = wait_for(report, "the failover to finish after the restart")
        assert [step["channel"] for step in finished["steps"]] == ["messenger", "sms"]
        sms_step = finished["steps"][1]["message_uuid"]
        wait_for(lambda: sms_requests_by_message(local_dir).get(sms_step), "the SMS step at the simulator")
        # The sink moved to a new port: the demo account's webhooks follow it.
        wait_for(
            lambda: [w for w in read_jsonl(local_dir / "webhooks.jsonl")
                     if w["body"].get("message_uuid") == sms_step and w["signature_valid"]],
            "the SMS step's status webhook at the new sink",
        )
        counts = sms_requests_by_message(local_dir)
        assert counts[message_uuid] == 1 and counts[sms_step] == 1
        messenger_sends = [r for r in read_jsonl(local_dir / "provider-requests.jsonl")
                           if r["provider"] == "messenger" and r["response_status"] == 200]
        assert len(messenger_sends) == 1


def test_a_stop_under_load_finishes_or_keeps_every_message_and_prints_no_traceback(tmp_path: Path) -> None:
    local_dir = tmp_path / "state"
    accepted: list[str] = []
    with child_stack_process(local_dir, STARTUP_TIMEOUT_SECONDS, log_name="first.log") as first:
        info = first.info
        auth = (info["api_key"], info["api_secret"])

        def send(i: int) -> None:
            try:
                response = session().post(f"{info['api_url']}/beta/messages", json=sms(f"load {i}"), auth=auth,
                                          timeout=10)
            except requests.RequestException:
                return  # the stack stopped listening: not accepted
            if response.status_code == 202:
                accepted.append(response.json()["message_uuid"])

        with ThreadPoolExecutor(4) as pool:
            for i in range(60):
                pool.submit(send, i)
                if i == 20:
                    wait_for(lambda: len(accepted) >= 10, "the first messages accepted")
                    first.process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = first.process.wait(30)
        except subprocess.TimeoutExpired:
            pytest.fail("the stack did not stop within 30 s of Ctrl-C; its output:\n" + first.output()[-5000:])
        output = first.output()
    assert code == 0, output
    assert "Traceback" not in output and "EndpointConnectionError" not in output, output
    assert accepted

    with child_stack_process(local_dir, STARTUP_TIMEOUT_SECONDS, log_name="second.log") as second:
        wait_for(
            lambda: all(message_status(second, m) in ("submitted", "delivered") for m in accepted),
            "every accepted message sent",
        )
        time.sleep(2)  # a record sent twice would show up by now
        counts = sms_requests_by_message(local_dir)
        assert {m: counts.get(m) for m in accepted} == {m: 1 for m in accepted}
