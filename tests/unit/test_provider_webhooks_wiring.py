"""The webhook function on the in-process AWS: the channels secret, channel links and the allow-list
setting for real, then the production wiring with the real status service, message store and
notifications (skipped while those are not there)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard import clock
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage, Principal
from switchboard.domain.provider_events import conversation_key
from switchboard.receipts.inbound_routing import InboundService
from tests.support.stores import ChannelLinkStore
from tests.support.fakes.receipts import FakeIntake, FakeStatuses
from tests.support.lambdas import ROOT, FakeLambdaContext, load_handler_module
from tests.support.fakes.receipts import FakeIntake, FakeStatuses
from tests.support.provider_samples import SAMPLE_SECRETS, SIGNED_AT
from tests.support.wiring import forget_wired_functions, webhook_services, webhooks_handler

PAGE = "107083064136738"
PSID = "3523523523520000"
VIBER_TOKEN = "5741311803571721087"


def sample(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "events" / f"webhooks_{name}.json").read_text())


@pytest.fixture
def stack(aws, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The sample secrets in the channels secret, and an account with an application."""
    from aws_lambda_powertools.utilities import parameters

    from switchboard.provisioning import provision_account, provision_application
    from tests.support.stores import AccountStore

    aws.client("secretsmanager").put_secret_value(
        SecretId=aws.env["CHANNELS_SECRET_ID"], SecretString=json.dumps(SAMPLE_SECRETS)
    )
    parameters.clear_caches()
    store = AccountStore()
    account = provision_account(store)
    app = provision_application(store, account["api_key"], "inbound", private_key_out=tmp_path / "app.key")
    clock.set_clock(lambda: float(SIGNED_AT + 30))
    forget_wired_functions()
    yield {"api_key": account["api_key"], "application_id": app["application_id"], "aws": aws}
    clock.set_clock(None)
    forget_wired_functions()
    parameters.clear_caches()


def call(event: dict[str, Any], services: Any = None) -> dict[str, Any]:
    """Through the deployed handler (production wiring), or the routes answering with ``services``."""
    context = FakeLambdaContext(function_name="WebhooksFunction")
    if services is not None:
        return webhooks_handler(services)(event, context)
    return load_handler_module("webhooks").handler(event, context)


def test_inbound_messages_reach_the_linked_owner(stack: dict[str, Any]) -> None:
    links = ChannelLinkStore()
    links.link("messenger", PAGE, stack["api_key"], stack["application_id"])
    intake = FakeIntake()
    services = webhook_services(statuses=FakeStatuses(), inbound=InboundService(links, intake))

    assert call(sample("messenger_text"), services)["statusCode"] == 200
    assert call(sample("sms_inbound"), services)["statusCode"] == 200  # nobody linked that number

    ((inbound, api_key, application_id, key),) = intake.received
    assert (api_key, application_id) == (stack["api_key"], stack["application_id"])
    assert inbound.content == {"type": "text", "text": "hello, is my order on its way?"}
    assert key == f"messenger#{PAGE}#m_text-sample-0001"


