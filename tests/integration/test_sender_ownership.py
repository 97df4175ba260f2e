"""A second account of the local stack cannot send from the demo account's senders.

The second account is made and given its own SMS sender id with the ``switchboard`` CLI, as an
operator would. It then tries the demo page, Viber service, SMS number and ``Acme`` sender id on
every send route and in workflows: each is refused with the one answer for a sender that is not
the account's, and the provider simulators never see a request for any of them, while the same
account's own sender id goes out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from local_stack.simulators import (
    DEMO_PAGE_ID,
    DEMO_SMS_NUMBER,
    DEMO_SMS_SENDER_ID,
    DEMO_VIBER_SERVICE_ID,
    DEMO_WHATSAPP_NUMBER,
)
from switchboard.api.message_acceptor import REFUSED_SENDER_REASON
from tests.support.stack import ROOT, RunningStack
from tests.support.stack_requests import provider_requests_to, unique_msisdn, unique_psid, unique_text

OWN_SENDER_ID = "Rival"


def cli(stack: RunningStack, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *argv, "--local-dir", str(stack.local_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.fixture(scope="module")
def rival(stack: RunningStack) -> tuple[str, str]:
    """Basic auth of a second account that owns the sender id ``Rival``."""
    created = cli(stack, "accounts", "create")
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    linked = cli(stack, "links", "create", "--api-key", account["api_key"], "--channel", "sms",
                 "--address", OWN_SENDER_ID)
    assert linked.returncode == 0, linked.stderr
    return account["api_key"], account["api_secret"]


def test_the_cli_lists_the_demo_senders_and_refuses_to_give_them_away(stack: RunningStack, rival: tuple[str, str]) -> None:
    listed = cli(stack, "links", "list", "--api-key", stack.api_key)
    assert listed.returncode == 0, listed.stderr
    assert {(link["channel"], link["address"]) for link in json.loads(listed.stdout)["links"]} == {
        ("messenger", DEMO_PAGE_ID), ("viber_service_msg", DEMO_VIBER_SERVICE_ID), ("sms", DEMO_SMS_NUMBER),
        ("sms", DEMO_SMS_SENDER_ID), ("whatsapp", DEMO_WHATSAPP_NUMBER),
    }

    taken = cli(stack, "links", "create", "--api-key", rival[0], "--channel", "sms", "--address", "ACME")
    assert taken.returncode == 1
    assert f"is linked already to account {stack.api_key}" in taken.stderr


def foreign_sends() -> list[tuple[str, str, str, dict[str, Any], str]]:
    """(provider, recipient, route, body, invalid parameter) for every demo sender on every route."""
    sends = []
    text = {"type": "text", "text": unique_text("not yours")}
    for path in ("/beta/messages", "/v0.1/messages"):
        psid, number = unique_psid(), unique_msisdn()
        sends += [
            ("messenger", psid, path, {"from": {"type": "messenger", "id": DEMO_PAGE_ID},
                                       "to": {"type": "messenger", "id": psid}, "message": {"content": text}}, "from.id"),
            ("viber", number, path, {"from": {"type": "viber_service_msg", "id": DEMO_VIBER_SERVICE_ID},
                                     "to": {"type": "viber_service_msg", "number": number},
                                     "message": {"content": text}}, "from.id"),
        ]
        for sender in (DEMO_SMS_NUMBER, DEMO_SMS_SENDER_ID):
            number = unique_msisdn()
            sends.append(("sms", number, path, {"from": {"type": "sms", "number": sender},
                                                "to": {"type": "sms", "number": number},
                                                "message": {"content": text}}, "from.number"))
    for channel, provider, sender in (
        ("messenger", "messenger", DEMO_PAGE_ID), ("viber_service", "viber", DEMO_VIBER_SERVICE_ID),
        ("sms", "sms", DEMO_SMS_NUMBER), ("sms", "sms", DEMO_SMS_SENDER_ID.upper()),
        ("whatsapp", "whatsapp", DEMO_WHATSAPP_NUMBER),
    ):
        to = unique_psid() if channel == "messenger" else unique_msisdn()
        body = {"channel": channel, "message_type": "text", "from": sender, "to": to, "text": text["text"]}
        sends.append((provider, to, "/v1/messages", body, "from"))
    return sends


def test_another_account_cannot_send_from_the_demo_senders(stack: RunningStack, rival: tuple[str, str]) -> None:
    refused = []
    sends = foreign_sends()
    assert sends
    for provider, recipient, path, body, field in sends:
        response = stack.post(path, json=body, auth=rival)
        assert response.status_code == (422 if path == "/v1/messages" else 400), response.text
        assert response.json()["invalid_parameters"] == [{"name": field, "reason": REFUSED_SENDER_REASON}]
        refused.append((provider, recipient))

    own_to, step_to = unique_msisdn(), unique_msisdn()
    workflow = {"template": "failover", "workflow": [
        {"from": {"type": "sms", "number": OWN_SENDER_ID}, "to": {"type": "sms", "number": step_to},
         "message": {"content": {"type": "text", "text": "first"}},
         "failover": {"expiry_time": 15, "condition_status": "delivered"}},
        {"from": {"type": "messenger", "id": DEMO_PAGE_ID}, "to": {"type": "messenger", "id": unique_psid()},
         "message": {"content": {"type": "text", "text": "second"}}},
    ]}
    response = stack.post("/v0.1/dispatch", json=workflow, auth=rival)
    assert response.status_code == 400, response.text
    assert [p["name"] for p in response.json()["invalid_parameters"]] == ["workflow[1].from.id"]
    failover = {"channel": "sms", "message_type": "text", "from": OWN_SENDER_ID, "to": step_to, "text": "first",
                "failover": [{"channel": "sms", "message_type": "text", "from": DEMO_SMS_SENDER_ID, "to": step_to,
                              "text": "second"}]}
    response = stack.post("/v1/messages", json=failover, auth=rival)
    assert response.status_code == 422, response.text
    assert [p["name"] for p in response.json()["invalid_parameters"]] == ["failover[0].from"]
    refused.append(("sms", step_to))

    # The account's own sender goes out; by then any refused message would have been sent too.
    own = {"channel": "sms", "message_type": "text", "from": OWN_SENDER_ID, "to": own_to, "text": "mine"}
    assert stack.post("/v1/messages", json=own, auth=rival).status_code == 202
    [sent] = stack.wait_for(lambda: provider_requests_to(stack, "sms", own_to), timeout=30, what="the own sender's SMS")
    assert sent["body"]["from"] == OWN_SENDER_ID
    assert [r for provider, recipient in refused for r in provider_requests_to(stack, provider, recipient)] == []
