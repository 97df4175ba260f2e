"""Credentials over their lifetime against the running stack: the CLI changes them, the HTTP API obeys.

An account and its application are made with the ``switchboard`` CLI (as an operator would, in a
process of its own). Whether a credential is accepted is read from ``GET /v1/messages/<unknown
uuid>``: 404 once authenticated, 401 otherwise; the route sends nothing, so this needs no sender.
The local stack caches account records for ``AuthCacheTtlSeconds`` = 5 s, the documented bound
on how long a change may take to show.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from local_stack.stack import LOCAL_AUTH_CACHE_TTL_SECONDS
from local_stack.template import ROOT
from switchboard.provisioning import generate_jwt
from tests.support.stack import RunningStack

pytestmark = pytest.mark.integration

UNKNOWN_MESSAGE = "/v1/messages/00000000-0000-4000-8000-000000000000"
CACHE_TTL = float(LOCAL_AUTH_CACHE_TTL_SECONDS)
CLI_TIMEOUT_SECONDS = 60


def cli(stack: RunningStack, *args: str) -> dict[str, Any]:
    """``switchboard <args> --local-dir <the stack's>`` in its own process; its JSON output."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "layers"), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args, "--local-dir", str(stack.local_dir)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=CLI_TIMEOUT_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def basic(api_key: str, api_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()


def answer(stack: RunningStack, authorization: str) -> tuple[int, dict[str, Any]]:
    """The status of an authenticated lookup with ``authorization``, and its body without ``instance``."""
    response = stack.get(UNKNOWN_MESSAGE, headers={"Authorization": authorization})
    body = response.json()
    body.pop("instance", None)
    return response.status_code, body


def accepted(stack: RunningStack, authorization: str) -> bool:
    status, body = answer(stack, authorization)
    assert status in (401, 404), body
    return status == 404


@pytest.fixture
def account(stack: RunningStack, tmp_path: Path) -> dict[str, str]:
    created = cli(stack, "accounts", "create")
    app = cli(stack, "apps", "create", "--api-key", created["api_key"], "--name", "rotation",
              "--private-key-out", str(tmp_path / "app.key"))
    return {**created, "application_id": app["application_id"], "private_key": (tmp_path / "app.key").read_text()}


def test_a_rotated_secret_keeps_working_for_its_grace_period_then_stops(
    stack: RunningStack, account: dict[str, str]
) -> None:
    api_key, old_secret = account["api_key"], account["api_secret"]
    refusal = answer(stack, basic("deadbeef", "not-a-secret-00"))
    assert accepted(stack, basic(api_key, old_secret))  # the API function now caches the account
    grace = 4 * CACHE_TTL

    started = time.monotonic()  # the rotation happens after this, inside the CLI
    rotated = cli(stack, "accounts", "rotate-secret", "--api-key", api_key, "--grace-seconds", str(int(grace)))

    new_secret = rotated["api_secret"]
    stack.wait_for(lambda: accepted(stack, basic(api_key, new_secret)), timeout=CACHE_TTL + 5,
                   interval=0.2, what="the new secret to be accepted within the cache TTL")
    assert time.monotonic() - started < grace - 1  # so the next answer comes from inside the grace period
    assert accepted(stack, basic(api_key, old_secret))
    stack.wait_for(lambda: not accepted(stack, basic(api_key, old_secret)), timeout=grace + 10,
                   interval=0.2, what="the old secret to stop at the end of the grace period")
    assert time.monotonic() - started >= grace - 0.5  # not before the grace period ended
    assert answer(stack, basic(api_key, old_secret)) == refusal  # the same 401 as an unknown key
    assert accepted(stack, basic(api_key, new_secret))


def test_a_disabled_account_is_refused_on_basic_and_jwt_within_the_cache_ttl_until_enabled(
    stack: RunningStack, account: dict[str, str]
) -> None:
    api_key = account["api_key"]
    password = basic(api_key, account["api_secret"])

    def token() -> str:
        return "Bearer " + generate_jwt(account["application_id"], account["private_key"])

    refusal = answer(stack, basic("deadbeef", "not-a-secret-00"))
    assert accepted(stack, password) and accepted(stack, token())

    assert cli(stack, "accounts", "disable", "--api-key", api_key) == {"api_key": api_key, "disabled": True}
    stack.wait_for(lambda: not accepted(stack, password) and not accepted(stack, token()),
                   timeout=CACHE_TTL + 5, interval=0.2, what="the disabled account to be refused")
    assert answer(stack, password) == answer(stack, token()) == refusal

    assert cli(stack, "accounts", "enable", "--api-key", api_key) == {"api_key": api_key, "disabled": False}
    stack.wait_for(lambda: accepted(stack, password) and accepted(stack, token()),
                   timeout=CACHE_TTL + 5, interval=0.2, what="the enabled account to be accepted again")
