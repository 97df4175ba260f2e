"""parse_flat: the v1 flat request format."""
from __future__ import annotations

import copy
from typing import Any

import pytest

from switchboard.domain.message import (
    ApiVersion,
    Channel,
    Content,
    Endpoint,
    MessengerOptions,
    OutboundMessage,
    SmsOptions,
    ViberOptions,
)
from switchboard.domain.errors import ValidationFailed
from switchboard.validation import parse_flat
from switchboard.validation.field_parsers import E164_REASON, SMS_SENDER_REASON, URL_REASON

# protocols.md section 8, captured from the official SDK on the wire.
SDK_SMS: dict[str, Any] = {
    "to": "447700900000",
    "client_ref": "msg-1",
    "from": "Acme",
    "text": "hello",
    "channel": "sms",
    "message_type": "text",
}
SDK_MESSENGER_IMAGE: dict[str, Any] = {
    "to": "1234567890",
    "from": "0987654321",
    "channel": "messenger",
    "image": {"url": "https://example.com/a.jpg"},
    "message_type": "image",
}
VIBER_TEXT: dict[str, Any] = {
    "to": "447700900000",
    "from": "16273",
    "channel": "viber_service",
    "message_type": "text",
    "text": "hello",
}
DELETE = object()


def body_with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if value is DELETE:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def messenger(**changes: Any) -> dict[str, Any]:
    return body_with(
        {"to": "2356711964414546", "from": "107083064136738", "channel": "messenger", "message_type": "text",
         "text": "hello"},
        **changes,
    )


def media_body(channel: str, kind: str, url: str = "https://example.com/a") -> dict[str, Any]:
    base = {"sms": SDK_SMS, "messenger": messenger(), "viber_service": VIBER_TEXT}[channel]
    return body_with(base, message_type=kind, text=DELETE, **{kind: {"url": url}})


def problems(body: object) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_flat(body)
    found = {p.name: p.reason for p in caught.value.invalid_parameters}
    assert len(found) == len(caught.value.invalid_parameters), "a field was reported twice"
    return found


# --- valid examples ---------------------------------------------------------------------------


def test_sdk_sms_example() -> None:
    assert parse_flat(SDK_SMS) == OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint(type="sms", number="Acme"),
        recipient=Endpoint(type="sms", number="447700900000"),
        content=Content(type="text", text="hello"),
        api_version=ApiVersion.V1,
        client_ref="msg-1",
    )


def test_sdk_messenger_image_example() -> None:
    message = parse_flat(SDK_MESSENGER_IMAGE)
    assert message == OutboundMessage(
        channel=Channel.MESSENGER,
        sender=Endpoint(type="messenger", id="0987654321"),
        recipient=Endpoint(type="messenger", id="1234567890"),
        content=Content(type="image", url="https://example.com/a.jpg"),
        api_version=ApiVersion.V1,
        messenger=MessengerOptions(category="response"),
    )


def test_viber_uses_the_2018_channel_name() -> None:
    message = parse_flat(VIBER_TEXT)
    assert message.channel is Channel.VIBER
    assert message.sender == Endpoint(type="viber_service_msg", id="16273")
    assert message.recipient == Endpoint(type="viber_service_msg", number="447700900000")
    assert message.viber == ViberOptions(category="transaction")


def test_every_optional_field_is_carried() -> None:
    body = body_with(
        SDK_SMS,
        webhook_url="https://hooks.example.com/status?x=1",
        webhook_version="v0.1",
        ttl=600,
        sms={"encoding_type": "unicode", "content_id": "1107", "entity_id": "1201"},
    )
    message = parse_flat(body)
    assert message.webhook_url == "https://hooks.example.com/status?x=1"
    assert message.webhook_version == "v0.1"
    assert message.sms == SmsOptions(encoding_type="unicode", ttl=600_000, content_id="1107", entity_id="1201")


@pytest.mark.parametrize("body", [SDK_SMS, SDK_MESSENGER_IMAGE, VIBER_TEXT], ids=["sms", "messenger", "viber"])
def test_result_survives_the_store_round_trip(body: dict[str, Any]) -> None:
    message = parse_flat(body)
    assert OutboundMessage.from_item(message.to_item()) == message


