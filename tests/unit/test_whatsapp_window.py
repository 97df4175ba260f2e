"""The WhatsApp customer service window: tracked per business number and customer, enforced at the API."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local_stack.simulators import DEMO_WHATSAPP_NUMBER
from switchboard import clock
from switchboard.adapters import aws_clients
from switchboard.adapters.dynamodb.whatsapp_window_store import WhatsAppWindowStore
from switchboard.domain.whatsapp_window import WINDOW_SECONDS
from tests.support.api_client import Api, assert_problem
from tests.support.stores import env, retention_seconds

CUSTOMER = "447700900123"
NOW = 1_795_780_800.0


@pytest.fixture
def windows(aws: Any) -> WhatsAppWindowStore:
    return WhatsAppWindowStore(aws_clients.client("dynamodb"), env("CONTACTS_TABLE"), retention_seconds())


@pytest.fixture
def api(aws: Any, tmp_path: Path) -> Api:
    clock.set_clock(lambda: NOW)
    yield Api(aws, tmp_path)
    clock.set_clock(None)


def text(to: str = CUSTOMER) -> dict[str, Any]:
    return {"channel": "whatsapp", "message_type": "text", "from": DEMO_WHATSAPP_NUMBER, "to": to, "text": "hi"}


def template(to: str = CUSTOMER) -> dict[str, Any]:
    return {"channel": "whatsapp", "message_type": "template", "from": DEMO_WHATSAPP_NUMBER, "to": to,
            "template": {"name": "order_ready", "parameters": ["42"]}}


def test_the_store_keeps_the_latest_inbound_message_only(windows: WhatsAppWindowStore) -> None:
    assert windows.last_inbound_at(DEMO_WHATSAPP_NUMBER, CUSTOMER) is None
    assert windows.record_inbound(DEMO_WHATSAPP_NUMBER, CUSTOMER, 1000.0)
    assert windows.record_inbound(DEMO_WHATSAPP_NUMBER, CUSTOMER, 2000.0)
    assert not windows.record_inbound(DEMO_WHATSAPP_NUMBER, CUSTOMER, 1500.0)  # a late webhook changes nothing
    assert windows.last_inbound_at(DEMO_WHATSAPP_NUMBER, CUSTOMER) == 2000.0
    assert windows.last_inbound_at(DEMO_WHATSAPP_NUMBER, "447700900999") is None
    assert windows.last_inbound_at("447700900555", CUSTOMER) is None


def test_a_free_form_message_within_24_hours_of_the_customers_last_message_is_accepted(
    api: Api, windows: WhatsAppWindowStore
) -> None:
    windows.record_inbound(DEMO_WHATSAPP_NUMBER, CUSTOMER, NOW - WINDOW_SECONDS + 60)
    status, _, body = api.call("POST", "/v1/messages", text())
    assert status == 202 and api.record(body["message_uuid"])["status"] == "accepted"


def test_with_no_recorded_message_the_provider_decides(api: Api) -> None:
    status, _, _ = api.call("POST", "/v1/messages", text())
    assert status == 202


@pytest.mark.parametrize("path, body, field", [
    ("/v1/messages", text(), "message_type"),
    ("/v0.1/messages", {"from": {"type": "whatsapp", "number": DEMO_WHATSAPP_NUMBER},
                        "to": {"type": "whatsapp", "number": CUSTOMER},
                        "message": {"content": {"type": "text", "text": "hi"}}}, "message.content.type"),
    ("/v1/messages", {**text(), "message_type": "custom", "text": None,
                      "custom": {"type": "text", "text": {"body": "hi"}}}, "message_type"),
])
def test_a_free_form_message_after_the_window_closed_is_refused_with_422_and_nothing_queued(
    api: Api, windows: WhatsAppWindowStore, path: str, body: dict[str, Any], field: str
) -> None:
    windows.record_inbound(DEMO_WHATSAPP_NUMBER, CUSTOMER, NOW - WINDOW_SECONDS)
    status, headers, problem = api.call("POST", path, {k: v for k, v in body.items() if v is not None})
    assert_problem(status, headers, problem, 422)
    assert problem["type"].endswith("/docs/errors#whatsapp-window-closed")
    assert problem["title"] == "Outside the customer service window"
    [parameter] = problem["invalid_parameters"]
    assert parameter["name"] == field and "send a template message" in parameter["reason"]
    assert api.queued() == []


@pytest.mark.parametrize("body", [
    template(),
    {**text(), "message_type": "custom", "text": None,
     "custom": {"type": "template", "template": {"name": "t", "language": {"code": "en"}}}},
], ids=["template", "custom-template"])
def test_templates_are_accepted_whatever_the_window(api: Api, windows: WhatsAppWindowStore, body: dict[str, Any]) -> None:
    windows.record_inbound(DEMO_WHATSAPP_NUMBER, CUSTOMER, NOW - 3 * WINDOW_SECONDS)
    status, _, _ = api.call("POST", "/v1/messages", {k: v for k, v in body.items() if v is not None})
    assert status == 202


def test_another_accounts_number_is_refused_as_a_sender_before_its_window_is_read(
    api: Api, windows: WhatsAppWindowStore
) -> None:
    windows.record_inbound("447700900555", CUSTOMER, NOW - 3 * WINDOW_SECONDS)
    status, _, problem = api.call("POST", "/v1/messages", {**text(), "from": "447700900555"})
    assert status == 422 and [p["name"] for p in problem["invalid_parameters"]] == ["from"]
    assert "window" not in problem["detail"]


def test_a_failover_workflow_is_not_refused_for_a_closed_window_its_step_fails_over(
    api: Api, windows: WhatsAppWindowStore
) -> None:
    windows.record_inbound(DEMO_WHATSAPP_NUMBER, CUSTOMER, NOW - 3 * WINDOW_SECONDS)
    body = {**text(), "failover": [{"channel": "sms", "message_type": "text", "from": "Acme", "to": CUSTOMER,
                                    "text": "by SMS"}]}
    status, _, answer = api.call("POST", "/v1/messages", body)
    assert status == 202 and set(answer) == {"message_uuid", "workflow_id"}
