"""The console served by the session's local stack: its data endpoints and actions against the real functions."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.support.stack import RunningStack

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("local_stack")]

SMS_FROM = "447700900001"  # the demo number, linked to the demo application
SETTLE_SECONDS = 60


def msisdn(suffix: str) -> str:
    return "44" + "".join(secrets.choice("0123456789") for _ in range(9)) + suffix


def send(stack: RunningStack, body: dict[str, Any]) -> str:
    response = stack.post("/v1/messages", json=body, auth=stack.auth)
    assert response.status_code == 202, response.text
    return response.json()["message_uuid"]


def console(stack: RunningStack, path: str, **kwargs: Any) -> dict[str, Any]:
    response = stack.get(f"/_console/api{path}", **kwargs)
    assert response.status_code == 200, response.text
    return response.json()


def act(stack: RunningStack, message_uuid: str, action: str, body: dict[str, Any]) -> dict[str, Any]:
    response = stack.post(f"/_console/api/messages/{message_uuid}/{action}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def lookup_status(stack: RunningStack, message_uuid: str) -> str:
    return stack.get(f"/v1/messages/{message_uuid}", auth=stack.auth).json()["status"]


def test_the_banner_names_the_console_and_the_gateway_answers_it_before_the_catch_all(stack: RunningStack) -> None:
    assert re.search(rf"Console\s+{re.escape(stack.api_url)}/_console/", stack.output())

    page = stack.get("/_console/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "<title>Switchboard console</title>" in page.text
    # Only the console's own prefix: a neighbouring path still goes to the template's routes.
    neighbour = stack.get("/_consoles")
    assert "<!doctype html>" not in neighbour.text
    assert "apigw-requestid" in neighbour.headers


def test_a_retried_message_shows_every_provider_call_with_its_answer(stack: RunningStack) -> None:
    to = msisdn("0005")  # the simulator answers 500 twice, then accepts
    uuid = send(stack, {"channel": "viber_service", "message_type": "text", "from": "16273", "to": to,
                        "text": f"retried {secrets.token_hex(4)}"})

    detail = stack.wait_for(
        lambda: (d := console(stack, f"/messages/{uuid}"))["provider_message_id"] and d,
        timeout=SETTLE_SECONDS, interval=0.5, what="the message to be submitted",
    )

    calls = detail["provider_exchanges"]
    assert [c["response_status"] for c in calls] == [500, 500, 200]
    assert [c["matched_by"] for c in calls] == ["recipient, content and time"] * 2 + ["provider message id"]
    assert calls[0]["response_body"]["status_message"] == "SRVC_INTERNAL_FAILURE"
    assert str(calls[2]["response_body"]["message_token"]) == detail["provider_message_id"]
    retries = [step for step in detail["timeline"] if step["kind"] == "retry"]
    assert len(retries) == 2 and all(step["error"]["code"] == 1100 for step in retries)
    assert detail["summary"]["status"] in ("submitted", "delivered", "read")


def test_a_failed_receipt_from_the_console_goes_through_the_public_dlr_route(stack: RunningStack) -> None:
    to = msisdn("0003")  # accepted, never reported on by the simulator
    uuid = send(stack, {"channel": "sms", "message_type": "text", "from": SMS_FROM, "to": to, "text": "no report"})
    stack.wait_for(lambda: console(stack, f"/messages/{uuid}")["actions"]["failed"]["available"],
                   timeout=SETTLE_SECONDS, interval=0.3, what="the message to be submitted")

    result = act(stack, uuid, "receipts", {"status": "failed"})

    assert result["request"]["url"] == f"{stack.api_url}/webhooks/sms/dlr"
    assert result["response"]["status"] == 200
    stack.wait_for(lambda: lookup_status(stack, uuid) == "undeliverable", what="the failed DLR to be applied")
    webhook = stack.wait_for(
        lambda: next((w for w in stack.webhooks() if isinstance(w["body"], dict)
                      and w["body"].get("message_uuid") == uuid and w["body"].get("status") == "undeliverable"), None),
        what="the undeliverable status webhook",
    )
    assert webhook["signature_valid"] is True
    detail = stack.wait_for(
        lambda: (d := console(stack, f"/messages/{uuid}"))["webhooks"][-1].get("delivery") and d,
        what="the console to pair the webhook with the sink's copy",
    )
    assert detail["timeline"][-1]["status"] == "undeliverable"
    assert detail["timeline"][-1]["error"]["code"] == 1180
    assert detail["webhooks"][-1]["delivery"]["signature"]["valid"] is True


def test_an_sms_reply_from_the_console_arrives_as_an_inbound_message(stack: RunningStack) -> None:
    to = msisdn("0003")
    uuid = send(stack, {"channel": "sms", "message_type": "text", "from": SMS_FROM, "to": to, "text": "reply to me"})
    text = f"YES please {secrets.token_hex(4)}"

    result = act(stack, uuid, "reply", {"text": text})

    assert result["request"]["url"] == f"{stack.api_url}/webhooks/sms/inbound"
    assert result["response"]["status"] == 200
    listed = stack.wait_for(
        lambda: console(stack, "/messages", params={"direction": "inbound", "q": to})["messages"],
        what="the inbound reply in the console's list",
    )
    (reply,) = listed
    assert (reply["from"], reply["to"], reply["preview"], reply["status"]) == (to, SMS_FROM, text, "received")
    assert reply["account"] == stack.api_key
    sink = stack.wait_for(
        lambda: next((w for w in stack.webhooks() if isinstance(w["body"], dict)
                      and w["body"].get("message_uuid") == reply["message_uuid"]), None),
        what="the inbound webhook at the sink",
    )
    assert sink["signature_valid"] is True
