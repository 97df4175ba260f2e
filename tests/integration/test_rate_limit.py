"""The per-account rate limit on the running stack: an account set to 1 request per second by the CLI.

The account is made with the ``switchboard`` CLI (a child process, as a user would run it) and owns
the SMS number it sends from (a channel link), so its requests are valid ones. The limit's window is
one wall-clock second: requests are sent back to back until one lands in a second that already
counted one, which takes two requests unless the first was answered right at a second's end.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import requests

from tests.support.stack import ROOT, RunningStack
from tests.support.stack_requests import (
    NO_REPORT,
    SETTLE_TIMEOUT_SECONDS,
    assert_problem,
    unique_msisdn,
    unique_text,
)

RATE_LIMIT_TYPE = "https://developer.vonage.com/api-errors#rate-limit"
MAX_ATTEMPTS = 20
DEMO_RATE_LIMIT_PER_SECOND = 100_000  # local_stack.provision.DEMO_RATE_LIMIT_PER_SECOND


def cli(stack: RunningStack, *argv: str) -> dict[str, Any]:
    """``switchboard <argv> --local-dir <the stack's>``, in a child process; its JSON output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers"), str(ROOT)])}
    env.pop("AWS_ENDPOINT_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *argv, "--local-dir", str(stack.local_dir)],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def account_limited_to_one_per_second(stack: RunningStack) -> tuple[tuple[str, str], str]:
    """A new account's Basic auth and an SMS number linked to it; its limit is 1 request per second."""
    account = cli(stack, "accounts", "create")
    limited = cli(stack, "accounts", "set-rate-limit", "--api-key", account["api_key"], "--per-second", "1")
    assert limited == {"api_key": account["api_key"], "rate_limit_per_second": 1}
    number = unique_msisdn(NO_REPORT)
    cli(stack, "links", "create", "--api-key", account["api_key"], "--channel", "sms", "--address", number)
    return (account["api_key"], account["api_secret"]), number


def sms(sender: str, text: str) -> dict[str, Any]:
    return {"channel": "sms", "message_type": "text", "from": sender, "to": unique_msisdn(NO_REPORT), "text": text}


def send_until_refused(
    stack: RunningStack, auth: tuple[str, str], sender: str
) -> tuple[list[str], requests.Response, str]:
    """Send until the API answers 429: the accepted texts, the 429 response and the refused text."""
    accepted: list[str] = []
    for _ in range(MAX_ATTEMPTS):
        text = unique_text("rate limited")
        response = stack.post("/v1/messages", json=sms(sender, text), auth=auth)
        if response.status_code == 429:
            return accepted, response, text
        assert response.status_code == 202, response.text
        accepted.append(text)
    raise AssertionError(f"{MAX_ATTEMPTS} requests in a row at 1 per second were all accepted")


def test_an_account_over_its_limit_gets_429_and_others_do_not(stack: RunningStack) -> None:
    auth, number = account_limited_to_one_per_second(stack)
    other_auth, other_number = account_limited_to_one_per_second(stack)

    accepted, refused, refused_text = send_until_refused(stack, auth, number)
    # Straight after the refusal, in the same second as a rule: another account, and the demo account.
    other = stack.post("/v1/messages", json=sms(other_number, unique_text("other account")), auth=other_auth)
    demo = stack.post("/v1/messages", json=sms("447700900001", unique_text("demo account")), auth=stack.auth)

    problem = assert_problem(refused, 429, "Too Many Requests")
    assert problem["type"] == RATE_LIMIT_TYPE
    assert int(refused.headers["retry-after"]) >= 1
    assert accepted  # the account's first request of a second always goes through
    assert other.status_code == 202, other.text
    assert demo.status_code == 202, demo.text

    def sent_texts() -> set[str]:
        return {str(r["body"].get("text")) for r in stack.provider_requests() if r["provider"] == "sms"}

    stack.wait_for(lambda: set(accepted) <= sent_texts(), timeout=SETTLE_TIMEOUT_SECONDS, what="the accepted messages to be sent")
    assert refused_text not in sent_texts()


def test_the_demo_account_has_a_limit_the_tests_and_the_load_run_never_reach(stack: RunningStack) -> None:
    item = stack.boto3_client("dynamodb").get_item(
        TableName=stack.outputs()["AccountsTableName"], Key={"pk": {"S": f"account#{stack.api_key}"}}
    )["Item"]
    assert item["rate_limit_per_second"] == {"N": str(DEMO_RATE_LIMIT_PER_SECOND)}
