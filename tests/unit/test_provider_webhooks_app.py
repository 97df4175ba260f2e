"""The webhook routes through the real Lambda handler, with in-memory status and inbound services."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from vonage_http_client.auth import Auth

from switchboard import clock
from switchboard.domain.message import Channel
from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt
from tests.support.fakes.receipts import FakeInbound, FakeStatuses, Result
from switchboard.receipts.sms_signature import sign
from tests.support.lambdas import FakeLambdaContext, http_event
from tests.support.wiring import Handler, StubWebhookServices, webhooks_handler

NOW = 1_795_780_800
PAGE = "107083064136738"
PSID = "3523523523520000"
APP_SECRET = "messenger-app-secret"
VERIFY_TOKEN = "verify-token"
VIBER_SECRET = "viber-callback-secret"
SMS_SECRET = "sms-signature-secret"


@dataclass
class Webhooks:
    handler: Handler
    services: StubWebhookServices
    statuses: FakeStatuses
    inbound: FakeInbound
    config: dict[str, Any]
    cidrs: list[str]

    def call(self, event: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        response = self.handler(event, FakeLambdaContext(function_name="WebhooksFunction"))
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        return response["statusCode"], headers, response.get("body") or ""

    def nothing_applied(self) -> bool:
        return not (self.statuses.receipts or self.statuses.watermarks or self.inbound.accepted)


def channels_config() -> dict[str, Any]:
    return {
        "messenger": {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN, "pages": {PAGE: "token"}},
        "viber": {"callback_secret": VIBER_SECRET, "service_ids": ["16273"]},
        "sms": {"signature_secret": SMS_SECRET, "signature_method": "md5hash"},
    }


@pytest.fixture
def webhooks() -> Iterator[Webhooks]:
    statuses, inbound, config, cidrs = FakeStatuses(), FakeInbound(), channels_config(), []
    services = StubWebhookServices(statuses, inbound, config, cidrs)
    clock.set_clock(lambda: float(NOW))
    yield Webhooks(webhooks_handler(services), services, statuses, inbound, config, cidrs)
    clock.set_clock(None)


# -- request builders -------------------------------------------------------------------------


def with_query(event: dict[str, Any], params: dict[str, str]) -> dict[str, Any]:
    event["rawQueryString"] = urlencode(params)
    event["queryStringParameters"] = dict(params)
    return event


def from_ip(event: dict[str, Any], ip: str) -> dict[str, Any]:
    event["requestContext"]["http"]["sourceIp"] = ip
    return event


def messenger_body(*messaging: dict[str, Any]) -> bytes:
    return json.dumps({"object": "page", "entry": [{"id": PAGE, "time": 1, "messaging": list(messaging)}]}).encode()


def messenger_post(body: bytes, secret: str = APP_SECRET, header: str = "x-hub-signature-256") -> dict[str, Any]:
    algorithm = "sha256" if header.endswith("256") else "sha1"
    signature = f"{algorithm}=" + hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    return http_event("POST", "/webhooks/messenger", raw_body=body,
                      headers={"content-type": "application/json", header: signature})


def text_event(mid: str = "m_in", text: str = "hello") -> dict[str, Any]:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 1_795_780_000_000,
            "message": {"mid": mid, "text": text}}


def viber_post(fields: dict[str, Any] | None = None, secret: str = VIBER_SECRET) -> dict[str, Any]:
    body = json.dumps({"message_token": 5741311803571721087, "message_status": 0, "message_time": 1_795_780_000_000,
                       "phone_number": "447700900000", "service_id": 16273, **(fields or {})}).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return http_event("POST", "/webhooks/viber", raw_body=body,
                      headers={"content-type": "application/json", "x-viber-content-signature": signature})


DLR = {"msisdn": "447700900000", "to": "AcmeInc", "network-code": "23410", "messageId": "0A0000001234567B",
       "price": "0.03330000", "status": "delivered", "scts": "2611271159", "err-code": "0",
       "message-timestamp": "2026-11-27 11:59:58", "client-ref": "ref&1=2"}
INBOUND_SMS = {"msisdn": "447700900001", "to": "447700900100", "messageId": "0A0000000123ABCD1",
               "text": "Hello & welcome", "type": "text", "keyword": "HELLO",
               "message-timestamp": "2026-11-27 11:59:59"}


def sms_signed(params: dict[str, str], timestamp: int = NOW, method: str = "md5hash",
               secret: str = SMS_SECRET) -> dict[str, str]:
    stamped = {**params, "timestamp": str(timestamp), "nonce": "n-1"}
    return {**stamped, "sig": sign(stamped, secret, method)}


def sms_get(path: str, params: dict[str, str]) -> dict[str, Any]:
    return with_query(http_event("GET", path), params)


def sms_form(path: str, params: dict[str, str]) -> dict[str, Any]:
    return http_event("POST", path, raw_body=urlencode(params).encode(),
                      headers={"content-type": "application/x-www-form-urlencoded"})


def sms_json(path: str, params: dict[str, str]) -> dict[str, Any]:
    return http_event("POST", path, body=params)


def assert_problem(status: int, headers: dict[str, str], body: str, expected_status: int) -> dict[str, Any]:
    assert status == expected_status
    assert headers["content-type"] == "application/problem+json"
    doc = json.loads(body)
    assert {"type", "title", "detail", "instance"} <= set(doc)
    assert headers["x-nexmo-trace-id"] == doc["instance"]
    assert "Traceback" not in body
    return doc


# -- Messenger --------------------------------------------------------------------------------


def test_handshake_answers_the_challenge_as_text(webhooks: Webhooks) -> None:
    event = with_query(http_event("GET", "/webhooks/messenger"),
                       {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"})

    status, headers, body = webhooks.call(event)

    assert (status, body) == (200, "1158201444")
    assert headers["content-type"] == "text/plain"


@pytest.mark.parametrize(
    "params",
    [
        {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
        {},
    ],
)
def test_handshake_with_the_wrong_mode_or_token_is_forbidden(webhooks: Webhooks, params: dict[str, str]) -> None:
    doc = assert_problem(*webhooks.call(with_query(http_event("GET", "/webhooks/messenger"), params)), 403)

    assert doc["title"] == "Forbidden"


def test_handshake_is_forbidden_when_no_verify_token_is_configured(webhooks: Webhooks) -> None:
    webhooks.config["messenger"]["verify_token"] = ""
    event = with_query(http_event("GET", "/webhooks/messenger"),
                       {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"})

    assert_problem(*webhooks.call(event), 403)


def test_signed_messenger_events_are_applied(webhooks: Webhooks) -> None:
    body = messenger_body(
        text_event(),
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "delivery": {"mids": ["m_known"], "watermark": 5}},
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": 9, "read": {"watermark": 7}},
    )

    status, _, text = webhooks.call(messenger_post(body))

    assert (status, text) == (200, "OK")
    assert [m.content for m in webhooks.inbound.accepted] == [{"type": "text", "text": "hello"}]
    assert [(r.provider_message_id, r.status) for r in webhooks.statuses.receipts] == [("m_known", "delivered")]
    assert [(w.status, w.watermark_ms, w.conversation) for w in webhooks.statuses.watermarks] == [
        ("delivered", 5, f"messenger#{PAGE}#{PSID}"), ("read", 7, f"messenger#{PAGE}#{PSID}")
    ]


def test_the_sha1_signature_is_accepted_when_there_is_no_sha256(webhooks: Webhooks) -> None:
    status, _, _ = webhooks.call(messenger_post(messenger_body(text_event()), header="x-hub-signature"))

    assert status == 200 and len(webhooks.inbound.accepted) == 1


def test_a_base64_encoded_body_is_verified_on_its_bytes(webhooks: Webhooks) -> None:
    body = messenger_body(text_event(text="naïve ☕"))
    event = messenger_post(body)
    event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True

    assert webhooks.call(event)[0] == 200
    assert webhooks.inbound.accepted[0].content["text"] == "naïve ☕"


def tampered(body: bytes) -> dict[str, Any]:
    event = messenger_post(body)
    event["body"] = event["body"].replace("hello", "HELLO")  # changed after signing
    return event


@pytest.mark.parametrize(
    "make",
    [
        lambda body: http_event(
            "POST", "/webhooks/messenger", raw_body=body, headers={"content-type": "application/json"}
        ),
        lambda body: messenger_post(body, secret="wrong-secret"),
        lambda body: messenger_post(body, secret="wrong-secret", header="x-hub-signature"),
        tampered,
    ],
)
def test_unsigned_or_wrongly_signed_messenger_posts_change_nothing(webhooks: Webhooks, make: Any) -> None:
    assert_problem(*webhooks.call(make(messenger_body(text_event()))), 403)
    assert webhooks.nothing_applied()


def test_messenger_posts_are_refused_without_an_app_secret(webhooks: Webhooks) -> None:
    webhooks.config["messenger"]["app_secret"] = ""

    assert_problem(*webhooks.call(messenger_post(messenger_body(text_event()), secret="")), 403)
    assert webhooks.nothing_applied()


def test_echoes_and_other_events_are_answered_200_with_no_effect(webhooks: Webhooks) -> None:
    body = messenger_body(
        {"sender": {"id": PAGE}, "recipient": {"id": PSID}, "message": {"is_echo": True, "mid": "m", "text": "ours"}},
        {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "postback": {"payload": "GET_STARTED"}},
    )

    assert webhooks.call(messenger_post(body))[0] == 200
    assert webhooks.nothing_applied()


def test_a_receipt_for_an_unknown_message_is_answered_200(webhooks: Webhooks) -> None:
    body = messenger_body({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "delivery": {"mids": ["m_never_sent"]}})

    assert webhooks.call(messenger_post(body))[0] == 200
    assert [r.provider_message_id for r in webhooks.statuses.receipts] == ["m_never_sent"]


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"",
        json.dumps({"object": "page", "entry": "nope"}).encode(),
        messenger_body(text_event(), {"sender": {"id": PSID}, "recipient": {"id": PAGE}, "read": {"watermark": "x"}}),
        messenger_body({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "message": {"text": "no mid"}}),
    ],
)
def test_malformed_messenger_bodies_are_400_and_change_nothing(webhooks: Webhooks, body: bytes) -> None:
    doc = assert_problem(*webhooks.call(messenger_post(body)), 400)

    assert doc["type"] in ("https://developer.nexmo.com/api-errors#invalid-json",
                           "https://www.nexmo.com/messages/Errors#InvalidParams")
    assert webhooks.nothing_applied()


def test_a_failure_of_our_own_is_500_without_details(webhooks: Webhooks) -> None:
    webhooks.statuses.fail = True
    body = messenger_body({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "delivery": {"mids": ["m_known"]}})

    status, headers, text = webhooks.call(messenger_post(body))

    doc = assert_problem(status, headers, text, 500)
    assert "secret text" not in text and "Provisioned" not in text
    assert doc["type"] == "https://api.example.test/docs/errors#internal-error"  # the host the provider called


def test_an_event_whose_webhook_is_being_queued_elsewhere_is_503(
    webhooks: Webhooks, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard.notifier.outbox import NotificationInProgress

    def held(receipt: StatusReceipt) -> Result:
        raise NotificationInProgress("0f8fad5b-d9cb-469f-a165-70867728950e")

    monkeypatch.setattr(webhooks.statuses, "apply_receipt", held)

    status, headers, body = webhooks.call(viber_post())

    assert_problem(status, headers, body, 503)
    assert headers["retry-after"] == "1"


def test_an_oversized_body_is_refused(webhooks: Webhooks) -> None:
    body = b'{"object": "page", "entry": [], "pad": "' + b"x" * (1024 * 1024) + b'"}'

    assert_problem(*webhooks.call(messenger_post(body)), 413)


# -- Viber ------------------------------------------------------------------------------------


def test_signed_viber_callbacks_are_applied(webhooks: Webhooks) -> None:
    assert webhooks.call(viber_post())[0] == 200
    assert webhooks.call(viber_post({"message_status": 1}))[0] == 200
    assert webhooks.call(viber_post({"message_status": 2}))[0] == 200

    assert [(r.channel, r.provider_message_id, r.status) for r in webhooks.statuses.receipts] == [
        (Channel.VIBER, "5741311803571721087", "delivered"),
        (Channel.VIBER, "5741311803571721087", "read"),
        (Channel.VIBER, "5741311803571721087", "undeliverable"),
    ]
    assert webhooks.statuses.receipts[2].error == {
        "code": 1360, "reason": "TTL was activated (no callbacks and no charge)"
    }


def test_viber_callbacks_with_a_bad_or_missing_signature_change_nothing(webhooks: Webhooks) -> None:
    unsigned = viber_post()
    del unsigned["headers"]["x-viber-content-signature"]

    assert_problem(*webhooks.call(viber_post(secret="wrong")), 403)
    assert_problem(*webhooks.call(unsigned), 403)
    assert webhooks.nothing_applied()


def test_the_viber_source_allow_list(webhooks: Webhooks) -> None:
    webhooks.cidrs.extend(["203.0.113.0/24"])

    assert_problem(*webhooks.call(from_ip(viber_post(), "198.51.100.7")), 403)
    assert webhooks.nothing_applied()
    assert webhooks.call(from_ip(viber_post(), "203.0.113.7"))[0] == 200
    assert len(webhooks.statuses.receipts) == 1


def test_malformed_viber_callbacks_are_400(webhooks: Webhooks) -> None:
    assert_problem(*webhooks.call(viber_post({"message_token": None})), 400)
    assert_problem(*webhooks.call(viber_post({"message_status": "seen"})), 400)
    assert webhooks.nothing_applied()


def test_unknown_viber_statuses_and_tokens_are_answered_200(webhooks: Webhooks) -> None:
    assert webhooks.call(viber_post({"message_status": 9}))[0] == 200
    assert webhooks.call(viber_post({"message_token": 1}))[0] == 200
    assert [r.provider_message_id for r in webhooks.statuses.receipts] == ["1"]


# -- SMS API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("build", [sms_get, sms_form, sms_json])
def test_signed_dlrs_in_every_form(webhooks: Webhooks, build: Any) -> None:
    status, _, _ = webhooks.call(build("/webhooks/sms/dlr", sms_signed({**DLR, "status": "failed", "err-code": "6"})))

    assert status == 200
    (receipt,) = webhooks.statuses.receipts
    assert (receipt.channel, receipt.provider_message_id, receipt.status, receipt.error) == (
        Channel.SMS, "0A0000001234567B", "undeliverable", {"code": 1210, "reason": "Anti-Spam Rejection"}
    )


@pytest.mark.parametrize("build", [sms_get, sms_form, sms_json])
def test_signed_inbound_sms_in_every_form(webhooks: Webhooks, build: Any) -> None:
    assert webhooks.call(build("/webhooks/sms/inbound", sms_signed(INBOUND_SMS)))[0] == 200

    (inbound,) = webhooks.inbound.accepted
    assert (inbound.sender.number, inbound.recipient.number, inbound.content) == (
        "447700900001", "447700900100", {"type": "text", "text": "Hello & welcome"}
    )


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_sms_requests_signed_by_the_official_sdk_are_accepted(webhooks: Webhooks, method: str) -> None:
    webhooks.config["sms"]["signature_method"] = method
    params = {**DLR, "timestamp": str(NOW)}
    sdk = Auth(api_key="abcd1234", signature_secret=SMS_SECRET, signature_method=method)
    params["sig"] = sdk.sign_params(dict(params))

    assert webhooks.call(sms_form("/webhooks/sms/dlr", params))[0] == 200
    assert len(webhooks.statuses.receipts) == 1


@pytest.mark.parametrize(
    "params",
    [
        DLR,  # unsigned
        {**sms_signed(DLR), "sig": "0" * 32},
        {**sms_signed(DLR), "status": "rejected"},  # changed after signing
        sms_signed(DLR, secret="another-secret"),
        sms_signed(DLR, method="sha256"),  # not the configured method
        {k: v for k, v in sms_signed(DLR).items() if k != "timestamp"},
    ],
)
def test_badly_signed_sms_webhooks_change_nothing(webhooks: Webhooks, params: dict[str, str]) -> None:
    assert_problem(*webhooks.call(sms_get("/webhooks/sms/dlr", params)), 403)
    assert webhooks.nothing_applied()


def test_a_replayed_stale_sms_signature_is_refused(webhooks: Webhooks) -> None:
    captured = sms_signed(INBOUND_SMS, timestamp=NOW - 301)

    doc = assert_problem(*webhooks.call(sms_form("/webhooks/sms/inbound", captured)), 403)

    assert "timestamp" in doc["detail"]
    assert webhooks.nothing_applied()


@pytest.mark.parametrize("secret", ["", None])
def test_unsigned_sms_webhooks_are_refused_when_no_signature_secret_is_configured(
    webhooks: Webhooks, caplog: pytest.LogCaptureFixture, secret: str | None
) -> None:
    if secret is None:
        del webhooks.config["sms"]["signature_secret"]
    else:
        webhooks.config["sms"]["signature_secret"] = secret

    dlr = assert_problem(*webhooks.call(sms_get("/webhooks/sms/dlr", DLR)), 403)
    inbound = assert_problem(*webhooks.call(sms_form("/webhooks/sms/inbound", INBOUND_SMS)), 403)
    signed = assert_problem(*webhooks.call(sms_json("/webhooks/sms/dlr", sms_signed(DLR))), 403)

    assert webhooks.nothing_applied()
    # Refused exactly as a bad signature is: nothing tells a caller that the deployment lacks a secret.
    assert dlr["detail"] == inbound["detail"] == signed["detail"] == "The sig parameter is missing or invalid."
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 3
    assert all("sms.signature_secret is not configured" in e and "AllowUnsignedSmsWebhooks" in e for e in errors)


def test_allow_unsigned_sms_webhooks_accepts_them_while_no_secret_is_configured(webhooks: Webhooks) -> None:
    webhooks.services.allow_unsigned_sms = True
    webhooks.config["sms"]["signature_secret"] = ""

    assert webhooks.call(sms_get("/webhooks/sms/dlr", DLR))[0] == 200
    assert webhooks.call(sms_form("/webhooks/sms/inbound", INBOUND_SMS))[0] == 200
    assert len(webhooks.statuses.receipts) == len(webhooks.inbound.accepted) == 1


def test_allow_unsigned_sms_webhooks_does_not_lift_a_configured_signature(webhooks: Webhooks) -> None:
    webhooks.services.allow_unsigned_sms = True

    assert_problem(*webhooks.call(sms_get("/webhooks/sms/dlr", DLR)), 403)
    assert webhooks.nothing_applied()


def test_an_unknown_signature_method_refuses_every_sms_webhook(webhooks: Webhooks) -> None:
    webhooks.config["sms"]["signature_method"] = "sha3"

    assert_problem(*webhooks.call(sms_get("/webhooks/sms/dlr", sms_signed(DLR))), 403)
    assert webhooks.nothing_applied()


@pytest.mark.parametrize("status", ["accepted", "buffered", "unknown"])
def test_intermediate_dlrs_are_answered_200_with_no_effect(webhooks: Webhooks, status: str) -> None:
    assert webhooks.call(sms_get("/webhooks/sms/dlr", sms_signed({**DLR, "status": status})))[0] == 200
    assert webhooks.nothing_applied()


def test_a_dlr_for_an_unknown_message_is_answered_200(webhooks: Webhooks) -> None:
    assert webhooks.call(sms_get("/webhooks/sms/dlr", sms_signed({**DLR, "messageId": "FFFF"})))[0] == 200
    assert [r.provider_message_id for r in webhooks.statuses.receipts] == ["FFFF"]


def test_a_request_without_parameters_is_a_reachability_check(webhooks: Webhooks) -> None:
    assert webhooks.call(http_event("GET", "/webhooks/sms/inbound"))[0] == 200
    assert webhooks.call(http_event("POST", "/webhooks/sms/dlr"))[0] == 200
    assert webhooks.nothing_applied()


@pytest.mark.parametrize(
    "event",
    [
        sms_get("/webhooks/sms/dlr", sms_signed({k: v for k, v in DLR.items() if k != "messageId"})),
        sms_get("/webhooks/sms/inbound", sms_signed({k: v for k, v in INBOUND_SMS.items() if k != "to"})),
        http_event("POST", "/webhooks/sms/dlr", raw_body=b"{broken", headers={"content-type": "application/json"}),
    ],
)
def test_malformed_sms_webhooks_are_400(webhooks: Webhooks, event: dict[str, Any]) -> None:
    assert_problem(*webhooks.call(event), 400)
    assert webhooks.nothing_applied()


def test_an_unsupported_sms_content_type_is_415(webhooks: Webhooks) -> None:
    event = http_event("POST", "/webhooks/sms/dlr", raw_body=b"<dlr/>", headers={"content-type": "text/xml"})

    assert_problem(*webhooks.call(event), 415)


# -- bounded JSON -----------------------------------------------------------------------------

DEEP_JSON = b'{"object": "page", "message_token": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
DEEP_OBJECTS = b'{"a":' * 20_000 + b"1" + b"}" * 20_000


def signed_viber(body: bytes, secret: str = VIBER_SECRET) -> dict[str, Any]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return http_event("POST", "/webhooks/viber", raw_body=body,
                      headers={"content-type": "application/json", "x-viber-content-signature": signature})


def unsigned_post(path: str, body: bytes) -> dict[str, Any]:
    return http_event("POST", path, raw_body=body, headers={"content-type": "application/json"})


@pytest.mark.parametrize("body", [DEEP_JSON, DEEP_OBJECTS], ids=["arrays", "objects"])
@pytest.mark.parametrize(
    "make",
    [
        lambda body: unsigned_post("/webhooks/messenger", body),
        lambda body: messenger_post(body, secret="wrong-secret"),
        lambda body: unsigned_post("/webhooks/viber", body),
        lambda body: signed_viber(body, secret="wrong-secret"),
    ],
    ids=["messenger unsigned", "messenger wrongly signed", "viber unsigned", "viber wrongly signed"],
)
def test_a_deep_body_without_a_valid_signature_is_refused_before_it_is_parsed(
    webhooks: Webhooks, make: Any, body: bytes
) -> None:
    assert_problem(*webhooks.call(make(body)), 403)
    assert webhooks.nothing_applied()


@pytest.mark.parametrize("body", [DEEP_JSON, DEEP_OBJECTS], ids=["arrays", "objects"])
@pytest.mark.parametrize("make", [messenger_post, signed_viber], ids=["messenger", "viber"])
def test_a_deep_signed_body_is_a_400(webhooks: Webhooks, make: Any, body: bytes) -> None:
    doc = assert_problem(*webhooks.call(make(body)), 400)

    assert doc["title"] == "Invalid JSON" and "levels deep" in doc["detail"]
    assert webhooks.nothing_applied()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (DEEP_JSON, "application/json"),
        (DEEP_OBJECTS, "application/json"),
        (b"[" * 200_000, "application/json"),
        (DEEP_JSON, None),  # no Content-Type: a body starting with "{" is read as JSON
        (DEEP_OBJECTS, None),
    ],
    ids=["arrays", "objects", "unclosed", "arrays without content type", "objects without content type"],
)
@pytest.mark.parametrize("path", ["/webhooks/sms/dlr", "/webhooks/sms/inbound"])
def test_a_deep_json_sms_webhook_is_a_400_without_authentication(
    webhooks: Webhooks, path: str, body: bytes, content_type: str | None
) -> None:
    # The SMS API signs parameters, so the body is parsed before the signature can be checked.
    event = http_event("POST", path, raw_body=body, headers={"content-type": content_type} if content_type else {})

    doc = assert_problem(*webhooks.call(event), 400)

    assert doc["title"] == "Invalid JSON" and "levels deep" in doc["detail"]
    assert webhooks.nothing_applied()


def test_an_out_of_range_number_in_a_signed_body_is_a_400(webhooks: Webhooks) -> None:
    body = b'{"message_token": 5741311803571721087, "message_status": 0, "message_time": 1e999}'

    assert_problem(*webhooks.call(signed_viber(body)), 400)
    assert webhooks.nothing_applied()


# -- routing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("GET", "/webhooks/unknown", 404, None),
        ("POST", "/webhooks/sms", 404, None),
        ("GET", "/webhooks/viber", 405, "POST"),
        ("PUT", "/webhooks/messenger", 405, "GET, POST"),
        ("DELETE", "/webhooks/sms/dlr", 405, "GET, POST"),
    ],
)
def test_unknown_routes_and_methods(webhooks: Webhooks, method: str, path: str, status: int, allow: str | None) -> None:
    _, headers, _ = response = webhooks.call(http_event(method, path))

    assert_problem(*response, status)
    assert headers.get("allow") == allow