def test_failover_and_unknown_extras_are_ignored() -> None:
    body = body_with(
        SDK_SMS,
        failover=[{"channel": "nope"}, "garbage"],
        trusted_recipient=True,
        unexpected={"deep": [[1]]},
        sms={"unknown_option": "x"},
    )
    message = parse_flat(body)
    assert message.content == Content(type="text", text="hello")
    assert message.sms == SmsOptions()


@pytest.mark.parametrize("failover", [None, "x", 5, [[]], {"a": 1}])
def test_failover_of_any_shape_is_ignored(failover: Any) -> None:
    assert parse_flat(body_with(SDK_SMS, failover=failover)).channel is Channel.SMS


@pytest.mark.parametrize("text", ["  padded  ", "a\r\nb", "\U0001F600"])
def test_text_is_preserved_exactly(text: str) -> None:
    assert parse_flat(body_with(SDK_SMS, text=text)).content.text == text


# --- channel x message type matrix ------------------------------------------------------------

SUPPORTED = [
    ("sms", "text"),
    ("messenger", "text"),
    ("messenger", "image"),
    ("messenger", "audio"),
    ("messenger", "video"),
    ("messenger", "file"),
    ("viber_service", "text"),
    ("viber_service", "image"),
]


@pytest.mark.parametrize(("channel", "kind"), SUPPORTED)
def test_supported_channel_and_message_type(channel: str, kind: str) -> None:
    body = media_body(channel, kind, f"https://example.com/a.{kind}") if kind != "text" else {
        "sms": SDK_SMS, "messenger": messenger(), "viber_service": VIBER_TEXT
    }[channel]
    message = parse_flat(body)
    expected = Content(type="text", text="hello") if kind == "text" else Content(
        type=kind, url=f"https://example.com/a.{kind}"
    )
    assert message.content == expected
    assert message.sender.type == message.recipient.type == message.channel.value


@pytest.mark.parametrize(
    ("channel", "kind", "reason"),
    [
        ("sms", "image", "is not supported for sms; supported: text"),
        ("sms", "audio", "is not supported for sms; supported: text"),
        ("sms", "video", "is not supported for sms; supported: text"),
        ("sms", "file", "is not supported for sms; supported: text"),
        ("viber_service", "audio", "is not supported for viber_service; supported: text, image, video, file"),
    ],
)
def test_message_type_not_supported_by_channel(channel: str, kind: str, reason: str) -> None:
    assert problems(media_body(channel, kind)) == {"message_type": reason}


@pytest.mark.parametrize("kind", ["template", "sticker", "custom", "vcard", "card", "carousel", "content"])
def test_reference_message_types_are_not_supported(kind: str) -> None:
    assert problems(messenger(message_type=kind)) == {
        "message_type": "is not supported by this deployment; supported for messenger: text, image, audio, video, file"
    }


@pytest.mark.parametrize("name", ["whatsapp", "mms", "rcs"])
def test_reference_channels_are_not_supported(name: str) -> None:
    assert problems(body_with(SDK_SMS, channel=name)) == {
        "channel": "is not supported by this deployment; supported: sms, messenger, viber_service"
    }


def test_nested_viber_spelling_points_to_the_v1_name() -> None:
    assert problems(body_with(VIBER_TEXT, channel="viber_service_msg")) == {
        "channel": "is the name used by another API version; use viber_service"
    }


@pytest.mark.parametrize("value", ["Sms", "", "email"])
def test_unknown_channel(value: str) -> None:
    assert problems(body_with(SDK_SMS, channel=value)) == {"channel": "must be one of: sms, messenger, viber_service"}


def test_unknown_channel_still_checks_the_channel_independent_fields() -> None:
    body = body_with(SDK_SMS, channel="whatsapp", message_type="picture", to=7, client_ref="c" * 101)
    assert set(problems(body)) == {"channel", "message_type", "to", "client_ref"}


