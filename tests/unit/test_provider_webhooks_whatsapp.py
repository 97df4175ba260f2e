"""WhatsApp webhooks: the Graph handshake, X-Hub-Signature-256, statuses, inbound of every type and
the customer service window each inbound message opens."""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from switchboard import clock
from switchboard.domain.message import Channel, Endpoint
from switchboard.domain.provider_events import InboundMessage, StatusReceipt
from tests.support.fakes.receipts import FakeInbound, FakeReplies, FakeStatuses, FakeWindows
from tests.support.lambdas import FakeLambdaContext, http_event
from tests.support.wiring import StubWebhookServices, webhooks_handler

NOW = 1_795_780_800
APP_SECRET = "whatsapp-app-secret"
VERIFY_TOKEN = "whatsapp-verify"
BUSINESS = "447700900100"
PHONE_NUMBER_ID = "106540352242922"
CUSTOMER = "447700900123"
MESSAGE_UUID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
HOST = "api.example.test"


@dataclass
class Webhooks:
    services: StubWebhookServices

    def call(self, event: dict[str, Any]) -> tuple[int, str]:
        response = webhooks_handler(self.services)(event, FakeLambdaContext(function_name="WebhooksFunction"))
        return response["statusCode"], response.get("body") or ""

    def nothing_applied(self) -> bool:
        return not (self.services.statuses.receipts or self.services.inbound.accepted
                    or self.services.whatsapp_windows.recorded)


@pytest.fixture
def webhooks() -> Iterator[Webhooks]:
    config = {"whatsapp": {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN,
                           "numbers": {BUSINESS: {"phone_number_id": PHONE_NUMBER_ID, "access_token": "t"}}}}
    clock.set_clock(lambda: float(NOW))
    yield Webhooks(StubWebhookServices(FakeStatuses(), FakeInbound(), config, whatsapp_windows=FakeWindows()))
    clock.set_clock(None)


def envelope(key: str, items: list[dict[str, Any]], **value: Any) -> bytes:
    change = {"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "44 7700 900100", "phone_number_id": PHONE_NUMBER_ID},
        key: items, **value}}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [change]}]}).encode()


def signed_post(body: bytes, secret: str = APP_SECRET, header: str = "x-hub-signature-256") -> dict[str, Any]:
    digest = hashlib.sha256 if header.endswith("256") else hashlib.sha1
    scheme = "sha256" if header.endswith("256") else "sha1"
    signature = f"{scheme}=" + hmac.new(secret.encode(), body, digest).hexdigest()
    return http_event("POST", "/webhooks/whatsapp", raw_body=body,
                      headers={"content-type": "application/json", header: signature, "host": HOST})


def handshake(params: dict[str, str]) -> dict[str, Any]:
    event = http_event("GET", "/webhooks/whatsapp")
    event["rawQueryString"] = urlencode(params)
    event["queryStringParameters"] = dict(params)
    return event


def status_item(state: str, **extra: Any) -> dict[str, Any]:
    return {"id": "wamid.OUT", "status": state, "timestamp": "1795780700", "recipient_id": CUSTOMER,
            "biz_opaque_callback_data": MESSAGE_UUID, **extra}


def message_item(kind: str, block: Any, **extra: Any) -> dict[str, Any]:
    return {"from": CUSTOMER, "id": f"wamid.IN-{kind}", "timestamp": "1795780600", "type": kind, kind: block, **extra}


# -- handshake and signature ----------------------------------------------------------------------


def test_the_handshake_echoes_the_challenge_for_our_verify_token(webhooks: Webhooks) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}
    assert webhooks.call(handshake(params)) == (200, "1158201444")


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    {},
])
def test_a_handshake_without_subscribe_and_our_token_is_forbidden(webhooks: Webhooks, params: dict[str, str]) -> None:
    status, body = webhooks.call(handshake(params))
    assert status == 403 and json.loads(body)["title"] == "Forbidden"


def test_signed_events_are_applied(webhooks: Webhooks) -> None:
    status, body = webhooks.call(signed_post(envelope("statuses", [status_item("delivered")])))
    assert (status, body) == (200, "OK")
    assert len(webhooks.services.statuses.receipts) == 1


