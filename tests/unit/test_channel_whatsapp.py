"""WhatsApp: the send requests we accept (v1 and 2018), the Cloud API request the adapter makes, and
how it reads every answer."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from vonage_messages import (
    WhatsappAudio,
    WhatsappAudioResource,
    WhatsappCustom,
    WhatsappFile,
    WhatsappFileResource,
    WhatsappImage,
    WhatsappImageResource,
    WhatsappSticker,
    WhatsappStickerId,
    WhatsappTemplate,
    WhatsappTemplateResource,
    WhatsappTemplateSettings,
    WhatsappText,
    WhatsappVideo,
    WhatsappVideoResource,
)

from switchboard.adapters.providers import transport
from switchboard.adapters.providers.registry import adapter_for, unconfigured_sender
from switchboard.adapters.providers.whatsapp_api import WhatsAppAdapter, status_error
from switchboard.domain.errors import ValidationFailed
from switchboard.domain.message import Channel, OutboundMessage
from switchboard.domain.sending import AbandonedSend, SendOutcome, SendResult
from switchboard.domain.tenancy import normalize_address
from switchboard.validation import parse_flat, parse_nested

BUSINESS = "447700900100"
CUSTOMER = "447700900123"
PHONE_NUMBER_ID = "106540352242922"
TOKEN = "EAAGwhatsappTOKENsecret"
MESSAGE_UUID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SEND_URL = f"https://graph.example.test/v21.0/{PHONE_NUMBER_ID}/messages"
CONFIG = {
    "whatsapp": {
        "api_base": "https://graph.example.test/",
        "api_version": "v21.0",
        "app_secret": "app-secret",
        "verify_token": "verify",
        "numbers": {BUSINESS: {"phone_number_id": PHONE_NUMBER_ID, "access_token": TOKEN}},
    }
}
WAMID = "wamid.HBgLMTY1MDUwNzY1MjAVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"


@pytest.fixture(autouse=True)
def fresh_sessions() -> Iterator[None]:
    transport.configure(transport.ProviderHttp(pool_size=2, connect_timeout=1.5, read_timeout=4))
    yield
    transport.reset_sessions()


def sdk_body(model: Any) -> dict[str, Any]:
    """What the official SDK puts on the wire for ``model``."""
    return model.model_dump(by_alias=True, exclude_none=True)


def sdk(model_class: type, **fields: Any) -> OutboundMessage:
    return parse_flat(sdk_body(model_class(to=CUSTOMER, from_=BUSINESS, **fields)))


def send(message: OutboundMessage) -> SendResult:
    return WhatsAppAdapter().send(message, MESSAGE_UUID, CONFIG)


def accepted_reply(status: int = 200) -> None:
    responses.add(responses.POST, SEND_URL, status=status, json={
        "messaging_product": "whatsapp", "contacts": [{"input": CUSTOMER, "wa_id": CUSTOMER}],
        "messages": [{"id": WAMID}],
    })


def sent_body() -> dict[str, Any]:
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in request.url
    return json.loads(request.body)


ENVELOPE = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": CUSTOMER,
            "biz_opaque_callback_data": MESSAGE_UUID}


@pytest.mark.parametrize(
    "message, wire",
    [
        (sdk(WhatsappText, text="hello"), {"type": "text", "text": {"body": "hello"}}),
        (
            parse_flat({"channel": "whatsapp", "message_type": "text", "from": BUSINESS, "to": CUSTOMER,
                        "text": "see https://example.com", "whatsapp": {"preview_url": True}}),
            {"type": "text", "text": {"body": "see https://example.com", "preview_url": True}},
        ),
        (
            sdk(WhatsappImage, image=WhatsappImageResource(url="https://example.com/a.jpg", caption="A")),
            {"type": "image", "image": {"link": "https://example.com/a.jpg", "caption": "A"}},
        ),
        (
            sdk(WhatsappAudio, audio=WhatsappAudioResource(url="https://example.com/a.mp3")),
            {"type": "audio", "audio": {"link": "https://example.com/a.mp3"}},
        ),
        (
            sdk(WhatsappVideo, video=WhatsappVideoResource(url="https://example.com/a.mp4", caption="V")),
            {"type": "video", "video": {"link": "https://example.com/a.mp4", "caption": "V"}},
        ),
        (
            sdk(WhatsappFile, file=WhatsappFileResource(url="https://example.com/a.pdf", caption="C", name="a.pdf")),
            {"type": "document", "document": {"link": "https://example.com/a.pdf", "caption": "C", "filename": "a.pdf"}},
        ),
        (
            sdk(WhatsappSticker, sticker=WhatsappStickerId(id="4567")),
            {"type": "sticker", "sticker": {"id": "4567"}},
        ),
        (
            sdk(
                WhatsappTemplate,
                template=WhatsappTemplateResource(name="9b6b4fcb:order_ready", parameters=["Ann", "42"]),
                whatsapp=WhatsappTemplateSettings(policy="deterministic", locale="en_GB"),
            ),
            {"type": "template", "template": {
                "name": "order_ready", "language": {"code": "en_GB", "policy": "deterministic"},
                "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ann"},
                                                               {"type": "text", "text": "42"}]}],
            }},
        ),
        (
            sdk(WhatsappTemplate, template=WhatsappTemplateResource(name="hello_world")),
            {"type": "template", "template": {"name": "hello_world", "language": {"code": "en_US"}}},
        ),
        (
            sdk(WhatsappCustom, custom={"type": "interactive", "interactive": {"type": "button", "body": {"text": "Ok?"},
                                        "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]}}}),
            {"type": "interactive", "interactive": {"type": "button", "body": {"text": "Ok?"},
                                                    "action": {"buttons": [{"type": "reply", "reply": {"id": "y", "title": "Yes"}}]}}},
        ),
        (
            sdk(WhatsappCustom, custom={"type": "location", "location": {"latitude": 51.5, "longitude": -0.12}}),
            {"type": "location", "location": {"latitude": 51.5, "longitude": -0.12}},
        ),
    ],
    ids=["text", "text-preview", "image", "audio", "video", "file", "sticker", "template", "template-bare",
         "custom-interactive", "custom-location"],
)
@responses.activate
def test_every_message_type_is_sent_in_the_cloud_api_shape(message: OutboundMessage, wire: dict[str, Any]) -> None:
    accepted_reply()
    result = send(message)
    assert result.outcome is SendOutcome.ACCEPTED and result.provider_message_id == WAMID
    assert sent_body() == {**ENVELOPE, **wire}


@responses.activate
def test_the_2018_template_with_default_parameters_and_locale_is_sent_as_a_cloud_api_template() -> None:
    accepted_reply()
    message = parse_nested({
        "from": {"type": "whatsapp", "number": BUSINESS}, "to": {"type": "whatsapp", "number": CUSTOMER},
        "message": {"content": {"type": "template", "template": {
            "name": "whatsapp:hsm:technology:nexmo:verify", "parameters": [{"default": "1234"}, {"default": "10"}]}},
            "whatsapp": {"policy": "deterministic", "locale": "de"}},
    }, "v0.1")
    send(message)
    assert sent_body()["template"] == {
        "name": "verify", "language": {"code": "de", "policy": "deterministic"},
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "1234"}, {"type": "text", "text": "10"}]}],
    }


def test_a_stored_message_round_trips_with_its_whatsapp_content() -> None:
    message = sdk(WhatsappFile, file=WhatsappFileResource(url="https://example.com/a.pdf", name="a.pdf"))
    assert OutboundMessage.from_item(message.to_item()) == message


@pytest.mark.parametrize(
    "body, errors",
    [
        ({"message_type": "text", "text": "x" * 4097}, {"text": "must be at most 4096 characters for whatsapp"}),
        ({"message_type": "image", "image": {"url": "https://e.com/a.jpg", "caption": "c" * 1025}},
         {"image.caption": "must be at most 1024 characters for whatsapp"}),
        ({"message_type": "audio", "audio": {"url": "https://e.com/a.mp3", "caption": "c"}},
         {"audio.caption": "is not supported for whatsapp audio messages"}),
        ({"message_type": "image", "image": {"url": "https://e.com/a.jpg", "name": "n"}},
         {"image.name": "is only allowed for file messages"}),
        ({"message_type": "sticker", "sticker": {"url": "https://e.com/s.webp", "id": "1"}},
         {"sticker": "must have exactly one of url or id"}),
        ({"message_type": "template", "template": {"name": "t", "parameters": [1]}},
         {"template.parameters[0]": "must be a string"}),
        ({"message_type": "template", "template": {"name": "t"}, "whatsapp": {"policy": "fallback"}},
         {"whatsapp.policy": "must be one of: deterministic"}),
        ({"message_type": "text", "text": "x", "whatsapp": {"locale": "en"}},
         {"whatsapp.locale": "is not allowed for text messages (preview_url)"}),
        ({"message_type": "custom", "custom": {"type": "interactive"}},
         {"custom.interactive": "is required when custom.type is interactive"}),
        ({"message_type": "custom", "custom": {"type": "text", "text": {"body": "x"}, "to": "447700900999"}},
         {"custom.to": "is set by this deployment; leave it out"}),
        ({"message_type": "vcard", "vcard": {"url": "https://e.com/v.vcf"}},
         {"message_type": "is not supported for whatsapp; supported: text, image, audio, video, file, sticker, "
                          "template, custom"}),
        ({"message_type": "text", "text": "x", "context": {"message_uuid": "u"}},
         {"context.message_uuid": "must be a message uuid"}),
        ({"message_type": "text", "text": "x", "to": "+447700900123"},
         {"to": "must be an E.164 number without a leading + (7 to 15 digits)"}),
        ({"message_type": "text", "text": "x", "viber_service": {"category": "transaction"}},
         {"viber_service": "is only allowed for viber_service messages"}),
    ],
    ids=["text-too-long", "caption-too-long", "audio-caption", "image-name", "sticker-both", "template-param-type",
         "policy", "misplaced-option", "custom-missing-object", "custom-envelope", "vcard", "context", "plus-number",
         "viber-options"],
)
def test_invalid_v1_whatsapp_requests_name_each_field(body: dict[str, Any], errors: dict[str, str]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_flat({"channel": "whatsapp", "from": BUSINESS, "to": CUSTOMER, **body})
    assert {p.name: p.reason for p in caught.value.invalid_parameters} == errors


def test_a_2018_whatsapp_request_must_use_whatsapp_on_both_sides_and_text_or_template() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_nested({
            "from": {"type": "whatsapp", "number": BUSINESS}, "to": {"type": "sms", "number": CUSTOMER},
            "message": {"content": {"type": "image", "image": {"url": "https://e.com/a.jpg"}}},
        }, "v0.1")
    assert {p.name: p.reason for p in caught.value.invalid_parameters} == {
        "to.type": "must be whatsapp, as the other party's type",
        "message.content.type": "is not supported for whatsapp; supported: text, template",
    }


CLOUD_ERRORS = [
    (400, 131047, SendOutcome.REJECTED, 1340),
    (401, 190, SendOutcome.REJECTED, 1370),
    (400, 0, SendOutcome.REJECTED, 1370),
    (429, 130429, SendOutcome.RETRY, 1000),
    (400, 131056, SendOutcome.RETRY, 1000),
    (400, 80007, SendOutcome.RETRY, 1000),
    (400, 131048, SendOutcome.REJECTED, 1241),
    (400, 131026, SendOutcome.REJECTED, 1260),
    (400, 131030, SendOutcome.REJECTED, 1160),
    (400, 132001, SendOutcome.REJECTED, 1022),
    (400, 132015, SendOutcome.REJECTED, 1022),
    (400, 131051, SendOutcome.REJECTED, 1040),
    (400, 100, SendOutcome.REJECTED, 1020),
    (400, 131009, SendOutcome.REJECTED, 1020),
    (403, 10, SendOutcome.REJECTED, 1140),
    (400, 131031, SendOutcome.REJECTED, 1140),
    (400, 368, SendOutcome.REJECTED, 1140),
    (503, 131016, SendOutcome.RETRY, 1100),
    (500, 2, SendOutcome.RETRY, 1100),
    (500, 1, SendOutcome.UNKNOWN, 1100),
    (500, 131000, SendOutcome.UNKNOWN, 1100),
    (400, 131000, SendOutcome.RETRY, 1100),
    (400, 999999, SendOutcome.REJECTED, 1030),
]


@pytest.mark.parametrize("http_status, code, outcome, nexmo", CLOUD_ERRORS)
@responses.activate
def test_cloud_api_errors_map_to_nexmo_codes(http_status: int, code: int, outcome: SendOutcome, nexmo: int) -> None:
    responses.add(responses.POST, SEND_URL, status=http_status, json={"error": {
        "message": f"(#{code}) Something about {TOKEN}", "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": "more detail"}, "fbtrace_id": "A1"}})
    result = send(sdk(WhatsappText, text="hi"))
    assert (result.outcome, result.error_code) == (outcome, nexmo)
    assert TOKEN not in (result.error_reason or "")
    if http_status != 429:  # a 429 is throttling whatever its body says (transport.py)
        assert "more detail" in (result.error_reason or "")


@pytest.mark.parametrize("status, body, outcome", [
    (502, "Bad Gateway", SendOutcome.UNKNOWN),
    (503, "Service Unavailable", SendOutcome.RETRY),
    (200, "{}", SendOutcome.REJECTED),
])
@responses.activate
def test_answers_without_the_cloud_api_shape(status: int, body: str, outcome: SendOutcome) -> None:
    responses.add(responses.POST, SEND_URL, status=status, body=body)
    assert send(sdk(WhatsappText, text="hi")).outcome is outcome


@responses.activate
def test_an_unconfigured_business_number_is_refused_without_calling_the_cloud_api() -> None:
    message = parse_flat({"channel": "whatsapp", "message_type": "text", "from": "447700900999", "to": CUSTOMER,
                          "text": "x"})
    result = send(message)
    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1120)
    assert len(responses.calls) == 0
    assert unconfigured_sender(message, CONFIG) == "WhatsApp number 447700900999 is not configured for this deployment"
    assert unconfigured_sender(sdk(WhatsappText, text="x"), CONFIG) is None


def test_an_unknown_outcome_waits_for_a_status_carrying_the_message_uuid() -> None:
    assert adapter_for(Channel.WHATSAPP).abandoned_send is AbandonedSend.AWAIT_EVIDENCE


@pytest.mark.parametrize("code, state, nexmo", [
    (131026, "undeliverable", 1260), (131049, "undeliverable", 1260), (131047, "rejected", 1340),
    (132001, "rejected", 1022), (131000, "rejected", 1100),
])
def test_a_failed_status_is_rejected_or_undeliverable_with_a_mapped_code(code: int, state: str, nexmo: int) -> None:
    mapped_state, error = status_error({"code": code, "title": "t", "message": "m", "error_data": {"details": "d"}})
    assert (mapped_state, error["code"]) == (state, nexmo)


def test_business_numbers_are_linked_as_digits() -> None:
    assert normalize_address("whatsapp", "+447700900100") == BUSINESS
    with pytest.raises(ValueError):
        normalize_address("whatsapp", "Acme")


def test_whatsapp_steps_are_valid_in_every_failover_form_with_read_as_a_condition() -> None:
    from switchboard.workflows.workflow_requests import parse_v1_failover, parse_workflow

    whatsapp_step = {
        "from": {"type": "whatsapp", "number": BUSINESS}, "to": {"type": "whatsapp", "number": CUSTOMER},
        "message": {"content": {"type": "template", "template": {"name": "t", "parameters": [{"default": "1"}]}}},
        "failover": {"expiry_time": 600, "condition_status": "read"},
    }
    sms_step = {"from": {"type": "sms", "number": "447700900001"}, "to": {"type": "sms", "number": CUSTOMER},
                "message": {"content": {"type": "text", "text": "by SMS"}}}
    for version in ("beta", "v0.1"):
        steps = parse_workflow({"template": "failover", "workflow": [whatsapp_step, sms_step]}, version)
        assert [s.message.channel for s in steps] == [Channel.WHATSAPP, Channel.SMS]
        assert steps[0].failover is not None and steps[0].failover.condition_status == "read"
    v1 = parse_v1_failover({**sdk_body(WhatsappText(to=CUSTOMER, from_=BUSINESS, text="hi")), "failover": [
        {"channel": "sms", "message_type": "text", "from": "Acme", "to": CUSTOMER, "text": "by SMS"}]})
    assert v1 is not None and [s.message.channel for s in v1] == [Channel.WHATSAPP, Channel.SMS]


def test_a_local_whatsapp_sender_gets_a_phone_number_id_and_token_once() -> None:
    from switchboard.cli_local import with_sender

    channels = with_sender({}, "whatsapp", "447700900555")
    entry = channels["whatsapp"]["numbers"]["447700900555"]
    assert entry["phone_number_id"].isdigit() and len(entry["phone_number_id"]) == 15 and entry["access_token"]
    assert with_sender(channels, "whatsapp", "447700900555")["whatsapp"]["numbers"]["447700900555"] == entry


@responses.activate
def test_a_reply_quotes_the_message_by_its_whatsapp_id() -> None:
    accepted_reply()
    message = sdk(WhatsappText, text="yes")
    quoting = OutboundMessage.from_item({**message.to_item(), "content": {
        "type": "text", "text": "yes", "context_message_uuid": MESSAGE_UUID, "context_message_id": "wamid.Q"}})
    send(quoting)
    assert sent_body()["context"] == {"message_id": "wamid.Q"}