# --- required fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "key", "reason"),
    [
        (SDK_SMS, "channel", "is required"),
        (SDK_SMS, "message_type", "is required"),
        (SDK_SMS, "to", "is required"),
        (SDK_SMS, "from", "is required"),
        (SDK_SMS, "text", "is required for text messages"),
        (VIBER_TEXT, "to", "is required"),
        (VIBER_TEXT, "from", "is required"),
        (VIBER_TEXT, "text", "is required for text messages"),
        (messenger(), "to", "is required"),
        (messenger(), "from", "is required"),
        (messenger(), "text", "is required for text messages"),
        (SDK_MESSENGER_IMAGE, "image", "is required for image messages"),
    ],
)
@pytest.mark.parametrize("how", ["absent", "null"])
def test_missing_required_field(base: dict[str, Any], key: str, reason: str, how: str) -> None:
    assert problems(body_with(base, **{key: DELETE if how == "absent" else None})) == {key: reason}


@pytest.mark.parametrize("kind", ["image", "audio", "video", "file"])
def test_media_url_is_required(kind: str) -> None:
    assert problems(body_with(media_body("messenger", kind), **{kind: {}})) == {f"{kind}.url": "is required"}


def test_tag_required_for_message_tag() -> None:
    assert problems(messenger(messenger={"category": "message_tag"})) == {
        "messenger.tag": "is required when category is message_tag"
    }


# --- boundaries -------------------------------------------------------------------------------

LIMITS = [
    # (base body, key, longest valid value, reason for one more character)
    (SDK_SMS, "text", "a" * 1000, "must be at most 1000 characters for sms"),
    (messenger(), "text", "\U0001F600" * 640, "must be at most 640 characters for messenger"),
    (VIBER_TEXT, "text", "t" * 1000, "must be at most 1000 characters for viber_service"),
    (messenger(), "to", "9" * 50, "must be at most 50 characters"),
    (messenger(), "from", "9" * 50, "must be at most 50 characters"),
    (VIBER_TEXT, "from", "s" * 50, "must be at most 50 characters"),
    (SDK_SMS, "client_ref", "r" * 100, "must be at most 100 characters"),
    (SDK_SMS, "webhook_url", "https://example.com/" + "w" * 1980, "must be at most 2000 characters"),
    (SDK_SMS, "from", "A" * 11, SMS_SENDER_REASON),
    (SDK_SMS, "from", "4" * 15, SMS_SENDER_REASON),
    (SDK_SMS, "to", "4" * 15, E164_REASON),
    (VIBER_TEXT, "to", "4" * 15, E164_REASON),
]


@pytest.mark.parametrize(("base", "key", "longest", "reason"), LIMITS)
def test_length_limits(base: dict[str, Any], key: str, longest: str, reason: str) -> None:
    parse_flat(body_with(base, **{key: longest}))
    assert problems(body_with(base, **{key: longest + longest[-1]})) == {key: reason}


@pytest.mark.parametrize(
    ("kind", "key", "longest", "reason"),
    [
        ("image", "url", "https://example.com/" + "a" * 1980, "must be at most 2000 characters"),
        ("image", "caption", "c" * 1000, "must be at most 1000 characters for viber_service"),
    ],
)
def test_viber_image_limits(kind: str, key: str, longest: str, reason: str) -> None:
    def build(value: str) -> dict[str, Any]:
        resource = {"url": "https://example.com/a.jpg", key: value}
        return body_with(VIBER_TEXT, message_type=kind, text=DELETE, image=resource)

    assert parse_flat(build(longest)).content.to_dict()[key] == longest
    assert problems(build(longest + longest[-1])) == {f"image.{key}": reason}


def test_viber_image_with_caption() -> None:
    body = body_with(VIBER_TEXT, message_type="image", image={"url": "https://example.com/a.png", "caption": "Sale"})
    assert parse_flat(body).content == Content(type="image", url="https://example.com/a.png", caption="Sale")


@pytest.mark.parametrize("kind", ["image", "audio", "video", "file"])
def test_caption_is_refused_outside_viber(kind: str) -> None:
    body = body_with(media_body("messenger", kind), **{kind: {"url": "https://example.com/a", "caption": "c"}})
    assert problems(body) == {f"{kind}.caption": "is only supported for viber_service images"}


@pytest.mark.parametrize("to", ["1234567", "447700900000"])
@pytest.mark.parametrize("base", [SDK_SMS, VIBER_TEXT], ids=["sms", "viber"])
def test_recipient_numbers_accepted(base: dict[str, Any], to: str) -> None:
    assert parse_flat(body_with(base, to=to)).recipient.number == to


