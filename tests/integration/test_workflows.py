"""Failover workflows end to end on the local stack, one per API version, checked at the webhook sink.

- beta: Messenger to a recipient that is delivered but never reads (0004), condition read within 15 s,
  then SMS: the SMS goes out once the 15 s have passed and the final report says completed.
- v0.1: Messenger to a recipient the provider rejects (0001): the SMS goes out at once.
- v1: Messenger to a recipient that is delivered and reads: the workflow completes with no SMS.

Needs the WorkflowFunction in template.yaml (the local stack runs every function of the template).
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from local_stack.simulators import DEMO_PAGE_ID
from tests.support.stack import RunningStack
from tests.support.stack_requests import NOT_ON_NETWORK, provider_requests_to, unique_msisdn, unique_psid, unique_text

pytestmark = pytest.mark.integration

NEVER_READ = "0004"
DELIVERED_AND_READ = "0007"  # any suffix without a scenario: delivered, then read
SMS_SENDER = "447700900001"
WORKFLOW_TIMEOUT_SECONDS = 90.0


def nested_messenger(psid: str, condition: str, expiry: int) -> dict[str, Any]:
    return {
        "from": {"type": "messenger", "id": DEMO_PAGE_ID},
        "to": {"type": "messenger", "id": psid},
        "message": {"content": {"type": "text", "text": unique_text("workflow messenger")}},
        "failover": {"expiry_time": expiry, "condition_status": condition},
    }


def nested_sms(number: str) -> dict[str, Any]:
    return {
        "from": {"type": "sms", "number": SMS_SENDER},
        "to": {"type": "sms", "number": number},
        "message": {"content": {"type": "text", "text": unique_text("workflow sms")}},
    }


def final_report(stack: RunningStack, id_field: str, workflow_uuid: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        reports = [w for w in stack.webhooks() if isinstance(w["body"], dict) and w["body"].get(id_field) == workflow_uuid]
        return reports[0] if reports else None

    return stack.wait_for(found, timeout=WORKFLOW_TIMEOUT_SECONDS, interval=0.25, what=f"the report of {workflow_uuid}")


def status_webhooks(stack: RunningStack, message_uuid: str) -> list[dict[str, Any]]:
    return [w for w in stack.webhooks() if isinstance(w["body"], dict) and w["body"].get("message_uuid") == message_uuid
            and "status" in w["body"] and "template" not in w["body"]]


def test_beta_messenger_never_read_fails_over_to_sms_after_the_expiry(stack: RunningStack) -> None:
    psid, number = unique_psid(NEVER_READ), unique_msisdn(DELIVERED_AND_READ)
    body = {"template": "failover", "workflow": [nested_messenger(psid, "read", 15), nested_sms(number)]}
    started = time.monotonic()
    response = stack.post("/beta/workflows", json=body, auth=stack.auth)
    assert response.status_code == 202, response.text
    workflow_uuid = response.json()["workflow_uuid"]

    report = final_report(stack, "workflow_uuid", workflow_uuid)
    assert time.monotonic() - started >= 15
    assert report["signature_valid"] is True
    assert report["body"]["template"] == "failover"
    assert report["body"]["status"] == "completed"
    messenger_link, sms_link = report["body"]["_links"]["messages"]
    assert (messenger_link["channel"], messenger_link["status"]) == ("messenger", "delivered")
    assert (sms_link["channel"], sms_link["status"]) == ("sms", "delivered")
    assert len(provider_requests_to(stack, "sms", number)) == 1
    assert len(provider_requests_to(stack, "messenger", psid)) == 1
    for link in (messenger_link, sms_link):
        webhooks = status_webhooks(stack, link["message_uuid"])
        assert webhooks and all(w["signature_valid"] for w in webhooks)
        assert all(w["body"]["_links"]["workflow"]["workflow_uuid"] == workflow_uuid for w in webhooks)

    view = stack.get(f"/beta/workflows/{workflow_uuid}", auth=stack.auth).json()
    assert view["status"] == "completed" and view["current_step"] == 1
    assert view["outcome"]["reason"] == "delivered"


def test_v01_dispatch_fails_over_at_once_when_the_first_step_is_rejected(stack: RunningStack) -> None:
    psid, number = unique_psid(NOT_ON_NETWORK), unique_msisdn(DELIVERED_AND_READ)
    body = {"template": "failover", "workflow": [nested_messenger(psid, "read", 600), nested_sms(number)]}
    response = stack.post("/v0.1/dispatch", json=body, auth=stack.auth)
    assert response.status_code == 202, response.text
    dispatch_uuid = response.json()["dispatch_uuid"]

    report = final_report(stack, "dispatch_uuid", dispatch_uuid)  # long before the 600 s expiry
    assert report["signature_valid"] is True
    assert report["body"]["status"] == "completed"
    assert [m["status"] for m in report["body"]["_links"]["messages"]] == ["rejected", "delivered"]
    assert len(provider_requests_to(stack, "sms", number)) == 1
    rejected = status_webhooks(stack, report["body"]["_links"]["messages"][0]["message_uuid"])
    assert [w["body"]["status"] for w in rejected] == ["rejected"]
    assert rejected[0]["body"]["_links"]["workflow"] == {
        "dispatch_uuid": dispatch_uuid, "href": f"/v0.1/dispatch/{dispatch_uuid}"
    }


def test_v1_failover_completes_on_the_first_message_without_any_sms(stack: RunningStack) -> None:
    psid, number = unique_psid(DELIVERED_AND_READ), unique_msisdn(DELIVERED_AND_READ)
    body = {
        "channel": "messenger", "message_type": "text", "from": DEMO_PAGE_ID, "to": psid,
        "text": unique_text("v1 workflow"),
        "failover": [{"channel": "sms", "message_type": "text", "from": SMS_SENDER, "to": number, "text": "fallback"}],
    }
    response = stack.post("/v1/messages", json=body, auth=stack.auth)
    assert response.status_code == 202, response.text
    workflow_id, message_uuid = response.json()["workflow_id"], response.json()["message_uuid"]

    report = final_report(stack, "workflow_id", workflow_id)
    assert report["signature_valid"] is True
    assert report["body"]["status"] == "completed"
    [link] = report["body"]["_links"]["messages"]
    assert link["message_uuid"] == message_uuid and link["channel"] == "messenger"
    assert provider_requests_to(stack, "sms", number) == []
    view = stack.get(f"/v1/workflows/{workflow_id}", auth=stack.auth).json()
    assert view["steps"][1]["status"] == "not_started"
