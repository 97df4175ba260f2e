"""Customer webhook receivers misbehaving, in real time on the shared local stack.

Each message is sent with a v1 ``webhook_url`` on ``localhost`` (the local stack's local-only
allowance), served by a receiver this test scripts. The retry schedule runs for real (5 s, then
10 s), so this is the short path: a receiver answering 5xx for two rounds, one refusing
connections until the test brings it back, and one redirecting to another local host. The
24-hour schedule, the DLQ and slow receivers are proven on an injected clock in
``tests/unit/test_webhook_receivers.py``. Last, a given-up webhook is listed and replayed from the
NotifyDLQ with ``switchboard dlq`` as an operator runs it.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import RunningStack
from tests.support.stack_requests import SendRequest, lookup, post_messages, unique_msisdn, unique_text
from tests.support.webhook_receiver import Answer, WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
SMS_SENDER = "447700900001"
# Two failed rounds (5 s and 10 s apart) plus the queues' round trips on a busy machine.
SCHEDULE_TIMEOUT_SECONDS = 60.0


@pytest.fixture(scope="module")
def receivers() -> Iterator[dict[str, WebhookReceiver]]:
    internal = WebhookReceiver().start()  # where the redirect points: never to be called
    started = {
        "failing": WebhookReceiver(lambda n, body: Answer(500 if n <= 2 else 200)).start(),
        "down": WebhookReceiver().start(),
        "redirecting": WebhookReceiver(
            lambda n, body: Answer(307, location=internal.url()) if n == 1 else Answer(200)
        ).start(),
        "internal": internal,
    }
    started["down"].stop()  # connection refused until the test brings it back
    yield started
    for receiver in started.values():
        receiver.stop()


@pytest.fixture(scope="module")
def sent(stack: RunningStack, receivers: dict[str, WebhookReceiver]) -> dict[str, str]:
    """One SMS per misbehaving receiver (never reported on: its one webhook is ``submitted``)."""
    names = ["failing", "down", "redirecting"]
    requests_to_send = [
        SendRequest(
            "/v1/messages",
            {
                "to": unique_msisdn(),
                "from": SMS_SENDER,
                "channel": "sms",
                "message_type": "text",
                "text": unique_text(f"receiver {name}"),
                "webhook_url": receivers[name].url(host="localhost"),
            },
        )
        for name in names
    ]
    return dict(zip(names, post_messages(stack, requests_to_send)))


def webhook_attempts(stack: RunningStack, message_uuid: str) -> list[dict[str, Any]]:
    return lookup(stack, message_uuid).get("webhook_attempts", [])


def wait_until_delivered(stack: RunningStack, message_uuid: str) -> list[dict[str, Any]]:
    def delivered() -> list[dict[str, Any]] | None:
        attempts = webhook_attempts(stack, message_uuid)
        return attempts if any(a["outcome"] == "delivered" for a in attempts) else None

    return stack.wait_for(delivered, timeout=SCHEDULE_TIMEOUT_SECONDS, interval=0.5, what=f"{message_uuid}'s webhook")


def submitted_webhooks(receiver: WebhookReceiver, message_uuid: str) -> list[int]:
    """What the receiver answered to each copy of the message's ``submitted`` webhook."""
    return [r.status for r in receiver.received if json.loads(r.body)["message_uuid"] == message_uuid]


def test_a_receiver_answering_5xx_for_two_rounds_gets_the_webhook_on_the_third(stack, receivers, sent) -> None:
    attempts = wait_until_delivered(stack, sent["failing"])

    assert [(a["attempt"], a["outcome"], a.get("http_status"), a.get("next_retry_in")) for a in attempts] == [
        (1, "failed", 500, 5),
        (2, "failed", 500, 10),
        (3, "delivered", 200, None),
    ]
    assert submitted_webhooks(receivers["failing"], sent["failing"]) == [500, 500, 200]