@pytest.mark.parametrize("to", ["123456", "+447700900000", "00447700900000", "07700900000", "4477009000a0", ""])
@pytest.mark.parametrize("base", [SDK_SMS, VIBER_TEXT], ids=["sms", "viber"])
def test_recipient_numbers_rejected(base: dict[str, Any], to: str) -> None:
    assert problems(body_with(base, to=to)) == {"to": E164_REASON}


@pytest.mark.parametrize("sender", ["447700900001", "Acme", "My Shop 24"])
def test_sms_senders_accepted(sender: str) -> None:
    assert parse_flat(body_with(SDK_SMS, **{"from": sender})).sender.number == sender


@pytest.mark.parametrize("sender", ["123", "Acme&Co", "", "+447700900001", "Twelve chars"])
def test_sms_senders_rejected(sender: str) -> None:
    assert problems(body_with(SDK_SMS, **{"from": sender})) == {"from": SMS_SENDER_REASON}


@pytest.mark.parametrize("sender", ["Acme", "+44 7700", "page:1"])
def test_messenger_and_viber_senders_are_plain_ids(sender: str) -> None:
    assert parse_flat(messenger(**{"from": sender})).sender.id == sender
    assert parse_flat(body_with(VIBER_TEXT, **{"from": sender})).sender.id == sender


def test_messenger_recipient_is_not_a_number() -> None:
    assert parse_flat(messenger(to="psid-abc")).recipient == Endpoint(type="messenger", id="psid-abc")


@pytest.mark.parametrize("url", ["ftp://example.com/a", "example.com", "https://", "http:///x", "https://a b.com"])
def test_media_and_webhook_urls_rejected(url: str) -> None:
    assert problems(media_body("messenger", "file", url)) == {"file.url": URL_REASON}
    assert problems(body_with(SDK_SMS, webhook_url=url)) == {"webhook_url": URL_REASON}


# --- sms options and ttl ----------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "stored"), [(20, 20_000), (604800, 604_800_000), (3600.0, 3_600_000)])
def test_sms_ttl_is_stored_in_milliseconds(seconds: Any, stored: int) -> None:
    options = parse_flat(body_with(SDK_SMS, ttl=seconds)).sms
    assert options == SmsOptions(ttl=stored)
    assert options is not None and type(options.ttl) is int


@pytest.mark.parametrize(
    ("ttl", "reason"),
    [
        (19, "must be between 20 and 604800 seconds"),
        (604801, "must be between 20 and 604800 seconds"),
        (0, "must be between 20 and 604800 seconds"),
        (10**30, "must be between 20 and 604800 seconds"),
        (True, "must be an integer"),
        (20.5, "must be an integer"),
        ("600", "must be an integer"),
        ([600], "must be an integer"),
    ],
)
def test_sms_ttl_rejected(ttl: Any, reason: str) -> None:
    assert problems(body_with(SDK_SMS, ttl=ttl)) == {"ttl": reason}


def test_no_sms_options_when_nothing_was_given() -> None:
    assert parse_flat(SDK_SMS).sms is None
    assert parse_flat(body_with(SDK_SMS, sms=None, ttl=None)).sms is None


@pytest.mark.parametrize("encoding", ["text", "unicode", "auto"])
def test_sms_encoding_types(encoding: str) -> None:
    assert parse_flat(body_with(SDK_SMS, sms={"encoding_type": encoding})).sms == SmsOptions(encoding_type=encoding)


@pytest.mark.parametrize(
    ("sms", "name", "reason"),
    [
        ("unicode", "sms", "must be an object"),
        ({"encoding_type": "binary"}, "sms.encoding_type", "must be one of: text, unicode, auto"),
        ({"encoding_type": 1}, "sms.encoding_type", "must be a string"),
        ({"content_id": 1107}, "sms.content_id", "must be a string"),
        ({"entity_id": ""}, "sms.entity_id", "must not be empty"),
        ({"entity_id": "e" * 101}, "sms.entity_id", "must be at most 100 characters"),
    ],
)
def test_sms_options_rejected(sms: Any, name: str, reason: str) -> None:
    assert problems(body_with(SDK_SMS, sms=sms)) == {name: reason}


ONLY_WITH_MESSAGE_TAG = "is only allowed when category is message_tag"

