"""Webhook shapes on the local stack: an application that chose v1 gets v1 status and inbound bodies
(a long SMS reporting its part count once every part is delivered); a v0.1 client of the same
account with no choice of its own still gets the 2018 bodies. Every body is checked against its
JSON Schema (tests/contract/schemas) and its signature against the account's secret."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import replace
from typing import Any

import jwt
import pytest

from local_stack.child import ROOT
from local_stack.replay import load_webhook, local_stack_target, resign, send
from tests.support.stack import RunningStack
from tests.support.stack_requests import unique_msisdn, unique_text
from tests.support.webhook_checks import (
    POLL_INTERVAL_SECONDS,
    WEBHOOK_TIMEOUT_SECONDS,
    bearer_token,
    provider_reports_to,
    sink_base_url,
)
from tests.support.webhook_schemas import schema_errors

pytestmark = pytest.mark.integration

DELIVERED = "0004"  # the simulators' "delivered" recipient scenario
LONG_TEXT_PARTS = 3  # 400 GSM-7 characters: 153 + 153 + 94


def cli(stack: RunningStack, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args, "--local-dir", str(stack.local_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def received(stack: RunningStack, path: str, secret: str, match: dict[str, Any]) -> list[dict[str, Any]]:
    """Bodies the sink got at ``path`` whose fields include ``match``, each checked signed with ``secret``."""
    bodies = []
    for record in stack.webhooks():
        body = record["body"]
        if record["path"] != path or not isinstance(body, dict) or any(body.get(k) != v for k, v in match.items()):
            continue
        claims = jwt.decode(bearer_token(record), secret, algorithms=["HS256"], options={"verify_iat": False})
        assert claims["payload_hash"] == hashlib.sha256(record["raw_body"].encode("utf-8")).hexdigest()
        bodies.append(body)
    return bodies


def wait_for(
    stack: RunningStack, path: str, secret: str, match: dict[str, Any], status: str | None = None
) -> list[dict[str, Any]]:
    """``received`` once it has a body (with ``status``, when given)."""
    def found() -> list[dict[str, Any]] | None:
        bodies = received(stack, path, secret, match)
        if status is None:
            return bodies or None
        return bodies if any(body.get("status") == status for body in bodies) else None

    return stack.wait_for(
        found, timeout=WEBHOOK_TIMEOUT_SECONDS, interval=POLL_INTERVAL_SECONDS, what=f"webhooks at {path} with {match}"
    )


def test_a_v1_application_gets_v1_bodies_and_a_v0_1_client_still_gets_2018_ones(stack: RunningStack) -> None:
    sink = sink_base_url(stack)
    account = cli(stack, "accounts", "create", "--status-url", f"{sink}/hooks-2018/status")
    api_key, secret = account["api_key"], account["signature_secret"]
    app = cli(stack, "apps", "create", "--api-key", api_key, "--name", "v1 shop", "--webhook-version", "v1",
              "--status-url", f"{sink}/hooks-v1/status", "--inbound-url", f"{sink}/hooks-v1/inbound")
    number = cli(stack, "local", "add-sender", "--api-key", api_key, "--channel", "sms",
                 "--application-id", app["application_id"])["address"]
    token = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "jwt", "generate", "--application-id", app["application_id"],
         "--private-key", app["private_key_path"]],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.strip()

    # The application sends a long SMS through the 2018 (v0.1) API: its choice, v1, applies.
    recipient = unique_msisdn(DELIVERED)
    long_text = unique_text("v1 long") + " " + "x" * 380
    response = stack.post("/v0.1/messages", headers={"Authorization": f"Bearer {token}"}, json={
        "from": {"type": "sms", "number": number}, "to": {"type": "sms", "number": recipient},
        "message": {"content": {"type": "text", "text": long_text}},
    })
    assert response.status_code == 202, response.text
    v1_uuid = response.json()["message_uuid"]

    # The same account over Basic auth, no choice anywhere: a v0.1 request gets 2018 bodies.
    plain_recipient = unique_msisdn(DELIVERED)
    response = stack.post("/v0.1/messages", auth=(api_key, account["api_secret"]), json={
        "from": {"type": "sms", "number": number}, "to": {"type": "sms", "number": plain_recipient},
        "message": {"content": {"type": "text", "text": unique_text("plain")}},
    })
    assert response.status_code == 202, response.text
    plain_uuid = response.json()["message_uuid"]

    v1_bodies = wait_for(stack, "/hooks-v1/status", secret, {"message_uuid": v1_uuid}, status="delivered")
    assert [body["status"] for body in v1_bodies] == ["submitted", "delivered"]
    for body in v1_bodies:
        assert schema_errors("v1", "status", "sms", body) == [], body
        assert (body["to"], body["from"], body["channel"]) == (recipient, number, "sms")
        assert body["sms"] == {"count_total": str(LONG_TEXT_PARTS)}
        assert body["destination"] == {"network_code": "23410"}
    # Delivered only after a report for every part arrived.
    reports = [r for r in provider_reports_to(stack, recipient) if r.get("report") == "delivered"]
    assert len({r.get("message_id") for r in reports}) == LONG_TEXT_PARTS, reports
    view = stack.get(f"/v0.1/messages/{v1_uuid}", headers={"Authorization": f"Bearer {token}"}).json()
    assert view["status"] == "delivered"

    plain_bodies = wait_for(stack, "/hooks-2018/status", secret, {"message_uuid": plain_uuid}, status="delivered")
    assert [body["status"] for body in plain_bodies] == ["submitted", "delivered"]
    for body in plain_bodies:
        assert schema_errors("v0.1", "status", "sms", body) == [], body
        assert body["to"] == {"type": "sms", "number": plain_recipient}

    # An inbound SMS to the application's number: v1, as the application chose.
    sender = unique_msisdn()
    sample = load_webhook(ROOT / "events" / "webhooks_sms_inbound.json")
    data = json.loads(sample.body)
    data["msisdn"] = sender
    target = local_stack_target(stack.local_dir)
    from_sender = replace(sample, body=json.dumps(data).encode("utf-8"))
    signed = resign(from_sender, target.channels, new_ids=True, sms_number=number)
    assert send(signed, target.api_url).status == 200
    (inbound,) = wait_for(stack, "/hooks-v1/inbound", secret, {"from": sender})
    assert schema_errors("v1", "inbound", "sms", inbound) == [], inbound
    assert (inbound["channel"], inbound["to"], inbound["message_type"]) == ("sms", number, "text")
    assert inbound["text"] == "Hello world" and inbound["sms"]["num_messages"] == "1"