@pytest.mark.parametrize("event", [
    http_event("POST", "/webhooks/whatsapp", raw_body=envelope("statuses", [status_item("delivered")])),
    signed_post(envelope("statuses", [status_item("delivered")]), secret="forged"),
    signed_post(envelope("statuses", [status_item("delivered")]), header="x-hub-signature"),
], ids=["unsigned", "wrong-secret", "sha1-only"])
def test_unsigned_forged_or_sha1_only_webhooks_are_refused_and_change_nothing(
    webhooks: Webhooks, event: dict[str, Any]
) -> None:
    status, body = webhooks.call(event)
    assert status == 403 and "X-Hub-Signature-256" in json.loads(body)["detail"]
    assert webhooks.nothing_applied()


def test_every_webhook_is_refused_while_no_app_secret_is_configured(webhooks: Webhooks) -> None:
    webhooks.services.config["whatsapp"]["app_secret"] = ""
    status, _ = webhooks.call(signed_post(envelope("statuses", [status_item("delivered")]), secret=""))
    assert status == 403 and webhooks.nothing_applied()


def test_a_malformed_body_is_refused_whole(webhooks: Webhooks) -> None:
    body = envelope("statuses", [status_item("delivered"), {"status": "read"}])
    status, _ = webhooks.call(signed_post(body))
    assert status == 400 and webhooks.nothing_applied()


# -- statuses -------------------------------------------------------------------------------------


def test_statuses_become_receipts_carrying_our_message_uuid(webhooks: Webhooks) -> None:
    failed = status_item("failed", errors=[{"code": 131026, "title": "Message undeliverable",
                                            "message": "Message undeliverable", "error_data": {"details": "d"}}])
    rejected = status_item("failed", errors=[{"code": 131047, "title": "Re-engagement message"}])
    body = envelope("statuses", [status_item("sent"), status_item("delivered"), status_item("read"), failed,
                                 rejected, status_item("deleted")])
    webhooks.call(signed_post(body))
    receipts = webhooks.services.statuses.receipts
    assert [(r.status, r.error["code"] if r.error else None) for r in receipts] == [
        ("submitted", None), ("delivered", None), ("read", None), ("undeliverable", 1260), ("rejected", 1340)
    ]
    assert {(r.channel, r.provider_ref, r.client_ref, r.occurred_at) for r in receipts} == {
        (Channel.WHATSAPP, "whatsapp#wamid.OUT", MESSAGE_UUID, 1795780700.0)
    }


# -- inbound --------------------------------------------------------------------------------------


MEDIA_URL = f"https://{HOST}/v1/whatsapp/media/{BUSINESS}/7788"
INBOUND_CASES = [
    (message_item("text", {"body": "hello"}), {"type": "text", "text": "hello"}),
    (message_item("image", {"id": "7788", "mime_type": "image/jpeg", "caption": "look"}),
     {"type": "image", "image": {"url": MEDIA_URL, "caption": "look", "mime_type": "image/jpeg"}}),
    (message_item("audio", {"id": "7788", "mime_type": "audio/ogg"}),
     {"type": "audio", "audio": {"url": MEDIA_URL, "mime_type": "audio/ogg"}}),
    (message_item("video", {"id": "7788"}), {"type": "video", "video": {"url": MEDIA_URL}}),
    (message_item("document", {"id": "7788", "filename": "a.pdf", "caption": "c"}),
     {"type": "file", "file": {"url": MEDIA_URL, "caption": "c", "name": "a.pdf"}}),
    (message_item("sticker", {"id": "7788", "animated": False}), {"type": "sticker", "sticker": {"url": MEDIA_URL}}),
    (message_item("location", {"latitude": 51.5, "longitude": -0.12, "name": "Office", "address": "1 Road"}),
     {"type": "location", "location": {"lat": "51.5", "long": "-0.12", "name": "Office", "address": "1 Road"}}),
    ({"from": CUSTOMER, "id": "wamid.IN-contacts", "timestamp": "1795780600", "type": "contacts",
      "contacts": [{"name": {"formatted_name": "Bo"}, "phones": [{"phone": "+447700900999"}]}]},
     {"type": "contacts", "contacts": [{"name": {"formatted_name": "Bo"}, "phones": [{"phone": "+447700900999"}]}]}),
    (message_item("button", {"payload": "STOP", "text": "Stop promotions"}),
     {"type": "button", "button": {"payload": "STOP", "text": "Stop promotions"}}),
    (message_item("interactive", {"type": "list_reply", "list_reply": {"id": "r1", "title": "Red", "description": "d"}}),
     {"type": "reply", "reply": {"id": "r1", "title": "Red", "description": "d"}, "reply_type": "list_reply"}),
    (message_item("reaction", {"message_id": "wamid.OUT", "emoji": "👍"}),
     {"type": "reaction", "reaction": {"action": "react", "message_id": "wamid.OUT", "emoji": "👍"}}),
    (message_item("unknown", {}), {"type": "unsupported", "provider_type": "unknown"}),
]


