"""Marking an inbound WhatsApp message read and serving inbound media, through the API's handler."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import responses

from local_stack.simulators import DEMO_WHATSAPP_NUMBER
from switchboard.adapters.providers import transport
from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage
from tests.support.api_client import API_CHANNELS_SECRET, Api, assert_problem
from tests.support.lambdas import FakeLambdaContext, http_event
from tests.support.stores import MessagesTable

READ_URL = "http://provider.invalid/whatsapp/v21.0/106540352242922/messages"
CUSTOMER = "447700900123"


@pytest.fixture
def api(aws: Any, tmp_path: Path) -> Iterator[Api]:
    yield Api(aws, tmp_path)
    transport.reset_sessions()


def inbound(api: Api, channel: Channel = Channel.WHATSAPP, api_key: str | None = None) -> str:
    address = DEMO_WHATSAPP_NUMBER if channel is Channel.WHATSAPP else "447700900001"
    message = InboundMessage(
        channel=channel, sender=Endpoint(channel.value, number=CUSTOMER), recipient=Endpoint(channel.value, number=address),
        content={"type": "text", "text": "hi"}, occurred_at=1_795_780_000.0, provider_message_id="wamid.IN1",
    )
    uuid = "11111111-2222-4333-8444-555555555555" if api_key is None else "66666666-2222-4333-8444-555555555555"
    MessagesTable().create_inbound(uuid, message, api_key or api.account["api_key"], None, None)
    return uuid


@responses.activate
def test_read_is_marked_at_the_cloud_api_with_the_inbound_messages_wamid(api: Api) -> None:
    responses.add(responses.POST, READ_URL, json={"success": True})
    status, _, _ = api.call("PATCH", f"/v1/messages/{inbound(api)}", {"status": "read", "replying_indicator": {"show": True}})
    assert status == 200
    [call] = responses.calls
    assert call.request.headers["Authorization"] == "Bearer wa-token"
    assert json.loads(call.request.body) == {"messaging_product": "whatsapp", "status": "read", "message_id": "wamid.IN1",
                                             "typing_indicator": {"type": "text"}}


@pytest.mark.parametrize("body, name", [({"status": "delivered"}, "status"), ({}, "status"),
                                        ({"status": "read", "replying_indicator": {"show": "yes"}}, "replying_indicator.show")])
@responses.activate
def test_only_read_can_be_set(api: Api, body: dict[str, Any], name: str) -> None:
    status, headers, problem = api.call("PATCH", f"/v1/messages/{inbound(api)}", body)
    assert_problem(status, headers, problem, 422)
    assert [p["name"] for p in problem["invalid_parameters"]] == [name]
    assert len(responses.calls) == 0


@responses.activate
def test_another_accounts_or_an_sms_message_cannot_be_marked(api: Api) -> None:
    foreign = inbound(api, api_key="someone-else")
    assert_problem(*api.call("PATCH", f"/v1/messages/{foreign}", {"status": "read"}), 404)
    sms = inbound(api, channel=Channel.SMS)
    assert_problem(*api.call("PATCH", f"/v1/messages/{sms}", {"status": "read"}), 422)
    assert len(responses.calls) == 0


@responses.activate
def test_a_cloud_api_refusal_is_a_502_that_says_why(api: Api) -> None:
    responses.add(responses.POST, READ_URL, status=400, json={"error": {"code": 100, "message": "(#100) Invalid parameter",
                                                                        "error_data": {"details": "unknown message id"}}})
    status, headers, problem = api.call("PATCH", f"/v1/messages/{inbound(api)}", {"status": "read"})
    assert_problem(status, headers, problem, 502)
    assert problem["type"].endswith("/docs/errors#whatsapp-provider-failed") and "unknown message id" in problem["detail"]


@responses.activate
def test_media_is_downloaded_with_the_numbers_token_for_its_owner_only(api: Api) -> None:
    root = API_CHANNELS_SECRET["whatsapp"]["api_base"] + "/v21.0"
    responses.add(responses.GET, f"{root}/777", json={"url": "https://lookaside.example/m/777", "mime_type": "audio/ogg"})
    responses.add(responses.GET, "https://lookaside.example/m/777", body=b"OggS-bytes")
    event = http_event("GET", f"/v1/whatsapp/media/{DEMO_WHATSAPP_NUMBER}/777", None, {"authorization": api.auth})
    response = api.module.handler(event, FakeLambdaContext())
    assert response["statusCode"] == 200 and response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]) == b"OggS-bytes"
    assert response["headers"]["Content-Type"] == "audio/ogg"
    assert {c.request.headers["Authorization"] for c in responses.calls} == {"Bearer wa-token"}
    assert_problem(*api.call("GET", "/v1/whatsapp/media/447700900199/777"), 404)


def reply(to_uuid: str, **extra: Any) -> dict[str, Any]:
    return {"channel": "whatsapp", "message_type": "text", "from": DEMO_WHATSAPP_NUMBER, "to": CUSTOMER,
            "text": "yes", "context": {"message_uuid": to_uuid}, **extra}


def test_a_reply_quoting_the_customers_message_is_sent_with_its_whatsapp_id(api: Api) -> None:
    status, _, body = api.call("POST", "/v1/messages", reply(inbound(api)))
    assert status == 202
    record = api.record(body["message_uuid"])
    assert record["content"]["context_message_id"] == "wamid.IN1"


@pytest.mark.parametrize("case", ["foreign", "other-customer", "unknown"])
def test_a_reply_can_only_quote_the_callers_message_of_this_conversation(api: Api, case: str) -> None:
    quoted = {"foreign": lambda: inbound(api, api_key="someone-else"), "other-customer": lambda: inbound(api),
              "unknown": lambda: "99999999-2222-4333-8444-555555555555"}[case]()
    body = reply(quoted, to="447700900999" if case == "other-customer" else CUSTOMER)
    status, headers, problem = api.call("POST", "/v1/messages", body)
    assert_problem(status, headers, problem, 422)
    assert [p["name"] for p in problem["invalid_parameters"]] == ["context.message_uuid"]
    assert api.queued() == []


def test_a_failover_step_cannot_quote_a_message(api: Api) -> None:
    body = reply(inbound(api), failover=[{"channel": "sms", "message_type": "text", "from": "Acme", "to": CUSTOMER,
                                          "text": "by SMS"}])
    status, headers, problem = api.call("POST", "/v1/messages", body)
    assert_problem(status, headers, problem, 422)
    assert [p["name"] for p in problem["invalid_parameters"]] == ["context"]