def test_a_receiver_that_was_down_gets_the_webhook_once_it_is_back(stack, receivers, sent) -> None:
    uuid = sent["down"]
    stack.wait_for(
        lambda: len(webhook_attempts(stack, uuid)) >= 2, timeout=SCHEDULE_TIMEOUT_SECONDS, interval=0.5,
        what="two refused attempts",
    )
    receivers["down"].start()  # the same port

    attempts = wait_until_delivered(stack, uuid)

    *refused, delivered = attempts  # at least two rounds refused (more when the other tests ran first)
    assert len(refused) >= 2 and delivered["outcome"] == "delivered"
    assert {(a["outcome"], a["error"]) for a in refused} == {("failed", "connection error")}
    assert [a["next_retry_in"] for a in refused] == [5, 10, 20, 40, 80][: len(refused)]
    assert submitted_webhooks(receivers["down"], uuid) == [200]


def test_a_redirect_is_not_followed_and_the_webhook_is_retried(stack, receivers, sent) -> None:
    attempts = wait_until_delivered(stack, sent["redirecting"])

    assert [(a["outcome"], a.get("http_status"), a.get("error")) for a in attempts] == [
        ("failed", 307, "redirect not followed"), ("delivered", 200, None),
    ]
    assert submitted_webhooks(receivers["redirecting"], sent["redirecting"]) == [307, 200]
    assert receivers["internal"].received == []


def test_no_receiver_got_a_webhook_again_after_answering_2xx(stack, receivers, sent) -> None:
    for name, uuid in sent.items():
        wait_until_delivered(stack, uuid)
        answered = submitted_webhooks(receivers[name], uuid)
        assert answered[-1] == 200 and answered.count(200) == 1, name
        assert webhook_attempts(stack, uuid)[-1]["outcome"] == "delivered"


def switchboard_cli(stack: RunningStack, *argv: str) -> subprocess.CompletedProcess[str]:
    """The CLI as an operator runs it, against the shared stack's state directory."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers"), str(ROOT)])}
    env.pop("AWS_ENDPOINT_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *argv, "--local-dir", str(stack.local_dir)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )


def test_a_given_up_webhook_is_listed_and_redriven_from_the_dlq_with_the_cli(stack) -> None:
    receiver = WebhookReceiver().start()
    try:
        message_uuid = str(uuid.uuid4())
        given_up = {
            "kind": "status", "message_uuid": message_uuid, "notification": "status:submitted",
            "body": {"message_uuid": message_uuid, "status": "submitted", "timestamp": "2026-09-21T14:13:20.000Z"},
            "target": {"api_key": stack.api_key, "url_kind": "status", "webhook_url": receiver.url(host="localhost")},
            "attempt": 103, "first_attempt_at": time.time() - 25 * 3600, "gave_up_at": "2026-09-22T14:13:20.000Z",
        }
        sqs = stack.boto3_client("sqs")
        sqs.send_message(QueueUrl=stack.outputs()["NotifyDLQUrl"], MessageBody=json.dumps(given_up))

        listed = switchboard_cli(stack, "dlq", "list", "--queue", "NotifyDLQ", "--max", "50", "--json")
        assert listed.returncode == 0, listed.stderr
        (notify,) = json.loads(listed.stdout)["dead_letter_queues"]
        summaries = [m["summary"] for m in notify["messages"]]
        assert {"kind": "status", "message_uuid": message_uuid, "webhook": "status:submitted", "api_key": stack.api_key,
                "attempt": 103, "gave_up_at": "2026-09-22T14:13:20.000Z"} in summaries

        native = switchboard_cli(stack, "dlq", "redrive", "--queue", "NotifyDLQ", "--method", "native")
        assert native.returncode == 1 and "has no StartMessageMoveTask; use --method copy" in native.stderr

        redriven = switchboard_cli(stack, "dlq", "redrive", "--queue", "NotifyDLQ", "--json")
        assert redriven.returncode == 0, redriven.stderr
        (report,) = json.loads(redriven.stdout)["redriven"]
        assert report["method"] == "copy" and report["moved"] >= 1 and report["failed"] == 0

        stack.wait_for(lambda: receiver.answered_2xx(), timeout=SCHEDULE_TIMEOUT_SECONDS, what="the redriven webhook")
        time.sleep(2)  # nothing else follows
        assert [json.loads(r.body)["message_uuid"] for r in receiver.received] == [message_uuid]
    finally:
        receiver.stop()