@pytest.mark.parametrize("item, content", INBOUND_CASES, ids=[c[1]["type"] for c in INBOUND_CASES])
def test_inbound_messages_of_every_type(webhooks: Webhooks, item: dict[str, Any], content: dict[str, Any]) -> None:
    status, _ = webhooks.call(signed_post(envelope("messages", [item])))
    assert status == 200
    [inbound] = webhooks.services.inbound.accepted
    assert inbound == InboundMessage(
        channel=Channel.WHATSAPP, sender=Endpoint("whatsapp", number=CUSTOMER),
        recipient=Endpoint("whatsapp", number=BUSINESS), content=content, occurred_at=1795780600.0,
        provider_message_id=item["id"],
    )


def test_a_reply_keeps_its_context_and_the_senders_profile_name(webhooks: Webhooks) -> None:
    item = message_item("text", {"body": "yes"}, context={"from": BUSINESS, "id": "wamid.OUT"})
    webhooks.call(signed_post(envelope("messages", [item], contacts=[{"profile": {"name": "Ann"}, "wa_id": CUSTOMER}])))
    [inbound] = webhooks.services.inbound.accepted
    assert inbound.content == {"type": "text", "text": "yes", "profile": {"name": "Ann"},
                               "context": {"message_from": BUSINESS, "provider_message_id": "wamid.OUT"}}


def test_each_inbound_message_opens_the_customer_service_window(webhooks: Webhooks) -> None:
    webhooks.call(signed_post(envelope("messages", [message_item("text", {"body": "hi"})])))
    assert webhooks.services.whatsapp_windows.recorded == [(BUSINESS, CUSTOMER, 1795780600.0)]


def test_an_unknown_phone_number_id_is_addressed_by_its_display_number(webhooks: Webhooks) -> None:
    webhooks.services.config["whatsapp"]["numbers"] = {}
    webhooks.call(signed_post(envelope("messages", [message_item("text", {"body": "hi"})])))
    assert webhooks.services.inbound.accepted[0].recipient.number == "447700900100"


def test_template_status_and_tier_changes_are_logged_and_change_nothing(
    webhooks: Webhooks, capsys: pytest.CaptureFixture[str]
) -> None:
    changes = [
        {"field": "message_template_status_update", "value": {
            "event": "APPROVED", "message_template_id": 1, "message_template_name": "order_ready",
            "message_template_language": "en_GB", "reason": "NONE"}},
        {"field": "phone_number_quality_update", "value": {
            "display_phone_number": BUSINESS, "event": "UPGRADE", "current_limit": "TIER_10K"}},
    ]
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": changes}]}).encode()
    status, _ = webhooks.call(signed_post(body))
    assert status == 200 and webhooks.nothing_applied()
    notices = [json.loads(line) for line in capsys.readouterr().out.splitlines()
               if "whatsapp account notice" in line]
    assert [(n["field"], n["notice"].get("event"), n["notice"].get("current_limit")) for n in notices] == [
        ("message_template_status_update", "APPROVED", None), ("phone_number_quality_update", "UPGRADE", "TIER_10K"),
    ]


def test_receipts_are_status_receipts_not_watermarks(webhooks: Webhooks) -> None:
    webhooks.call(signed_post(envelope("statuses", [status_item("read")])))
    assert all(isinstance(r, StatusReceipt) for r in webhooks.services.statuses.receipts)


def test_a_reply_to_one_of_the_owners_messages_names_our_message_uuid(webhooks: Webhooks) -> None:
    webhooks.services.whatsapp_replies = FakeReplies({(BUSINESS, CUSTOMER, "wamid.OUT"): MESSAGE_UUID})
    item = message_item("text", {"body": "yes"}, context={"from": BUSINESS, "id": "wamid.OUT"})
    webhooks.call(signed_post(envelope("messages", [item])))
    [inbound] = webhooks.services.inbound.accepted
    assert inbound.content["context"] == {"message_from": BUSINESS, "provider_message_id": "wamid.OUT",
                                          "message_uuid": MESSAGE_UUID}
