"""The WhatsApp Cloud API simulator: its answers, scenarios, read marks and media, without a server."""
from __future__ import annotations

import json
from typing import Any

from local_stack.simulators.http_server import HttpRequest
from local_stack.simulators.reports import ReportSecrets, report_webhook
from local_stack.simulators.scenarios import RecipientBehaviour
from local_stack.simulators.whatsapp import MEDIA_BYTES, WhatsAppSimulator

NUMBER_ID, BUSINESS, TOKEN = "106540352242922", "447700900100", "EAAtoken"


def simulator() -> tuple[WhatsAppSimulator, RecipientBehaviour]:
    behaviour = RecipientBehaviour()
    numbers = {NUMBER_ID: (BUSINESS, TOKEN)}
    sim = WhatsAppSimulator(numbers.get, lambda token: token == TOKEN, behaviour, lambda: "http://sim/whatsapp")
    return sim, behaviour


def request(method: str, route: str, body: Any = None, token: str | None = TOKEN) -> HttpRequest:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    raw = json.dumps(body).encode() if body is not None else b""
    return HttpRequest.build(method, route, headers, raw)


def send(to: str, kind: str = "text", **payload: Any) -> dict[str, Any]:
    block = payload or {"body": "hi"}
    return {"messaging_product": "whatsapp", "to": to, "type": kind, kind: block, "biz_opaque_callback_data": "u-1"}


def answer(sim: WhatsAppSimulator, req: HttpRequest, route: str) -> tuple[int, Any]:
    response = sim.handle(req, route)
    return response.status, json.loads(response.body) if response.content_type == "application/json" else response.body


def test_an_accepted_send_schedules_sent_delivered_and_read_with_our_reference() -> None:
    sim, behaviour = simulator()
    status, body = answer(sim, request("POST", "/x", send("447700900123")), f"/v21.0/{NUMBER_ID}/messages")
    assert status == 200 and body["messages"][0]["id"].startswith("wamid.")
    reports = behaviour.scheduled_reports()
    assert [r.status for r in reports] == ["sent", "delivered", "read"]
    assert {(r.client_ref, r.sender, r.sender_id) for r in reports} == {("u-1", BUSINESS, NUMBER_ID)}
    webhook = report_webhook(reports[2], ReportSecrets("m", "v", "s", whatsapp_app_secret="app"))
    assert webhook is not None and webhook.path == "/webhooks/whatsapp" and "X-Hub-Signature-256" in webhook.headers
    status_item = json.loads(webhook.body)["entry"][0]["changes"][0]["value"]["statuses"][0]
    assert status_item["status"] == "read" and status_item["biz_opaque_callback_data"] == "u-1"


def test_a_closed_window_refuses_free_form_messages_but_not_templates() -> None:
    sim, _ = simulator()
    route = f"/v21.0/{NUMBER_ID}/messages"
    status, body = answer(sim, request("POST", "/x", send("447700900007")), route)
    assert status == 400 and body["error"]["code"] == 131047
    template = send("447700900007", "template", name="hello_world", language={"code": "en_US"})
    assert answer(sim, request("POST", "/x", template), route)[0] == 200


def test_a_wrong_token_or_an_invalid_body_is_refused_as_the_cloud_api_does() -> None:
    sim, _ = simulator()
    route = f"/v21.0/{NUMBER_ID}/messages"
    assert answer(sim, request("POST", "/x", send("447700900123"), token="other"), route)[1]["error"]["code"] == 190
    assert answer(sim, request("POST", "/x", send("447700900123"), token=None), route)[0] == 401
    bad = send("447700900123", "image", caption="no link")
    assert answer(sim, request("POST", "/x", bad), route)[1]["error"]["code"] == 100


def test_read_marks_and_media_downloads() -> None:
    sim, _ = simulator()
    status, body = answer(sim, request("POST", "/x", {"messaging_product": "whatsapp", "status": "read",
                                                       "message_id": "wamid.IN"}), f"/v21.0/{NUMBER_ID}/messages")
    assert (status, body, sim.read_marks) == (200, {"success": True}, ["wamid.IN"])
    status, meta = answer(sim, request("GET", "/x"), "/v21.0/5550001")
    assert status == 200 and meta["url"] == "http://sim/whatsapp/media/5550001"
    download = sim.handle(request("GET", "/x"), "/media/5550001")
    assert (download.status, download.body) == (200, MEDIA_BYTES)
    assert sim.handle(request("GET", "/x", token="other"), "/media/5550001").status == 401


def test_the_consoles_whatsapp_reply_and_receipts_are_signed_cloud_api_webhooks() -> None:
    import hashlib
    import hmac

    from local_stack.console.actions import ConsoleActions
    from local_stack.replay import ReplayResponse

    sent: list[Any] = []
    channels = {"whatsapp": {"app_secret": "app", "numbers": {BUSINESS: {"phone_number_id": NUMBER_ID,
                                                                       "access_token": TOKEN}}}}
    actions = ConsoleActions("http://api", lambda: channels,
                             sender=lambda webhook, url: (sent.append(webhook), ReplayResponse(200, "OK"))[1])
    record = {"message_uuid": "u-1", "channel": "whatsapp", "direction": "outbound", "provider_message_id": "wamid.X",
              "from": {"type": "whatsapp", "number": BUSINESS}, "to": {"type": "whatsapp", "number": "447700900123"}}

    assert all(each["available"] for each in actions.availability(record).values())
    actions.reply(record, "hello")
    actions.receipt(record, "read")

    values = [json.loads(w.body)["entry"][0]["changes"][0]["value"] for w in sent]
    assert [v["metadata"] for v in values] == [{"display_phone_number": BUSINESS, "phone_number_id": NUMBER_ID}] * 2
    assert values[0]["messages"][0]["text"] == {"body": "hello"} and values[0]["messages"][0]["from"] == "447700900123"
    assert values[1]["statuses"][0] | {"timestamp": "t"} == {"id": "wamid.X", "status": "read", "timestamp": "t",
                                                            "recipient_id": "447700900123", "biz_opaque_callback_data": "u-1"}
    for webhook in sent:
        expected = "sha256=" + hmac.new(b"app", webhook.body, hashlib.sha256).hexdigest()
        assert {k.lower(): v for k, v in webhook.headers.items()}["x-hub-signature-256"] == expected
