"""``python -m local_stack.replay``: sample provider webhooks, re-signed for a stack, pass the API's own checks."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import boto3
import pytest

from local_stack.aws_server import AwsServer
from local_stack.replay import (
    CapturedWebhook,
    ReplayError,
    TargetMessage,
    aim_at,
    describe_sample,
    find_local_dir,
    load_webhook,
    local_stack_target,
    main,
    resign,
    webhook_from_api_gateway_event,
    webhook_from_provider_body,
)
from local_stack.simulators import DEMO_PAGE_ID, DEMO_SMS_NUMBER, DEMO_VIBER_SERVICE_ID
from local_stack.simulators.http_server import BackgroundHttpServer, HttpRequest, HttpResponse
from local_stack.template import ROOT
from switchboard.domain.provider_events import InboundMessage, StatusReceipt, WatermarkReceipt
from switchboard.receipts import messenger_webhook as messenger_webhooks
from tests.support.lambdas import FakeLambdaContext
from tests.support.wiring import Handler, StubWebhookServices, webhooks_handler

EVENTS = ROOT / "events"
SAMPLE_EVENTS = sorted(EVENTS.glob("webhooks_*.json"))
OTHER_PAGE_ID = "990000000000001"
JSON, FORM = "application/json", "application/x-www-form-urlencoded"
SMS_INBOUND = "/webhooks/sms/inbound"


def channels_config(
    pages: tuple[str, ...] = (DEMO_PAGE_ID,), sms_secret: str = "stack-sms-signature-secret"
) -> dict[str, Any]:
    return {
        "messenger": {
            "app_secret": "stack-app-secret",
            "verify_token": "stack-verify-token",
            "pages": {page: f"token-{page}" for page in pages},
        },
        "viber": {"callback_secret": "stack-viber-secret", "service_ids": [DEMO_VIBER_SERVICE_ID]},
        "sms": {"signature_secret": sms_secret, "signature_method": "md5hash"},
        "whatsapp": {
            "app_secret": "stack-whatsapp-secret", "verify_token": "stack-whatsapp-verify",
            "numbers": {"447700900555": {"phone_number_id": "155500000000001", "access_token": "t"}},
        },
    }


# -- the API's webhook routes, with in-memory services ---------------------------------------------


@dataclass(frozen=True)
class Result:
    effect: str


@dataclass
class Recorder:
    events: list[Any] = field(default_factory=list)

    def apply_receipt(self, receipt: StatusReceipt) -> Result:
        self.events.append(receipt)
        return Result("applied")

    def apply_watermark(self, receipt: WatermarkReceipt) -> list[Result]:
        self.events.append(receipt)
        return [Result("applied")]

    def accept(self, inbound: InboundMessage) -> Result:
        self.events.append(inbound)
        return Result("accepted")


@dataclass
class WebhookRoutes:
    handler: Handler
    applied: Recorder

    def call(self, webhook: CapturedWebhook) -> tuple[int, str]:
        event = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": webhook.path,
            "rawQueryString": webhook.query,
            "headers": {"host": "127.0.0.1:3000", **{k.lower(): v for k, v in webhook.headers.items()}},
            "requestContext": {
                "accountId": "123456789012",
                "apiId": "api",
                "http": {
                    "method": webhook.method,
                    "path": webhook.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": "127.0.0.1",
                },
                "requestId": "request",
                "routeKey": "$default",
                "stage": "$default",
                "timeEpoch": 0,
            },
            "body": webhook.body.decode("utf-8"),
            "isBase64Encoded": False,
        }
        response = self.handler(event, FakeLambdaContext(function_name="WebhooksFunction"))
        return response["statusCode"], response.get("body") or ""


@pytest.fixture
def routes() -> Iterator[WebhookRoutes]:
    applied, config = Recorder(), channels_config()
    yield WebhookRoutes(webhooks_handler(StubWebhookServices(applied, applied, config)), applied)


def json_body(webhook: CapturedWebhook) -> dict[str, Any]:
    return json.loads(webhook.body)


def form(webhook: CapturedWebhook) -> dict[str, str]:
    return dict(parse_qsl(webhook.query if webhook.method == "GET" else webhook.body.decode(), keep_blank_values=True))


# -- every sample event -----------------------------------------------------------------------------


def test_there_is_a_sample_for_every_provider_route() -> None:
    paths = {load_webhook(path).path for path in SAMPLE_EVENTS}
    assert paths == {"/webhooks/messenger", "/webhooks/viber", "/webhooks/sms/dlr", "/webhooks/sms/inbound",
                     "/webhooks/whatsapp"}


@pytest.mark.parametrize("path", SAMPLE_EVENTS, ids=lambda path: path.stem)
def test_every_sample_is_refused_as_it_is_and_accepted_once_re_signed(routes: WebhookRoutes, path: Path) -> None:
    sample = load_webhook(path)
    sample_status, _ = routes.call(sample)
    assert sample_status == 403  # signed with the sample secrets, or stale
    assert routes.applied.events == []

    status, body = routes.call(resign(sample, channels_config()))

    assert status == 200, body
    if sample.method == "GET" and sample.path in ("/webhooks/messenger", "/webhooks/whatsapp"):
        assert body == "1158201444"  # the handshake's challenge
    else:
        assert routes.applied.events, "nothing was applied"


def test_a_re_signed_messenger_message_is_an_inbound_message_to_the_stacks_page(routes: WebhookRoutes) -> None:
    webhook = resign(load_webhook(EVENTS / "webhooks_messenger_text.json"), channels_config())

    assert routes.call(webhook)[0] == 200
    (inbound,) = routes.applied.events
    assert isinstance(inbound, InboundMessage)
    assert (inbound.recipient.id, inbound.sender.id) == (DEMO_PAGE_ID, "3523523523520000")
    assert inbound.content == {"type": "text", "text": "hello, is my order on its way?"}
    assert inbound.provider_message_id == "m_text-sample-0001"


# -- what is rewritten ----------------------------------------------------------------------------


def test_messenger_page_ids_become_the_stacks_page_and_echoes_keep_the_user() -> None:
    body = {
        "object": "page",
        "entry": [
            {
                "id": DEMO_PAGE_ID,
                "time": 1,
                "messaging": [
                    {
                        "sender": {"id": "111"},
                        "recipient": {"id": DEMO_PAGE_ID},
                        "message": {"mid": "m1", "text": "hi"},
                    },
                    {
                        "sender": {"id": DEMO_PAGE_ID},
                        "recipient": {"id": "111"},
                        "message": {"mid": "m2", "text": "echo", "is_echo": True},
                    },
                ],
            }
        ],
    }
    captured = CapturedWebhook(
        "POST",
        "/webhooks/messenger",
        "",
        {"content-type": "application/json", "host": "example", "x-hub-signature-256": "sha256=00", "user-agent": "fb"},
        json.dumps(body).encode(),
    )
    config = channels_config(pages=(OTHER_PAGE_ID,))

    webhook = resign(captured, config)

    data = json_body(webhook)
    entry = data["entry"][0]
    assert entry["id"] == OTHER_PAGE_ID
    assert entry["messaging"][0]["recipient"] == {"id": OTHER_PAGE_ID}
    assert entry["messaging"][0]["sender"] == {"id": "111"}
    assert entry["messaging"][1]["sender"] == {"id": OTHER_PAGE_ID}
    assert entry["messaging"][1]["recipient"] == {"id": "111"}
    assert [item["message"]["mid"] for item in entry["messaging"]] == ["m1", "m2"]
    assert set(webhook.headers) == {"content-type", "user-agent", "X-Hub-Signature-256", "X-Hub-Signature"}
    lower = {k.lower(): v for k, v in webhook.headers.items()}
    assert messenger_webhooks.signature_valid(lower, webhook.body, "stack-app-secret")


def test_new_ids_make_a_new_inbound_message_each_time() -> None:
    messenger = load_webhook(EVENTS / "webhooks_messenger_text.json")
    sms = load_webhook(EVENTS / "webhooks_sms_inbound.json")
    config = channels_config()

    def mid(webhook: CapturedWebhook) -> str:
        return json_body(webhook)["entry"][0]["messaging"][0]["message"]["mid"]

    kept, first, second = (resign(messenger, config, new_ids=flag) for flag in (False, True, True))
    assert mid(kept) == "m_text-sample-0001"
    assert mid(first).startswith("m_text-sample-0001-") and mid(first) != mid(second)
    sms_ids = {json_body(resign(sms, config, new_ids=flag))["messageId"] for flag in (False, True, True)}
    assert len(sms_ids) == 3 and "0A0000000123ABCD1" in sms_ids


def test_receipt_ids_are_never_changed() -> None:
    config = channels_config()
    delivery = resign(load_webhook(EVENTS / "webhooks_messenger_delivery.json"), config, new_ids=True)
    dlr = resign(load_webhook(EVENTS / "webhooks_sms_dlr_failed.json"), config, new_ids=True)

    assert json_body(delivery)["entry"][0]["messaging"][0]["delivery"]["mids"] == ["mid.$cAAJsujCd2ORj_1qmrFdzhVa-4cvO"]
    assert form(dlr)["messageId"] == "0A0000001234567C"


def test_viber_service_id_becomes_the_stacks_service() -> None:
    captured = webhook_from_provider_body(json.dumps({"message_token": 1, "message_status": 0, "service_id": 99}))

    webhook = resign(captured, channels_config())

    assert json_body(webhook)["service_id"] == int(DEMO_VIBER_SERVICE_ID)
    assert "X-Viber-Content-Signature" in webhook.headers


def test_an_inbound_sms_goes_to_the_demo_number_and_keeps_its_transport() -> None:
    config = channels_config()
    json_inbound = resign(load_webhook(EVENTS / "webhooks_sms_inbound.json"), config, now=1_800_000_000)
    get_dlr = resign(load_webhook(EVENTS / "webhooks_sms_dlr_delivered.json"), config, now=1_800_000_000)
    form_dlr = resign(load_webhook(EVENTS / "webhooks_sms_dlr_failed.json"), config, now=1_800_000_000)

    inbound = json_body(json_inbound)
    assert (json_inbound.method, inbound["to"], inbound["msisdn"]) == ("POST", DEMO_SMS_NUMBER, "447700900000")
    assert inbound["timestamp"] == "1800000000"
    assert (get_dlr.method, get_dlr.body, form(get_dlr)["to"]) == ("GET", b"", "AcmeInc")
    assert form(get_dlr)["timestamp"] == "1800000000"
    assert form_dlr.method == "POST" and form_dlr.query == ""
    assert form(form_dlr)["status"] == "failed"
    assert form(get_dlr)["nonce"] != "8f2c6a4e-5b1d-4c3a-9e7f-0a1b2c3d4e5f"


def test_sms_webhooks_are_sent_unsigned_to_a_stack_without_an_sms_signature_secret() -> None:
    webhook = resign(load_webhook(EVENTS / "webhooks_sms_dlr_delivered.json"), channels_config(sms_secret=""))

    assert not {"sig", "timestamp", "nonce"} & set(form(webhook))


def test_the_messenger_handshake_gets_the_stacks_verify_token() -> None:
    webhook = resign(load_webhook(EVENTS / "webhooks_messenger_verify.json"), channels_config())

    assert webhook.method == "GET"
    assert dict(parse_qsl(webhook.query))["hub.verify_token"] == "stack-verify-token"


# -- reading event files ----------------------------------------------------------------------------


def test_an_api_gateway_event_gives_method_path_query_headers_and_body() -> None:
    event = json.loads((EVENTS / "webhooks_sms_dlr_delivered.json").read_text())
    webhook = webhook_from_api_gateway_event(event)
    assert (webhook.method, webhook.path, webhook.body) == ("GET", "/webhooks/sms/dlr", b"")
    assert webhook.query == event["rawQueryString"]
    assert webhook.headers["user-agent"] == "Nexmo/MessagingHUB/v1.0"

    event = {
        "rawPath": "/webhooks/viber",
        "requestContext": {"http": {"method": "POST"}},
        "headers": {"Content-Type": "application/json"},
        "body": base64.b64encode(b'{"message_token": 1}').decode(),
        "isBase64Encoded": True,
        "queryStringParameters": {"a": "1"},
    }
    webhook = webhook_from_api_gateway_event(event)
    assert (webhook.body, webhook.query, webhook.media_type()) == (b'{"message_token": 1}', "a=1", "application/json")


@pytest.mark.parametrize(
    ("body", "path", "content_type"),
    [
        ('{"object": "page", "entry": []}', "/webhooks/messenger", JSON),
        ('{"message_token": 5, "message_status": 1}', "/webhooks/viber", JSON),
        ("messageId=0A1&status=delivered&msisdn=447700900000", "/webhooks/sms/dlr", FORM),
        ('{"msisdn": "447700900000", "to": "447700900001", "messageId": "1", "text": "hi"}', SMS_INBOUND, JSON),
        ("msisdn=447700900000&to=447700900001&messageId=1&text=hi", SMS_INBOUND, FORM),
    ],
)
def test_a_raw_provider_body_goes_to_the_route_its_fields_name(
    tmp_path: Path, body: str, path: str, content_type: str
) -> None:
    file = tmp_path / "body.txt"
    file.write_text(body + "\n")

    webhook = load_webhook(file)

    assert (webhook.method, webhook.path, webhook.headers["content-type"]) == ("POST", path, content_type)
    assert webhook.body == body.encode()


@pytest.mark.parametrize("body", ['{"hello": "world"}', "just some text", "[1, 2]", "{not json"])
def test_a_body_of_no_provider_is_refused(tmp_path: Path, body: str) -> None:
    file = tmp_path / "body.json"
    file.write_text(body)

    with pytest.raises(ReplayError):
        load_webhook(file)


def test_a_missing_event_file_or_stack_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReplayError, match="cannot read"):
        load_webhook(tmp_path / "missing.json")
    with pytest.raises(ReplayError, match="make run"):
        find_local_dir(str(tmp_path / "no-stack"))


# -- the command, against a stand-in stack ---------------------------------------------------------


@dataclass
class StandInStack:
    local_dir: Path
    received: list[HttpRequest]
    answer: list[int]
    dynamodb: Any = None
    messages_table: str = ""

    def put_message(self, item: dict[str, Any]) -> None:
        self.dynamodb.put_item(TableName=self.messages_table, Item=item)


@pytest.fixture
def stand_in_stack(tmp_path: Path) -> Iterator[StandInStack]:
    """moto with the channels secret, an API that records requests and logs one sink record per 200.

    moto's server keeps its state in this process, so every secret gets a name of its own.
    """
    aws = AwsServer()
    aws.start()
    local_dir = tmp_path / "local"
    local_dir.mkdir()
    webhook_log = local_dir / "webhooks.jsonl"
    webhook_log.write_text("")
    received: list[HttpRequest] = []
    answer = [200]

    def handle(request: HttpRequest) -> HttpResponse:
        received.append(request)
        if answer[0] == 200:
            # Another message's status webhook arrives meanwhile (the stack's own traffic), then the inbound one.
            unrelated = {"method": "POST", "path": "/webhooks/status", "signature_valid": True,
                         "body": {"message_uuid": "someone-elses", "status": "delivered"}}
            record = {
                "method": "POST",
                "path": "/webhooks/inbound",
                "body": {"direction": "inbound", "seen": request.path},
                "signature_valid": True,
            }
            with webhook_log.open("a") as log:
                log.write(json.dumps(unrelated) + "\n" + json.dumps(record) + "\n")
            return HttpResponse.text(200, "OK")
        return HttpResponse.text(answer[0], "refused")

    api = BackgroundHttpServer(handle)
    api.start()
    try:
        secrets_manager = boto3.session.Session().client(
            "secretsmanager",
            endpoint_url=aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        secret = json.dumps(channels_config())
        arn = secrets_manager.create_secret(Name=f"channels-{uuid.uuid4()}", SecretString=secret)["ARN"]
        dynamodb = boto3.session.Session().client(
            "dynamodb", endpoint_url=aws.endpoint_url, region_name="us-east-1",
            aws_access_key_id="local", aws_secret_access_key="local",
        )
        messages_table = f"messages-{uuid.uuid4()}"
        dynamodb.create_table(
            TableName=messages_table, BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "message_uuid", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "message_uuid", "KeyType": "HASH"}],
        )
        stack_json = {
            "api_url": f"http://127.0.0.1:{api.port}",
            "webhook_log": str(webhook_log),
            "aws_endpoint_url": aws.endpoint_url,
        }
        (local_dir / "stack.json").write_text(json.dumps(stack_json))
        (local_dir / "outputs.json").write_text(json.dumps({"ChannelsSecretArn": arn, "MessagesTableName": messages_table}))
        yield StandInStack(local_dir, received, answer, dynamodb, messages_table)
    finally:
        api.stop()
        aws.stop()


def test_the_target_is_read_from_the_state_files_and_moto(stand_in_stack: StandInStack) -> None:
    target = local_stack_target(stand_in_stack.local_dir)

    assert target.channels == channels_config()
    assert target.webhook_log == stand_in_stack.local_dir / "webhooks.jsonl"


def test_replay_posts_the_re_signed_event_and_prints_the_webhooks_that_arrive(
    stand_in_stack: StandInStack, capsys: pytest.CaptureFixture[str]
) -> None:
    event_file = EVENTS / "webhooks_messenger_text.json"

    code = main([str(event_file), "--local-dir", str(stand_in_stack.local_dir), "--wait", "5"])

    assert code == 0
    (request,) = stand_in_stack.received
    assert (request.method, request.path) == ("POST", "/webhooks/messenger")
    lower = {k.lower(): v for k, v in request.headers.items()}
    assert messenger_webhooks.signature_valid(lower, request.body, "stack-app-secret")
    output = capsys.readouterr().out
    assert "-> POST http://127.0.0.1:" in output and "/webhooks/messenger: 200 OK" in output
    assert "<- POST /webhooks/inbound (signature valid)" in output
    assert '"seen": "/webhooks/messenger"' in output
    assert "someone-elses" not in output  # only what the replay caused


def test_a_refused_replay_exits_1(stand_in_stack: StandInStack, capsys: pytest.CaptureFixture[str]) -> None:
    stand_in_stack.answer[0] = 403

    code = main([str(EVENTS / "webhooks_messenger_image.json"), "--local-dir", str(stand_in_stack.local_dir), "--wait", "0"])

    assert code == 1
    assert ": 403 refused" in capsys.readouterr().out


def test_without_a_running_stack_replay_says_how_to_start_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([str(EVENTS / "webhooks_messenger_text.json"), "--local-dir", str(tmp_path)])

    assert code == 1
    assert "make run" in capsys.readouterr().err


# -- what a sample says it does, and receipts aimed at a message ------------------------------------

RECEIPTS = {"webhooks_messenger_delivery", "webhooks_messenger_read", "webhooks_sms_dlr_delivered",
            "webhooks_sms_dlr_failed", "webhooks_viber_delivered", "webhooks_viber_seen", "webhooks_whatsapp_read",
            "webhooks_whatsapp_failed"}


@pytest.mark.parametrize("path", SAMPLE_EVENTS, ids=lambda path: path.stem)
def test_every_sample_says_what_it_does_and_whether_it_is_a_receipt(path: Path) -> None:
    kind = describe_sample(load_webhook(path))
    assert kind.receipt == (path.stem in RECEIPTS)
    assert kind.what.startswith(("a ", "an ", "the "))


def test_the_inbound_sms_sample_comes_from_a_user_not_from_the_demo_number() -> None:
    sample = json.loads(load_webhook(EVENTS / "webhooks_sms_inbound.json").body)
    assert sample["msisdn"] != DEMO_SMS_NUMBER


SENT = {
    "messenger": TargetMessage("m-uuid", "messenger", OTHER_PAGE_ID, "5551234567", "mid.$real", "submitted"),
    "viber_service_msg": TargetMessage("v-uuid", "viber_service_msg", "55501", "447700900000", "6000000000000000001", "submitted"),
    "sms": TargetMessage("s-uuid", "sms", "447700900001", "447700900123", "0B00000000000001", "submitted"),
}


@pytest.mark.parametrize(
    ("sample", "channel"),
    [("webhooks_messenger_delivery", "messenger"), ("webhooks_viber_delivered", "viber_service_msg"),
     ("webhooks_sms_dlr_delivered", "sms")],
)
def test_a_receipt_aimed_at_a_message_names_its_provider_id_and_passes_the_apis_checks(
    routes: WebhookRoutes, sample: str, channel: str
) -> None:
    message = SENT[channel]
    config = channels_config(pages=(DEMO_PAGE_ID, OTHER_PAGE_ID))
    config["viber"]["service_ids"].append("55501")
    webhook = load_webhook(EVENTS / f"{sample}.json")

    aimed = resign(aim_at(webhook, describe_sample(webhook), message), config,
                   page_id=message.sender, service_id=message.sender)

    assert routes.call(aimed)[0] == 200
    # (Messenger's delivery webhook also carries a watermark: a second receipt, for the conversation.)
    (receipt,) = [event for event in routes.applied.events if isinstance(event, StatusReceipt)]
    assert (receipt.provider_message_id, receipt.status) == (message.provider_message_id, "delivered")


def test_a_messenger_read_receipt_aimed_at_a_message_is_a_current_watermark_of_its_conversation(
    routes: WebhookRoutes,
) -> None:
    message = SENT["messenger"]
    webhook = load_webhook(EVENTS / "webhooks_messenger_read.json")

    aimed = aim_at(webhook, describe_sample(webhook), message, now_ms=1_800_000_000_000)
    assert routes.call(resign(aimed, channels_config(pages=(DEMO_PAGE_ID, OTHER_PAGE_ID)), page_id=OTHER_PAGE_ID))[0] == 200

    (watermark,) = routes.applied.events
    assert isinstance(watermark, WatermarkReceipt)
    assert (watermark.page_id, watermark.psid, watermark.status) == (OTHER_PAGE_ID, "5551234567", "read")
    assert watermark.watermark_ms == 1_800_000_000_000


def test_a_receipt_cannot_be_aimed_at_a_message_of_another_channel_or_one_not_sent_yet() -> None:
    webhook = load_webhook(EVENTS / "webhooks_sms_dlr_delivered.json")
    with pytest.raises(ReplayError, match="went out on messenger"):
        aim_at(webhook, describe_sample(webhook), SENT["messenger"])
    accepted = TargetMessage("a-uuid", "sms", "447700900001", "447700900123", None, "accepted")
    with pytest.raises(ReplayError, match="no provider message id yet"):
        aim_at(webhook, describe_sample(webhook), accepted)


def test_a_receipt_without_a_message_is_refused_at_once_saying_how_to_name_one(
    stand_in_stack: StandInStack, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([str(EVENTS / "webhooks_sms_dlr_delivered.json"), "--local-dir", str(stand_in_stack.local_dir)])

    assert code == 1
    err = capsys.readouterr().err
    assert "an SMS delivery receipt (DLR, status delivered)" in err and "MESSAGE=<message_uuid>" in err
    assert stand_in_stack.received == []


def test_replay_with_a_message_aims_the_receipt_and_prints_its_status(
    stand_in_stack: StandInStack, capsys: pytest.CaptureFixture[str]
) -> None:
    message_uuid = str(uuid.uuid4())
    stand_in_stack.put_message({
        "message_uuid": {"S": message_uuid}, "channel": {"S": "sms"}, "status": {"S": "submitted"},
        "from": {"M": {"type": {"S": "sms"}, "number": {"S": "447700900001"}}},
        "to": {"M": {"type": {"S": "sms"}, "number": {"S": "447700900123"}}},
        "provider_message_id": {"S": "0B00000000000042"},
    })

    code = main([str(EVENTS / "webhooks_sms_dlr_delivered.json"), "--local-dir", str(stand_in_stack.local_dir),
                 "--message", message_uuid, "--wait", "1"])

    assert code == 0
    (request,) = stand_in_stack.received
    params = dict(parse_qsl(request.body.decode() or request.target.partition("?")[2]))
    assert (params["messageId"], params["msisdn"], params["to"]) == ("0B00000000000042", "447700900123", "447700900001")
    output = capsys.readouterr().out
    assert f"(message {message_uuid}, now submitted)" in output
    assert f"Message {message_uuid}: submitted -> submitted" in output


def test_a_receipt_for_a_message_still_being_sent_waits_for_the_provider_to_accept_it(
    stand_in_stack: StandInStack, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading

    message_uuid = str(uuid.uuid4())
    record = {
        "message_uuid": {"S": message_uuid}, "channel": {"S": "sms"}, "status": {"S": "accepted"},
        "from": {"M": {"type": {"S": "sms"}, "number": {"S": "447700900001"}}},
        "to": {"M": {"type": {"S": "sms"}, "number": {"S": "447700900003"}}},
    }
    stand_in_stack.put_message(record)
    submitted = {**record, "status": {"S": "submitted"}, "provider_message_id": {"S": "0B0000000000004A"}}
    threading.Timer(1.0, stand_in_stack.put_message, args=(submitted,)).start()  # the sender, a moment later

    code = main([str(EVENTS / "webhooks_sms_dlr_delivered.json"), "--local-dir", str(stand_in_stack.local_dir),
                 "--message", message_uuid, "--wait", "0"])

    assert code == 0
    (request,) = stand_in_stack.received
    assert "messageId=0B0000000000004A" in request.target or b"0B0000000000004A" in request.body


def test_a_re_signed_whatsapp_message_is_addressed_to_the_stacks_business_number(routes: WebhookRoutes) -> None:
    webhook = resign(load_webhook(EVENTS / "webhooks_whatsapp_text.json"), channels_config(), new_ids=True)

    assert routes.call(webhook)[0] == 200
    [inbound] = routes.applied.events
    assert inbound.recipient.number == "447700900555" and inbound.provider_message_id.startswith("wamid.text-sample-0001-")


def test_a_whatsapp_status_is_aimed_at_a_message_by_its_wamid_and_uuid() -> None:
    sample = load_webhook(EVENTS / "webhooks_whatsapp_read.json")
    message = TargetMessage("11111111-2222-4333-8444-555555555555", "whatsapp", "447700900555", "447700900123",
                            "wamid.REAL", "delivered")

    aimed = json.loads(aim_at(sample, describe_sample(sample), message, now_ms=1_800_000_000_000).body)

    value = aimed["entry"][0]["changes"][0]["value"]
    assert value["metadata"]["display_phone_number"] == "447700900555"
    assert value["statuses"][0] == {"id": "wamid.REAL", "status": "read", "timestamp": "1800000000",
                                         "recipient_id": "447700900123",
                                         "biz_opaque_callback_data": "11111111-2222-4333-8444-555555555555"}