def test_the_allow_list_setting_guards_viber_callbacks(stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    statuses = FakeStatuses()
    monkeypatch.setenv("VIBER_CALLBACK_ALLOWED_CIDRS", "10.0.0.0/8, 54.228.28.0/24")

    assert call(sample("viber_delivered"), webhook_services(statuses=statuses))["statusCode"] == 200  # from 54.228.28.10
    monkeypatch.setenv("VIBER_CALLBACK_ALLOWED_CIDRS", "10.0.0.0/8")  # read by the next cold start
    assert call(sample("viber_seen"), webhook_services(statuses=statuses))["statusCode"] == 403
    assert [r.status for r in statuses.receipts] == ["delivered"]


def test_an_unreadable_channels_secret_is_a_500_the_provider_retries(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aws_lambda_powertools.utilities import parameters

    monkeypatch.setenv("CHANNELS_SECRET_ID", "no-such-secret")
    parameters.clear_caches()

    response = call(sample("viber_delivered"), webhook_services(statuses=FakeStatuses()))

    assert response["statusCode"] == 500
    assert "Traceback" not in response["body"] and "no-such-secret" not in response["body"]


# -- the production wiring --------------------------------------------------------------------


def test_a_deployment_missing_a_setting_fails_its_first_invocation_naming_it(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard.settings import SettingsError

    monkeypatch.delenv("NOTIFY_QUEUE_URL")
    monkeypatch.setenv("RETENTION_DAYS", "ninety")

    with pytest.raises(SettingsError, match=r"WebhooksFunction: missing NOTIFY_QUEUE_URL; RETENTION_DAYS='ninety'"):
        call(sample("viber_delivered"))


def notify_queue_bodies(stack: dict[str, Any]) -> list[str]:
    sqs = stack["aws"].client("sqs")
    url = stack["aws"].env["NOTIFY_QUEUE_URL"]
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    return [m["Body"] for m in messages]


def submitted_message(stack: dict[str, Any], message: OutboundMessage, provider_id: str, **extra: Any) -> str:
    from tests.support.stores import MessagesTable
    from switchboard.domain.message_record import ClaimState

    store, message_uuid = MessagesTable(), "0f8fad5b-d9cb-469f-a165-70867728950e"
    store.create(message_uuid, message, Principal(stack["api_key"]))
    assert store.claim(message_uuid, "token", SIGNED_AT + 600).state is ClaimState.CLAIMED
    store.mark_submitted(message_uuid, "token", provider_id, f"{message.channel.value}#{provider_id}", **extra)
    return message_uuid


def test_production_wiring_builds_the_real_services(aws) -> None:
    from switchboard.receipts.status_machine import StatusService

    services = webhook_services()

    assert isinstance(services.statuses, StatusService)
    assert isinstance(services.inbound, InboundService)


def test_inbound_end_to_end_is_recorded_and_queued_once(stack: dict[str, Any]) -> None:
    from tests.support.stores import MessagesTable

    ChannelLinkStore().link("messenger", PAGE, stack["api_key"])
    services = webhook_services(statuses=FakeStatuses())

    assert call(sample("messenger_text"), services)["statusCode"] == 200
    assert call(sample("messenger_text"), services)["statusCode"] == 200  # a provider retry

    record = MessagesTable().find_inbound(stack["api_key"], f"messenger#{PAGE}#m_text-sample-0001")
    assert record is not None
    assert record["content"] == {"type": "text", "text": "hello, is my order on its way?"}
    bodies = notify_queue_bodies(stack)
    assert len(bodies) == 1 and record["message_uuid"] in bodies[0]


def test_a_viber_receipt_end_to_end_with_the_real_status_service(stack: dict[str, Any]) -> None:
    from tests.support.stores import MessagesTable

    message = OutboundMessage(
        channel=Channel.VIBER,
        sender=Endpoint("viber_service_msg", id="16273"),
        recipient=Endpoint("viber_service_msg", number="447700900000"),
        content=Content("text", text="hi"),
        api_version=ApiVersion.V0_1,
    )
    message_uuid = submitted_message(stack, message, VIBER_TOKEN)

    assert call(sample("viber_delivered"))["statusCode"] == 200
    assert call(sample("viber_delivered"))["statusCode"] == 200  # a provider retry

    assert MessagesTable().get(message_uuid)["status"] == "delivered"  # type: ignore[index]


def test_a_messenger_read_watermark_end_to_end(stack: dict[str, Any]) -> None:
    from tests.support.stores import MessagesTable

    message = OutboundMessage(
        channel=Channel.MESSENGER,
        sender=Endpoint("messenger", id=PAGE),
        recipient=Endpoint("messenger", id=PSID),
        content=Content("text", text="hi"),
        api_version=ApiVersion.V0_1,
    )
    message_uuid = submitted_message(
        stack, message, "m_out", conversation=conversation_key(PAGE, PSID), sent_at_ms=SIGNED_AT * 1000 - 60_000
    )

    assert call(sample("messenger_read"))["statusCode"] == 200

    assert MessagesTable().get(message_uuid)["status"] == "read"  # type: ignore[index]


def test_a_receipt_for_an_unknown_message_is_answered_200_with_the_real_service(stack: dict[str, Any]) -> None:

    assert call(sample("sms_dlr_delivered"))["statusCode"] == 200
    assert notify_queue_bodies(stack) == []


# -- unsigned SMS webhooks --------------------------------------------------------------------

SMS_NUMBER = "447700900001"
UNSIGNED_DLR = {"msisdn": "447700900000", "to": SMS_NUMBER, "messageId": "0A0000001234567B", "status": "delivered",
                "err-code": "0", "message-timestamp": "2026-11-27 11:59:58"}
UNSIGNED_INBOUND = {"msisdn": "447700900123", "to": SMS_NUMBER, "messageId": "0B0000000123ABCD", "text": "forged",
                    "type": "text", "message-timestamp": "2026-11-27 11:59:59"}


def without_sms_signature_secret(stack: dict[str, Any]) -> None:
    from aws_lambda_powertools.utilities import parameters

    secrets = {**SAMPLE_SECRETS, "sms": {"signature_secret": "", "signature_method": "md5hash"}}
    stack["aws"].client("secretsmanager").put_secret_value(
        SecretId=stack["aws"].env["CHANNELS_SECRET_ID"], SecretString=json.dumps(secrets)
    )
    parameters.clear_caches()


def forge(path: str, params: dict[str, str]) -> dict[str, Any]:
    from urllib.parse import urlencode

    from tests.support.lambdas import http_event

    event = http_event("GET", path)
    event["rawQueryString"], event["queryStringParameters"] = urlencode(params), dict(params)
    return event


def stored_items(stack: dict[str, Any]) -> int:
    return len(stack["aws"].client("dynamodb").scan(TableName=stack["aws"].env["MESSAGES_TABLE"])["Items"])


def sms_submitted(stack: dict[str, Any]) -> str:
    message = OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint("sms", number=SMS_NUMBER),
        recipient=Endpoint("sms", number="447700900000"),
        content=Content("text", text="hi"),
        api_version=ApiVersion.V0_1,
    )
    return submitted_message(stack, message, UNSIGNED_DLR["messageId"])


def test_forged_unsigned_sms_webhooks_change_nothing_when_no_signature_secret_is_set(stack: dict[str, Any]) -> None:
    from tests.support.stores import MessagesTable

    without_sms_signature_secret(stack)
    ChannelLinkStore().link("sms", SMS_NUMBER, stack["api_key"])
    message_uuid = sms_submitted(stack)
    items_before = stored_items(stack)

    assert call(forge("/webhooks/sms/dlr", UNSIGNED_DLR))["statusCode"] == 403
    assert call(forge("/webhooks/sms/inbound", UNSIGNED_INBOUND))["statusCode"] == 403

    assert MessagesTable().get(message_uuid)["status"] == "submitted"  # type: ignore[index]
    assert stored_items(stack) == items_before  # no inbound record
    assert notify_queue_bodies(stack) == []  # no customer webhook


def test_the_allow_unsigned_sms_webhooks_parameter_accepts_them(
    stack: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.stores import MessagesTable

    assert "AllowUnsignedSmsWebhooks" in stack["aws"].template["Parameters"]
    assert stack["aws"].env["ALLOW_UNSIGNED_SMS_WEBHOOKS"] == "false"  # the template's default
    without_sms_signature_secret(stack)
    monkeypatch.setenv("ALLOW_UNSIGNED_SMS_WEBHOOKS", "true")
    ChannelLinkStore().link("sms", SMS_NUMBER, stack["api_key"])
    message_uuid = sms_submitted(stack)

    assert call(forge("/webhooks/sms/dlr", UNSIGNED_DLR))["statusCode"] == 200
    assert call(forge("/webhooks/sms/inbound", UNSIGNED_INBOUND))["statusCode"] == 200

    assert MessagesTable().get(message_uuid)["status"] == "delivered"  # type: ignore[index]
    assert len(notify_queue_bodies(stack)) == 2  # the status webhook and the inbound one