# --- messenger options ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (None, MessengerOptions(category="response")),
        ({}, MessengerOptions(category="response")),
        ({"category": "update"}, MessengerOptions(category="update")),
        ({"category": "message_tag", "tag": "human_agent"}, MessengerOptions("message_tag", "HUMAN_AGENT")),
        (
            {"category": "message_tag", "tag": "Post_Purchase_Update"},
            MessengerOptions("message_tag", "POST_PURCHASE_UPDATE"),
        ),
        ({"category": "message_tag", "tag": "customer_feedback"}, MessengerOptions("message_tag", "CUSTOMER_FEEDBACK")),
    ],
)
def test_messenger_options(options: Any, expected: MessengerOptions) -> None:
    assert parse_flat(messenger(messenger=options)).messenger == expected


@pytest.mark.parametrize(
    ("options", "name", "reason"),
    [
        ({"category": "promotion"}, "messenger.category", "must be one of: response, update, message_tag"),
        ({"category": "response", "tag": "ACCOUNT_UPDATE"}, "messenger.tag", ONLY_WITH_MESSAGE_TAG),
        ({"tag": "ACCOUNT_UPDATE"}, "messenger.tag", ONLY_WITH_MESSAGE_TAG),
        ({"category": "message_tag", "tag": ["ACCOUNT_UPDATE"]}, "messenger.tag", "must be a string"),
        ([], "messenger", "must be an object"),
    ],
)
def test_messenger_options_rejected(options: Any, name: str, reason: str) -> None:
    assert problems(messenger(messenger=options)) == {name: reason}


def test_unknown_messenger_tag_lists_the_current_tags() -> None:
    reason = problems(messenger(messenger={"category": "message_tag", "tag": "invalid"}))["messenger.tag"]
    assert reason == (
        "must be one of: ACCOUNT_UPDATE, CONFIRMED_EVENT_UPDATE, CUSTOMER_FEEDBACK, HUMAN_AGENT, POST_PURCHASE_UPDATE"
    )


# --- viber options ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (None, ViberOptions(category="transaction")),
        ({}, ViberOptions(category="transaction")),
        ({"category": "promotion", "ttl": 30, "type": "string"}, ViberOptions("promotion", 30, "string")),
        ({"ttl": 259200}, ViberOptions(category="transaction", ttl=259200)),
    ],
)
def test_viber_options(options: Any, expected: ViberOptions) -> None:
    assert parse_flat(body_with(VIBER_TEXT, viber_service=options)).viber == expected


@pytest.mark.parametrize(
    ("options", "name", "reason"),
    [
        ({"ttl": 29}, "viber_service.ttl", "must be between 30 and 259200 seconds"),
        ({"ttl": 259201}, "viber_service.ttl", "must be between 30 and 259200 seconds"),
        ({"ttl": False}, "viber_service.ttl", "must be an integer"),
        ({"ttl": 30.25}, "viber_service.ttl", "must be an integer"),
        ({"ttl": "600"}, "viber_service.ttl", "must be an integer"),
        ({"category": "marketing"}, "viber_service.category", "must be one of: transaction, promotion"),
        ({"type": "image"}, "viber_service.type", "must be one of: string, template"),
        ({"type": "template"}, "viber_service.type",
         "template is not supported by this deployment (it has no Viber templates)"),
        ("promotion", "viber_service", "must be an object"),
    ],
)
def test_viber_options_rejected(options: Any, name: str, reason: str) -> None:
    assert problems(body_with(VIBER_TEXT, viber_service=options)) == {name: reason}


# --- option blocks on the wrong channel ---------------------------------------------------------


def test_option_blocks_of_other_channels_are_refused() -> None:
    body = body_with(SDK_SMS, messenger={"category": "update"}, viber_service={"ttl": 60})
    assert problems(body) == {
        "messenger": "is only allowed for messenger messages",
        "viber_service": "is only allowed for viber_service messages",
    }


@pytest.mark.parametrize("base", [messenger(), VIBER_TEXT], ids=["messenger", "viber"])
def test_sms_options_and_ttl_are_refused_on_other_channels(base: dict[str, Any]) -> None:
    assert problems(body_with(base, sms={"encoding_type": "text"}, ttl=600)) == {
        "sms": "is only allowed for sms messages",
        "ttl": "is only allowed for sms messages",
    }


