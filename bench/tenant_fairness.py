"""Tenant fairness on the shared queues: a quiet account's message while another account bursts.

On a local stack of our own, a second account (made with the ``switchboard`` CLI, with its own SMS
sender id) sends one SMS at a time and waits until it is ``submitted`` (accepted by the API, queued,
sent by the sender): first with the stack idle, then while the demo account bursts 2,000 messages
(300 with ``--quick``, 20 at a time, as the load run does). Reported: the quiet account's median
latency in both phases and their ratio, the figure that says whether one tenant's backlog holds
another's message behind it. The outbound queue's messages carry the account as ``MessageGroupId``
(an SQS fair queue); the local stack's moto receives in the fair queues' order
(``local_stack.fair_queues``). Without that the quiet message would wait for the whole backlog.

Traffic goes only to 127.0.0.1 and the stack is stopped at the end.
"""
from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.api_requests import DELIVERED_AND_READ, SEND_PATH
from bench.load_run import (
    STARTUP_TIMEOUT_SECONDS,
    burst_plan,
    require_loopback,
    send_burst,
    stored_messages,
)
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from bench.stats import percentile
from tests.support.stack import ROOT, RunningStack, running_stack

QUIET_SENDER_ID = "Quiet"
QUIET_MESSAGES = 10
SUBMITTED = frozenset({"submitted", "delivered", "read"})
POLL_SECONDS = 0.05
SETTLE_TIMEOUT_SECONDS = 120.0
# The burst must have built a backlog before the quiet account sends.
BACKLOG_HEAD_START_SECONDS = 10.0


def _cli(stack: RunningStack, *argv: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *argv, "--local-dir", str(stack.local_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    )
    return json.loads(done.stdout) if done.stdout.strip().startswith("{") else {}


def quiet_account(stack: RunningStack) -> tuple[str, str]:
    """Basic auth of a second account with its own SMS sender id."""
    account = _cli(stack, "accounts", "create")
    _cli(stack, "links", "create", "--api-key", account["api_key"], "--channel", "sms", "--address", QUIET_SENDER_ID)
    return account["api_key"], account["api_secret"]


def submitted_after(
    stack: RunningStack, session: requests.Session, auth: tuple[str, str], serial: int
) -> tuple[float, float]:
    """(seconds until the API answered 202, seconds until the record was submitted or later) for one SMS."""
    body = {
        "to": f"447700{serial % 1000:03d}{DELIVERED_AND_READ}",
        "from": QUIET_SENDER_ID,
        "channel": "sms",
        "message_type": "text",
        "text": f"quiet tenant {serial}",
    }
    client = stack.boto3_client("dynamodb")
    started = time.perf_counter()
    response = session.post(stack.api_url + SEND_PATH, json=body, auth=auth, timeout=30)
    response.raise_for_status()
    answered = time.perf_counter() - started
    message_uuid = response.json()["message_uuid"]
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        stored = stored_messages(client, [message_uuid]).get(message_uuid)
        if stored is not None and stored.status in SUBMITTED:
            return answered, time.perf_counter() - started
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"the quiet account's message {message_uuid} was not submitted in {SETTLE_TIMEOUT_SECONDS:.0f} s")


def quiet_latencies(stack: RunningStack, auth: tuple[str, str], first_serial: int) -> list[tuple[float, float]]:
    with requests.Session() as session:
        session.trust_env = False
        return [submitted_after(stack, session, auth, first_serial + i) for i in range(QUIET_MESSAGES)]


def run(options: RunOptions) -> list[Measurement]:
    count = options.pick(full=2000, quick=300)
    with tempfile.TemporaryDirectory(prefix="bench-fairness-") as state:
        progress("tenant fairness: starting a local stack of our own on free ports")
        with running_stack(Path(state), STARTUP_TIMEOUT_SECONDS) as stack:
            require_loopback(stack.api_url)
            quiet = quiet_account(stack)
            progress(f"tenant fairness: {QUIET_MESSAGES} messages of a quiet account, stack idle")
            idle = quiet_latencies(stack, quiet, 0)
            progress(f"tenant fairness: the demo account bursts {count}; the quiet account sends meanwhile")
            burst = threading.Thread(target=send_burst, args=(stack.api_url, stack.auth, burst_plan(count)), daemon=True)
            burst.start()
            time.sleep(BACKLOG_HEAD_START_SECONDS)
            busy = quiet_latencies(stack, quiet, QUIET_MESSAGES)
            still_bursting = burst.is_alive()
            burst.join()
    return fairness_measurements(idle, busy, count, still_bursting)


def fairness_measurements(
    idle: list[tuple[float, float]], busy: list[tuple[float, float]], burst: int, still_bursting: bool
) -> list[Measurement]:
    """Both phases' medians; the burst rows carry the idle figure as their baseline (the ratio column)."""
    during = "during" if still_bursting else "after (the burst ended before the quiet sends did)"

    def p50(samples: list[tuple[float, float]], part: int) -> float:
        values = [s[1] - s[0] if part == 0 else s[1] for s in samples]
        return percentile(values, 50) * 1000

    rows = []
    for part, subject, what in (
        (0, "queue_wait", "from the API's 202 until submitted (the outbound queue and the sender)"),
        (1, "end_to_end", "from the API request until submitted"),
    ):
        idle_ms = p50(idle, part)
        rows += [
            Measurement(
                name=f"tenant_fairness.{subject}.idle_p50", value=idle_ms, unit="ms", runs=len(idle),
                note=f"a second account's SMS, {what}, on the idle stack",
            ),
            Measurement(
                name=f"tenant_fairness.{subject}.burst_p50", value=p50(busy, part), unit="ms", runs=len(busy),
                baseline=idle_ms,
                note=f"the same, {during} the demo account's burst of {burst} (20 at a time); ratio: to idle",
            ),
        ]
    return rows
