"""``switchboard doctor`` against a local stack: healthy, then with one failure injected at a time.

The stack is this module's own (failures are injected into its channels secret, accounts and
dead-letter queue, which would disturb the suites sharing the session's stack); each test puts back
what it changed.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from local_stack.child import ROOT, StackNotHealthy
from tests.support.stack import RunningStack, running_stack

pytestmark = pytest.mark.integration

# The local functions keep the channels secret for 2 s (SECRETS_MAX_AGE_SECONDS on the local stack).
SECRET_CACHE_SECONDS = 2.5


@pytest.fixture(scope="module")
def doctor_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    try:
        with running_stack(tmp_path_factory.mktemp("doctor-stack")) as running:
            yield running
    except StackNotHealthy as exc:
        pytest.fail(str(exc))


def doctor(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "doctor", "--local-dir", str(stack.local_dir), *args],
        cwd=ROOT, capture_output=True, text=True, timeout=120, env=dict(os.environ),
    )


def doctor_json(stack: RunningStack) -> tuple[int, dict[str, dict[str, Any]]]:
    result = doctor(stack, "--json")
    report = json.loads(result.stdout)
    assert report["ok"] is (result.returncode == 0)
    return result.returncode, {check["name"]: check for check in report["checks"]}


def statuses(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {name: check["status"] for name, check in checks.items()}


@contextmanager
def channels_secret_changed(stack: RunningStack, change: Any) -> Iterator[dict[str, Any]]:
    secrets = stack.boto3_client("secretsmanager")
    secret_id = stack.outputs()["ChannelsSecretArn"]
    original = secrets.get_secret_value(SecretId=secret_id)["SecretString"]
    channels = json.loads(original)
    change(channels)
    secrets.put_secret_value(SecretId=secret_id, SecretString=json.dumps(channels))
    try:
        yield json.loads(original)
    finally:
        secrets.put_secret_value(SecretId=secret_id, SecretString=original)
        time.sleep(SECRET_CACHE_SECONDS)  # the functions read the restored secret before the next test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_healthy_local_stack_passes_every_check_and_exits_0(doctor_stack: RunningStack) -> None:
    result = doctor(doctor_stack)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "every check passed" in result.stdout
    code, checks = doctor_json(doctor_stack)
    assert code == 0
    assert statuses(checks) == {
        "api_https": "pass",
        "channels_secret": "pass",
        "provider_webhooks": "pass",
        "webhook_urls": "pass",
        "dead_letter_queues": "pass",
        "alarm_topic": "n/a",
    }
    assert "Messenger verify handshake answered" in checks["provider_webhooks"]["summary"]
    assert "signed SMS receipt accepted" in checks["provider_webhooks"]["summary"]


def test_an_empty_sms_signature_secret_fails_with_what_to_set(doctor_stack: RunningStack) -> None:
    with channels_secret_changed(doctor_stack, lambda channels: channels["sms"].update(signature_secret="")):
        code, checks = doctor_json(doctor_stack)
        text = doctor(doctor_stack).stdout

    assert code == 1
    assert checks["channels_secret"]["status"] == "fail"
    assert any("sms.signature_secret is empty" in fix for fix in checks["channels_secret"]["fixes"])
    assert checks["provider_webhooks"]["status"] == "fail"
    assert checks["api_https"]["status"] == "pass"
    assert "FAIL  channels_secret" in text and "fix: sms.signature_secret is empty" in text


def test_an_unknown_sms_signature_method_fails_with_the_methods_to_choose_from(doctor_stack: RunningStack) -> None:
    with channels_secret_changed(doctor_stack, lambda channels: channels["sms"].update(signature_method="sha3")):
        code, checks = doctor_json(doctor_stack)

    assert code == 1
    assert checks["channels_secret"]["status"] == "pass"
    [fix] = checks["provider_webhooks"]["fixes"]
    assert "unknown SMS signature method 'sha3'" in fix and "md5hash" in fix


def test_a_linked_page_without_a_token_fails_naming_the_page(doctor_stack: RunningStack) -> None:
    links = doctor_stack.boto3_client("dynamodb").scan(
        TableName=doctor_stack.outputs()["AccountsTableName"],
        FilterExpression="#kind = :link AND channel = :messenger",
        ExpressionAttributeNames={"#kind": "kind"},
        ExpressionAttributeValues={":link": {"S": "link"}, ":messenger": {"S": "messenger"}},
    )["Items"]
    page = links[0]["address"]["S"]

    with channels_secret_changed(doctor_stack, lambda channels: channels["messenger"]["pages"].pop(page)):
        code, checks = doctor_json(doctor_stack)

    assert code == 1
    assert checks["channels_secret"]["status"] == "fail"
    [fix] = checks["channels_secret"]["fixes"]
    assert f"messenger page {page}" in fix and "no page access token" in fix
    assert checks["provider_webhooks"]["status"] == "pass"


def test_an_unreachable_webhook_url_fails_naming_the_account(doctor_stack: RunningStack) -> None:
    dead_url = f"http://localhost:{free_port()}/status"  # in the local allowance; nothing listens there
    created = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "accounts", "create", "--status-url", dead_url,
         "--local-dir", str(doctor_stack.local_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )
    assert created.returncode == 0, created.stderr
    api_key = json.loads(created.stdout)["api_key"]
    try:
        code, checks = doctor_json(doctor_stack)
    finally:
        doctor_stack.boto3_client("dynamodb").delete_item(
            TableName=doctor_stack.outputs()["AccountsTableName"], Key={"pk": {"S": f"account#{api_key}"}}
        )

    assert code == 1
    assert checks["webhook_urls"]["status"] == "fail"
    [fix] = checks["webhook_urls"]["fixes"]
    assert f"account {api_key} status_url {dead_url}: unreachable" in fix
    assert doctor_json(doctor_stack)[0] == 0  # the account removed again: healthy


def test_a_message_in_a_dead_letter_queue_fails_the_dlq_check(doctor_stack: RunningStack) -> None:
    sqs = doctor_stack.boto3_client("sqs")
    dlq = doctor_stack.outputs()["NotifyDLQUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"doctor": "test"}))
    try:
        code, checks = doctor_json(doctor_stack)
    finally:
        sqs.purge_queue(QueueUrl=dlq)

    assert code == 1
    [fix] = checks["dead_letter_queues"]["fixes"]
    assert fix.startswith("NotifyDLQUrl holds 1 message(s)")


def test_no_local_stack_is_one_error_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "doctor", "--local-dir", str(tmp_path / "none")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )
    assert result.returncode == 1
    assert result.stderr.startswith("switchboard: error: the local stack is not running")