# --- other top-level fields -------------------------------------------------------------------


@pytest.mark.parametrize("version", ["v0.1", "v1"])
def test_webhook_versions(version: str) -> None:
    assert parse_flat(body_with(SDK_SMS, webhook_version=version)).webhook_version == version


@pytest.mark.parametrize(("version", "reason"), [("v2", "must be one of: v0.1, v1"), (1, "must be a string")])
def test_webhook_version_rejected(version: Any, reason: str) -> None:
    assert problems(body_with(SDK_SMS, webhook_version=version)) == {"webhook_version": reason}


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("to", 447700900000, "must be a string"),
        ("from", ["Acme"], "must be a string"),
        ("text", {"body": "x"}, "must be a string"),
        ("text", [["x"]], "must be a string"),
        ("text", "bad \udc00", "must not contain unpaired surrogate characters"),
        ("channel", True, "must be a string"),
        ("message_type", 0, "must be a string"),
        ("client_ref", 1.5, "must be a string"),
        ("webhook_url", {"url": "https://example.com"}, "must be a string"),
    ],
)
def test_wrong_types(key: str, value: Any, reason: str) -> None:
    assert problems(body_with(SDK_SMS, **{key: value})) == {key: reason}


def test_wrong_type_for_media_block() -> None:
    assert problems(body_with(SDK_MESSENGER_IMAGE, image="https://example.com/a.jpg")) == {"image": "must be an object"}


@pytest.mark.parametrize("body", [None, [], [SDK_SMS], "{}", 0, 2.5, False])
def test_body_that_is_not_an_object(body: object) -> None:
    assert problems(body) == {"body": "must be a JSON object"}


# --- several errors at once -------------------------------------------------------------------


def test_every_problem_is_reported_together() -> None:
    body = {
        "channel": "messenger",
        "message_type": "text",
        "to": "",
        "text": "t" * 641,
        "messenger": {"category": "message_tag", "tag": "nope"},
        "viber_service": {},
        "ttl": 60,
        "client_ref": "c" * 101,
        "webhook_url": "not a url",
        "webhook_version": "v3",
    }
    assert set(problems(body)) == {
        "from",
        "to",
        "text",
        "messenger.tag",
        "viber_service",
        "ttl",
        "client_ref",
        "webhook_url",
        "webhook_version",
    }


def test_empty_object_names_the_required_fields() -> None:
    assert problems({}) == {
        "channel": "is required",
        "message_type": "is required",
        "from": "is required",
        "to": "is required",
    }


# --- fuzz: odd values anywhere must end in ValidationFailed, never another exception -----------

ODD_VALUES: list[Any] = [
    None, True, False, 0, -7, 10**400, 1e308, 2.5, float("inf"), "", " ", "\ud800", "x" * 3000, [], [[]], [None],
    {}, {"url": {"url": None}}, [SDK_SMS],
]
FUZZ_BASES = [
    body_with(SDK_SMS, ttl=60, sms={"encoding_type": "auto"}, webhook_url="https://example.com", webhook_version="v1"),
    body_with(SDK_MESSENGER_IMAGE, messenger={"category": "message_tag", "tag": "account_update"}),
    body_with(VIBER_TEXT, viber_service={"category": "promotion", "ttl": 600, "type": "string"}),
    body_with(VIBER_TEXT, message_type="image", image={"url": "https://example.com/a.jpg", "caption": "c"}),
]


def paths(node: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every key path in ``node``, objects as well as leaves."""
    out: list[tuple[str, ...]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            out.append((*prefix, key))
            out += paths(value, (*prefix, key))
    return out


@pytest.mark.parametrize("base", FUZZ_BASES, ids=["sms", "messenger", "viber", "viber-image"])
def test_fuzz_every_field(base: dict[str, Any]) -> None:
    fields = paths(base)
    assert fields
    for path in fields:
        for value in ODD_VALUES:
            body = copy.deepcopy(base)
            node = body
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
            try:
                parse_flat(body)
            except ValidationFailed as failure:
                assert failure.invalid_parameters
                assert all(p.name and p.reason for p in failure.invalid_parameters)
