"""WhatsApp end to end on the local stack: the official SDK's WhatsApp models from send to ``read``,
inbound messages of each type, the customer service window, marking read and inbound media.

The demo account owns the demo business number (``DEMO_WHATSAPP_NUMBER``); the Cloud API simulator
answers for it and sends signed status webhooks back to ``/webhooks/whatsapp``. Inbound messages are
signed here with the channels secret's app secret, as Meta signs them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from vonage import Auth, HttpClientOptions, Vonage
from vonage_http_client.errors import HttpRequestError
from vonage_messages import (
    WhatsappContext,
    WhatsappImage,
    WhatsappImageResource,
    WhatsappTemplate,
    WhatsappTemplateResource,
    WhatsappTemplateSettings,
    WhatsappText,
)

from local_stack.simulators import DEMO_WHATSAPP_NUMBER, DEMO_WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_API_VERSION
from local_stack.simulators.reports import whatsapp_envelope
from local_stack.simulators.whatsapp import MEDIA_BYTES
from tests.support.stack import RunningStack
from tests.support.stack_requests import (
    channels_secret,
    history_statuses,
    lookup,
    provider_requests_to,
    unique_msisdn,
    unique_text,
)
from tests.support.webhook_checks import INBOUND_PATH, POLL_INTERVAL_SECONDS, WEBHOOK_TIMEOUT_SECONDS, wait_for_status

pytestmark = pytest.mark.integration

READ_AND_DELIVERED = "0000"  # any suffix without a scenario: sent, delivered, read
DELIVERY_FAILS = "0002"
WINDOW_CLOSED = "0007"


@pytest.fixture
def sdk(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[Vonage]:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", stack.tls_cert_path)
    yield Vonage(Auth(application_id=stack.application_id, private_key=stack.private_key_path),
                 HttpClientOptions(api_host=stack.https_api_host))


def customer(suffix: str = "0008") -> str:
    return unique_msisdn(suffix)


def post_inbound(stack: RunningStack, messages: list[dict[str, Any]], **value: Any) -> requests.Response:
    """A Cloud API inbound webhook from the customer(s) to the demo number, signed as Meta signs it."""
    envelope = whatsapp_envelope(DEMO_WHATSAPP_NUMBER, DEMO_WHATSAPP_PHONE_NUMBER_ID, "messages", messages)
    envelope["entry"][0]["changes"][0]["value"].update(value)
    body = json.dumps(envelope).encode()
    secret = channels_secret(stack)["whatsapp"]["app_secret"]
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return requests.post(f"{stack.api_url}/webhooks/whatsapp", data=body, timeout=30,
                         headers={"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def inbound_item(sender: str, kind: str, block: Any, at: int | None = None) -> dict[str, Any]:
    return {"from": sender, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(at or int(time.time())),
            "type": kind, kind: block}


def inbound_webhooks_from(stack: RunningStack, sender: str, count: int) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        records = [r for r in stack.webhooks() if r["path"] == INBOUND_PATH and isinstance(r["body"], dict)
                   and (r["body"].get("from") == sender or (r["body"].get("from") or {}) == {"type": "whatsapp", "number": sender})]
        return records if len(records) >= count else None

    return stack.wait_for(found, timeout=WEBHOOK_TIMEOUT_SECONDS, interval=POLL_INTERVAL_SECONDS,
                          what=f"{count} inbound webhooks from {sender}")


def content_of(record: dict[str, Any]) -> dict[str, Any]:
    """The inbound content, whichever webhook shape the demo application gets."""
    body = record["body"]
    return body["message"]["content"] if "message" in body else body


def wait_for_history(stack: RunningStack, message_uuid: str, last: str) -> list[str]:
    return stack.wait_for(
        lambda: (found if (found := history_statuses(lookup(stack, message_uuid)))[-1:] == [last] else None),
        timeout=WEBHOOK_TIMEOUT_SECONDS, interval=POLL_INTERVAL_SECONDS, what=f"{message_uuid} to be {last}",
    )


# -- send: the SDK's models, from send to read ------------------------------------------------------


def test_the_sdks_text_image_and_template_go_from_send_to_read(stack: RunningStack, sdk: Vonage) -> None:
    to = [customer(READ_AND_DELIVERED) for _ in range(3)]
    text = unique_text("WhatsApp text")
    image_url = f"https://media.example.com/{uuid.uuid4().hex}.jpg"
    messages = [
        WhatsappText(to=to[0], from_=DEMO_WHATSAPP_NUMBER, text=text, client_ref="wa-text"),
        WhatsappImage(to=to[1], from_=DEMO_WHATSAPP_NUMBER, image=WhatsappImageResource(url=image_url, caption="A")),
        WhatsappTemplate(to=to[2], from_=DEMO_WHATSAPP_NUMBER,
                         template=WhatsappTemplateResource(name="ns:order_ready", parameters=["Ann", "42"]),
                         whatsapp=WhatsappTemplateSettings(policy="deterministic", locale="en_GB")),
    ]
    uuids = [sdk.messages.send(message).message_uuid for message in messages]

    for message_uuid in uuids:
        assert wait_for_history(stack, message_uuid, "read") == ["accepted", "sending", "submitted", "delivered", "read"]
        assert [r["body"]["status"] for r in wait_for_status(stack, message_uuid, "read")] == [
            "submitted", "delivered", "read"
        ]
    bodies = [provider_requests_to(stack, "whatsapp", number) for number in to]
    assert [len(each) for each in bodies] == [1, 1, 1]
    assert {each[0]["path"] for each in bodies} == {f"/whatsapp/{WHATSAPP_API_VERSION}/{DEMO_WHATSAPP_PHONE_NUMBER_ID}/messages"}
    envelope = {"messaging_product": "whatsapp", "recipient_type": "individual"}
    assert [each[0]["body"] for each in bodies] == [
        {**envelope, "to": to[0], "biz_opaque_callback_data": uuids[0], "type": "text", "text": {"body": text}},
        {**envelope, "to": to[1], "biz_opaque_callback_data": uuids[1], "type": "image",
         "image": {"link": image_url, "caption": "A"}},
        {**envelope, "to": to[2], "biz_opaque_callback_data": uuids[2], "type": "template", "template": {
            "name": "order_ready", "language": {"code": "en_GB", "policy": "deterministic"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ann"}, {"type": "text", "text": "42"}]}],
        }},
    ]


def test_a_2018_template_is_sent_and_read(stack: RunningStack) -> None:
    to = customer(READ_AND_DELIVERED)
    response = stack.post("/v0.1/messages", json={
        "from": {"type": "whatsapp", "number": DEMO_WHATSAPP_NUMBER}, "to": {"type": "whatsapp", "number": to},
        "message": {"content": {"type": "template", "template": {
            "name": "whatsapp:hsm:technology:nexmo:verify", "parameters": [{"default": "1234"}]}}},
    }, auth=stack.auth)
    assert response.status_code == 202, response.text
    assert wait_for_history(stack, response.json()["message_uuid"], "read")[-1] == "read"


def test_a_failed_delivery_is_undeliverable_and_the_providers_window_refusal_is_rejected_1340(
    stack: RunningStack, sdk: Vonage
) -> None:
    failed = sdk.messages.send(WhatsappText(to=customer(DELIVERY_FAILS), from_=DEMO_WHATSAPP_NUMBER, text="x"))
    closed = sdk.messages.send(WhatsappText(to=customer(WINDOW_CLOSED), from_=DEMO_WHATSAPP_NUMBER, text="x"))
    template = sdk.messages.send(WhatsappTemplate(to=customer(WINDOW_CLOSED), from_=DEMO_WHATSAPP_NUMBER,
                                                  template=WhatsappTemplateResource(name="hello_world")))

    assert wait_for_history(stack, failed.message_uuid, "undeliverable")[-2:] == ["submitted", "undeliverable"]
    assert lookup(stack, failed.message_uuid)["error"]["code"] == 1260
    rejected = stack.wait_for(lambda: (v if (v := lookup(stack, closed.message_uuid))["status"] == "rejected" else None),
                              timeout=WEBHOOK_TIMEOUT_SECONDS, what="the rejection")
    assert rejected["error"]["code"] == 1340 and "131047" in rejected["error"]["reason"]
    assert wait_for_history(stack, template.message_uuid, "read")[-1] == "read"


def test_another_accounts_number_and_an_unknown_number_are_refused_alike(stack: RunningStack, sdk: Vonage) -> None:
    with pytest.raises(HttpRequestError) as caught:
        sdk.messages.send(WhatsappText(to=customer(), from_="447700900199", text="x"))
    assert caught.value.response.status_code == 422
    assert [p["name"] for p in caught.value.response.json()["invalid_parameters"]] == ["from"]


# -- inbound, the window, read marks and media -------------------------------------------------------


def test_inbound_messages_of_each_type_reach_the_demo_application(stack: RunningStack) -> None:
    sender = customer()
    items = [
        inbound_item(sender, "text", {"body": "hello"}),
        inbound_item(sender, "image", {"id": "5550001", "mime_type": "image/png", "caption": "look"}),
        inbound_item(sender, "location", {"latitude": 51.5, "longitude": -0.12, "name": "Office"}),
        inbound_item(sender, "interactive", {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}),
        inbound_item(sender, "button", {"payload": "STOP", "text": "Stop"}),
        {**inbound_item(sender, "contacts", None), "contacts": [{"name": {"formatted_name": "Bo"}}]},
    ]
    response = post_inbound(stack, items, contacts=[{"profile": {"name": "Ann"}, "wa_id": sender}])
    assert response.status_code == 200, response.text

    records = inbound_webhooks_from(stack, sender, len(items))
    contents = sorted((content_of(r) for r in records), key=lambda c: str(c.get("type") or c.get("message_type")))
    kinds = [c.get("type") or c.get("message_type") for c in contents]
    assert sorted(kinds) == ["button", "contacts", "image", "location", "reply", "text"] or sorted(kinds) == [
        "button", "image", "location", "reply", "text", "unsupported"]
    assert all(c.get("profile") == {"name": "Ann"} for c in contents)
    image = next(c for c in contents if (c.get("type") or c.get("message_type")) == "image")
    assert image["image"]["url"].endswith(f"/v1/whatsapp/media/{DEMO_WHATSAPP_NUMBER}/5550001")


def test_inbound_media_is_served_to_the_numbers_owner_only(stack: RunningStack) -> None:
    path = f"/v1/whatsapp/media/{DEMO_WHATSAPP_NUMBER}/5550002"
    served = stack.get(path, auth=stack.auth)
    assert served.status_code == 200 and served.content == MEDIA_BYTES
    assert served.headers["Content-Type"] == "image/png"
    assert stack.get(path).status_code == 401
    assert stack.get(f"/v1/whatsapp/media/447700900199/5550002", auth=stack.auth).status_code == 404


def test_marking_an_inbound_message_read_reaches_the_cloud_api(stack: RunningStack, sdk: Vonage) -> None:
    sender = customer()
    item = inbound_item(sender, "text", {"body": "read me"})
    assert post_inbound(stack, [item]).status_code == 200
    [record] = inbound_webhooks_from(stack, sender, 1)
    message_uuid = record["body"]["message_uuid"]

    sdk.messages.mark_whatsapp_message_read(message_uuid)

    marks = [r for r in stack.provider_requests() if r["provider"] == "whatsapp" and isinstance(r["body"], dict)
             and r["body"].get("status") == "read"]
    assert [m["body"]["message_id"] for m in marks if m["body"]["message_id"] == item["id"]] == [item["id"]]
    outbound = sdk.messages.send(WhatsappText(to=customer(), from_=DEMO_WHATSAPP_NUMBER, text="x"))
    with pytest.raises(HttpRequestError) as caught:
        sdk.messages.mark_whatsapp_message_read(outbound.message_uuid)
    assert caught.value.response.status_code == 422


def test_the_window_closes_24_hours_after_the_customers_last_message(stack: RunningStack, sdk: Vonage) -> None:
    sender = customer(READ_AND_DELIVERED)
    day_ago = int(time.time()) - 24 * 3600 - 5
    assert post_inbound(stack, [inbound_item(sender, "text", {"body": "old"}, at=day_ago)]).status_code == 200
    inbound_webhooks_from(stack, sender, 1)

    with pytest.raises(HttpRequestError) as caught:
        sdk.messages.send(WhatsappText(to=sender, from_=DEMO_WHATSAPP_NUMBER, text="too late"))
    problem = caught.value.response.json()
    assert caught.value.response.status_code == 422 and problem["title"] == "Outside the customer service window"
    assert provider_requests_to(stack, "whatsapp", sender) == []

    template = sdk.messages.send(WhatsappTemplate(to=sender, from_=DEMO_WHATSAPP_NUMBER,
                                                  template=WhatsappTemplateResource(name="hello_world")))
    assert wait_for_history(stack, template.message_uuid, "read")[-1] == "read"

    assert post_inbound(stack, [inbound_item(sender, "text", {"body": "new"})]).status_code == 200
    inbound_webhooks_from(stack, sender, 2)
    reopened = sdk.messages.send(WhatsappText(to=sender, from_=DEMO_WHATSAPP_NUMBER, text="welcome back"))
    assert wait_for_history(stack, reopened.message_uuid, "read")[-1] == "read"


# -- failover -------------------------------------------------------------------------------------------


def final_report(stack: RunningStack, id_field: str, workflow_id: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        reports = [w for w in stack.webhooks() if isinstance(w["body"], dict) and w["body"].get(id_field) == workflow_id]
        return reports[0] if reports else None

    return stack.wait_for(found, timeout=90, interval=0.25, what=f"the report of {workflow_id}")


def test_v1_failover_from_whatsapp_to_sms_when_whatsapp_refuses(stack: RunningStack) -> None:
    closed, number = customer(WINDOW_CLOSED), unique_msisdn("0008")
    response = stack.post("/v1/messages", auth=stack.auth, json={
        "channel": "whatsapp", "message_type": "text", "from": DEMO_WHATSAPP_NUMBER, "to": closed, "text": "hi",
        "failover": [{"channel": "sms", "message_type": "text", "from": "Acme", "to": number,
                      "text": unique_text("failover sms")}],
    })
    assert response.status_code == 202, response.text
    workflow_id = response.json()["workflow_id"]

    def finished() -> dict[str, Any] | None:
        view = stack.get(f"/v1/workflows/{workflow_id}", auth=stack.auth).json()
        return view if view["status"] != "in_progress" else None

    view = stack.wait_for(finished, timeout=90, interval=0.25, what=f"workflow {workflow_id} to finish")
    assert view["status"] == "completed"
    assert lookup(stack, response.json()["message_uuid"])["error"]["code"] == 1340
    assert len(provider_requests_to(stack, "sms", number)) == 1


def test_a_2018_dispatch_waits_for_read_on_whatsapp_then_sends_the_sms(stack: RunningStack) -> None:
    never_read, number = customer("0004"), unique_msisdn("0008")
    body = {"template": "failover", "workflow": [
        {"from": {"type": "whatsapp", "number": DEMO_WHATSAPP_NUMBER}, "to": {"type": "whatsapp", "number": never_read},
         "message": {"content": {"type": "template", "template": {"name": "order_ready",
                                                                   "parameters": [{"default": "42"}]}}},
         "failover": {"expiry_time": 15, "condition_status": "read"}},
        {"from": {"type": "sms", "number": "447700900001"}, "to": {"type": "sms", "number": number},
         "message": {"content": {"type": "text", "text": unique_text("after whatsapp")}}},
    ]}
    started = time.monotonic()
    response = stack.post("/v0.1/dispatch", json=body, auth=stack.auth)
    assert response.status_code == 202, response.text

    report = final_report(stack, "dispatch_uuid", response.json()["dispatch_uuid"])
    assert time.monotonic() - started >= 15
    assert report["body"]["status"] == "completed"
    whatsapp_link, sms_link = report["body"]["_links"]["messages"]
    assert (whatsapp_link["channel"], whatsapp_link["status"]) == ("whatsapp", "delivered")
    assert (sms_link["channel"], sms_link["status"]) == ("sms", "delivered")
    assert len(provider_requests_to(stack, "whatsapp", never_read)) == 1


def test_a_customers_reply_names_the_message_it_quotes(stack: RunningStack, sdk: Vonage) -> None:
    sender = customer(READ_AND_DELIVERED)
    sent = sdk.messages.send(WhatsappTemplate(to=sender, from_=DEMO_WHATSAPP_NUMBER,
                                              template=WhatsappTemplateResource(name="hello_world")))
    wait_for_history(stack, sent.message_uuid, "read")
    [request] = provider_requests_to(stack, "whatsapp", sender)
    wamid = request["response_body"]["messages"][0]["id"]

    reply = {**inbound_item(sender, "text", {"body": "yes please"}), "context": {"from": DEMO_WHATSAPP_NUMBER, "id": wamid}}
    assert post_inbound(stack, [reply]).status_code == 200

    [record] = inbound_webhooks_from(stack, sender, 1)
    assert content_of(record)["context"]["message_uuid"] == sent.message_uuid

    answer = sdk.messages.send(WhatsappText(to=sender, from_=DEMO_WHATSAPP_NUMBER, text="noted",
                                            context=WhatsappContext(message_uuid=record["body"]["message_uuid"])))
    wait_for_history(stack, answer.message_uuid, "read")
    bodies = [r["body"] for r in provider_requests_to(stack, "whatsapp", sender)]
    assert bodies[-1]["context"] == {"message_id": reply["id"]}
