"""parse_nested: the beta / v0.1 nested request format."""
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
    ViberOptions,
)
from switchboard.domain.errors import ValidationFailed
from switchboard.validation import parse_nested
from switchboard.validation.field_parsers import E164_REASON, SMS_SENDER_REASON, URL_REASON

VERSIONS = [ApiVersion.BETA, ApiVersion.V0_1]

# The seed's getting-started SMS, with the docs' example numbers in place of the placeholders.
SEED_SMS: dict[str, Any] = {
    "from": {"type": "sms", "number": "447700900001"},
    "to": {"type": "sms", "number": "447700900000"},
    "message": {"content": {"type": "text", "text": "This is an SMS sent from the Messages API"}},
}
# protocols.md 1.2 minimal examples (the ids are the docs' placeholders, which are valid 1-50 char ids).
DOCS_MESSENGER: dict[str, Any] = {
    "from": {"type": "messenger", "id": "<PAGE_ID>"},
    "to": {"type": "messenger", "id": "<PSID>"},
    "message": {
        "content": {"type": "text", "text": "..."},
        "messenger": {"category": "message_tag", "tag": "ticket_update"},
    },
}
DOCS_VIBER: dict[str, Any] = {
    "from": {"type": "viber_service_msg", "id": "<SERVICE_ID>"},
    "to": {"type": "viber_service_msg", "number": "447700900000"},
    "message": {
        "content": {"type": "text", "text": "..."},
        "viber_service_msg": {"category": "promotion", "ttl": 600},
    },
}


def sms(**content: Any) -> dict[str, Any]:
    body = copy.deepcopy(SEED_SMS)
    body["message"]["content"] = content or body["message"]["content"]
    return body


def messenger(content: dict[str, Any] | None = None, options: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": {"type": "messenger", "id": "107083064136738"},
        "to": {"type": "messenger", "id": "2356711964414546"},
        "message": {"content": content or {"type": "text", "text": "hello"}},
    }
    if options is not None:
        body["message"]["messenger"] = options
    return body


def viber(content: dict[str, Any] | None = None, options: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "from": {"type": "viber_service_msg", "id": "16273"},
        "to": {"type": "viber_service_msg", "number": "447700900000"},
        "message": {"content": content or {"type": "text", "text": "hello"}},
    }
    if options is not None:
        body["message"]["viber_service_msg"] = options
    return body


def media(kind: str, url: str = "https://example.com/file", **extra: Any) -> dict[str, Any]:
    return {"type": kind, kind: {"url": url, **extra}}


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with the dotted ``path`` set to ``value`` (``DELETE`` removes it)."""
    out = copy.deepcopy(body)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        node = node[key]
    if value is DELETE:
        node.pop(last, None)
    else:
        node[last] = value
    return out


DELETE = object()


def problems(body: object, version: ApiVersion = ApiVersion.V0_1) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_nested(body, version)
    found = {p.name: p.reason for p in caught.value.invalid_parameters}
    assert len(found) == len(caught.value.invalid_parameters), "a field was reported twice"
    return found


# --- valid examples ---------------------------------------------------------------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_seed_sms_example(version: ApiVersion) -> None:
    message = parse_nested(SEED_SMS, version)
    assert message == OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint(type="sms", number="447700900001"),
        recipient=Endpoint(type="sms", number="447700900000"),
        content=Content(type="text", text="This is an SMS sent from the Messages API"),
        api_version=version,
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_docs_messenger_example_upper_cases_the_tag(version: ApiVersion) -> None:
    message = parse_nested(DOCS_MESSENGER, version)
    assert message.channel is Channel.MESSENGER
    assert message.sender == Endpoint(type="messenger", id="<PAGE_ID>")
    assert message.recipient == Endpoint(type="messenger", id="<PSID>")
    assert message.content == Content(type="text", text="...")
    assert message.messenger == MessengerOptions(category="message_tag", tag="TICKET_UPDATE")
    assert message.viber is None and message.sms is None


@pytest.mark.parametrize("version", VERSIONS)
def test_docs_viber_example(version: ApiVersion) -> None:
    message = parse_nested(DOCS_VIBER, version)
    assert message.channel is Channel.VIBER
    assert message.sender == Endpoint(type="viber_service_msg", id="<SERVICE_ID>")
    assert message.recipient == Endpoint(type="viber_service_msg", number="447700900000")
    assert message.viber == ViberOptions(category="promotion", ttl=600)
    assert message.messenger is None


def test_webhook_fields_are_never_set_on_nested_requests() -> None:
    body = with_value(SEED_SMS, "webhook_url", "https://example.com/status")
    message = parse_nested(body, ApiVersion.V0_1)
    assert message.webhook_url is None and message.webhook_version is None


def test_unknown_extra_fields_are_ignored() -> None:
    body = with_value(SEED_SMS, "extra", {"anything": [1, 2]})
    body["message"]["content"]["unexpected"] = True
    body["from"]["id"] = "ignored for sms"
    assert parse_nested(body, ApiVersion.V0_1).sender == Endpoint(type="sms", number="447700900001")


@pytest.mark.parametrize("text", ["  padded  ", "line\nbreak", "\u00e9\u00e8 \U0001F600", "\t"])
def test_text_is_preserved_exactly(text: str) -> None:
    assert parse_nested(sms(type="text", text=text), ApiVersion.V0_1).content.text == text


def test_version_v1_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_nested(SEED_SMS, ApiVersion.V1)


# --- channel x content type matrix ------------------------------------------------------------

SUPPORTED = [
    ("sms", "text"),
    ("messenger", "text"),
    ("messenger", "image"),
    ("messenger", "audio"),
    ("messenger", "video"),
    ("messenger", "file"),
    ("viber", "text"),
    ("viber", "image"),
]
BUILDERS = {"sms": lambda content: sms(**content), "messenger": messenger, "viber": viber}


def content_for(kind: str) -> dict[str, Any]:
    return {"type": "text", "text": "hi"} if kind == "text" else media(kind, f"https://example.com/a.{kind}")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("channel", "kind"), SUPPORTED)
def test_supported_channel_and_content_type(version: ApiVersion, channel: str, kind: str) -> None:
    message = parse_nested(BUILDERS[channel](content_for(kind)), version)
    assert message.content.type == kind
    if kind == "text":
        assert message.content == Content(type="text", text="hi")
    else:
        assert message.content == Content(type=kind, url=f"https://example.com/a.{kind}")
    assert message.sender.type == message.recipient.type == message.channel.value


@pytest.mark.parametrize(
    ("channel", "kind", "reason"),
    [
        ("sms", "image", "is not supported for sms; supported: text"),
        ("sms", "audio", "is not supported for sms; supported: text"),
        ("sms", "video", "is not supported for sms; supported: text"),
        ("sms", "file", "is not supported for sms; supported: text"),
        ("viber", "audio", "is not supported for viber_service_msg; supported: text, image"),
        ("viber", "video", "is not supported for viber_service_msg; supported: text, image"),
        ("viber", "file", "is not supported for viber_service_msg; supported: text, image"),
    ],
)
def test_content_type_not_supported_by_channel(channel: str, kind: str, reason: str) -> None:
    assert problems(BUILDERS[channel](content_for(kind))) == {"message.content.type": reason}


@pytest.mark.parametrize("kind", ["template", "custom"])
def test_reference_content_types_are_not_supported(kind: str) -> None:
    found = problems(messenger({"type": kind, kind: {}}))
    assert found == {
        "message.content.type": "is not supported by this deployment; supported for messenger: "
        "text, image, audio, video, file"
    }


def test_unknown_content_type() -> None:
    assert problems(sms(type="sms", text="x")) == {"message.content.type": "must be one of: text"}


# --- channels ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["whatsapp", "mms", "rcs"])
def test_reference_channels_are_not_supported(name: str) -> None:
    body = with_value(with_value(SEED_SMS, "from.type", name), "to.type", name)
    reason = "is not supported by this deployment; supported: sms, messenger, viber_service_msg"
    assert problems(body) == {"from.type": reason, "to.type": reason}


def test_v1_viber_spelling_points_to_the_nested_name() -> None:
    body = with_value(viber(), "from.type", "viber_service")
    assert problems(body) == {"from.type": "is the name used by another API version; use viber_service_msg"}


@pytest.mark.parametrize("value", ["SMS", "", "email"])
def test_unknown_channel(value: str) -> None:
    body = with_value(SEED_SMS, "to.type", value)
    assert problems(body) == {"to.type": "must be one of: sms, messenger, viber_service_msg"}


def test_from_and_to_type_must_match() -> None:
    body = with_value(SEED_SMS, "to.type", "messenger")
    assert problems(body) == {"to.type": "must be the same as from.type (sms)"}


def test_channel_falls_back_to_to_type_so_the_rest_is_still_checked() -> None:
    body = with_value(messenger(), "from.type", DELETE)
    body["to"]["id"] = "x" * 51
    assert problems(body) == {"from.type": "is required", "to.id": "must be at most 50 characters"}


# --- required fields --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "path", "reason"),
    [
        (SEED_SMS, "from", "is required"),
        (SEED_SMS, "to", "is required"),
        (SEED_SMS, "message", "is required"),
        (SEED_SMS, "from.type", "is required"),
        (SEED_SMS, "to.type", "is required"),
        (SEED_SMS, "from.number", "is required for sms messages"),
        (SEED_SMS, "to.number", "is required for sms messages"),
        (SEED_SMS, "message.content", "is required"),
        (SEED_SMS, "message.content.type", "is required"),
        (SEED_SMS, "message.content.text", "is required for text messages"),
        (DOCS_MESSENGER, "from.id", "is required for messenger messages"),
        (DOCS_MESSENGER, "to.id", "is required for messenger messages"),
        (DOCS_MESSENGER, "message.messenger.tag", "is required when category is message_tag"),
        (DOCS_VIBER, "from.id", "is required for viber_service_msg messages"),
        (DOCS_VIBER, "to.number", "is required for viber_service_msg messages"),
        (messenger(media("image")), "message.content.image", "is required for image messages"),
        (messenger(media("file")), "message.content.file.url", "is required"),
        (viber(media("image")), "message.content.image.url", "is required"),
    ],
)
@pytest.mark.parametrize("how", ["absent", "null"])
def test_missing_required_field(body: dict[str, Any], path: str, reason: str, how: str) -> None:
    broken = with_value(body, path, DELETE if how == "absent" else None)
    assert problems(broken) == {path: reason}


# --- boundaries -------------------------------------------------------------------------------

LIMITS = [
    # (body builder, path, longest valid value, reason for one more)
    (lambda v: sms(type="text", text=v), "message.content.text", "a" * 1000, "must be at most 1000 characters for sms"),
    (
        lambda v: messenger({"type": "text", "text": v}),
        "message.content.text",
        "\U0001F600" * 640,
        "must be at most 640 characters for messenger",
    ),
    (
        lambda v: viber({"type": "text", "text": v}),
        "message.content.text",
        "\u00e9" * 1000,
        "must be at most 1000 characters for viber_service_msg",
    ),
    (
        lambda v: with_value(messenger(), "from.id", v),
        "from.id",
        "9" * 50,
        "must be at most 50 characters",
    ),
    (
        lambda v: with_value(messenger(), "to.id", v),
        "to.id",
        "9" * 50,
        "must be at most 50 characters",
    ),
    (
        lambda v: with_value(viber(), "from.id", v),
        "from.id",
        "s" * 50,
        "must be at most 50 characters",
    ),
    (
        lambda v: messenger(media("image", v)),
        "message.content.image.url",
        "https://example.com/" + "a" * (2000 - 20),
        "must be at most 2000 characters",
    ),
    (
        lambda v: viber(media("image", "https://example.com/a.jpg", caption=v)),
        "message.content.image.caption",
        "c" * 1000,
        "must be at most 1000 characters for viber_service_msg",
    ),
    (
        lambda v: with_value(SEED_SMS, "client_ref", v),
        "client_ref",
        "r" * 40,
        "must be at most 40 characters",
    ),
    (lambda v: with_value(SEED_SMS, "from.number", v), "from.number", "A" * 11, SMS_SENDER_REASON),
    (lambda v: with_value(SEED_SMS, "from.number", v), "from.number", "1" * 15, SMS_SENDER_REASON),
    (lambda v: with_value(SEED_SMS, "to.number", v), "to.number", "1" * 15, E164_REASON),
    (lambda v: with_value(viber(), "to.number", v), "to.number", "4" * 15, E164_REASON),
]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("build", "path", "longest", "reason"), LIMITS)
def test_length_limits(version: ApiVersion, build: Any, path: str, longest: str, reason: str) -> None:
    parse_nested(build(longest), version)
    assert problems(build(longest + longest[-1]), version) == {path: reason}


@pytest.mark.parametrize("ttl", [30, 600, 259200, 600.0])
def test_viber_ttl_accepted(ttl: Any) -> None:
    options = parse_nested(viber(options={"ttl": ttl}), ApiVersion.V0_1).viber
    assert options == ViberOptions(category="transaction", ttl=int(ttl))
    assert type(options.ttl) is int


@pytest.mark.parametrize(
    ("ttl", "reason"),
    [
        (29, "must be between 30 and 259200 seconds"),
        (259201, "must be between 30 and 259200 seconds"),
        (-1, "must be between 30 and 259200 seconds"),
        (10**400, "must be between 30 and 259200 seconds"),
        (1e308, "must be between 30 and 259200 seconds"),
        (True, "must be an integer"),
        (False, "must be an integer"),
        (600.5, "must be an integer"),
        (float("inf"), "must be an integer"),
        (float("nan"), "must be an integer"),
        ("600", "must be an integer"),
        ([600], "must be an integer"),
        ({}, "must be an integer"),
    ],
)
def test_viber_ttl_rejected(ttl: Any, reason: str) -> None:
    assert problems(viber(options={"ttl": ttl})) == {"message.viber_service_msg.ttl": reason}


@pytest.mark.parametrize("number", ["1234567", "447700900000", "123456789012345"])
def test_recipient_numbers_accepted(number: str) -> None:
    assert parse_nested(with_value(SEED_SMS, "to.number", number), ApiVersion.V0_1).recipient.number == number


@pytest.mark.parametrize(
    "number",
    ["123456", "1234567890123456", "+447700900000", "00447700900000", "0447700900", "4477 0090 0000", "44-77009000",
     "", "\u0664\u0664\u0667\u0667\u0660\u0660\u0669\u0660", "447700900000\n"],
)
@pytest.mark.parametrize("body", [SEED_SMS, DOCS_VIBER], ids=["sms", "viber"])
def test_recipient_numbers_rejected(body: dict[str, Any], number: str) -> None:
    assert problems(with_value(body, "to.number", number)) == {"to.number": E164_REASON}


@pytest.mark.parametrize("sender", ["447700900001", "Acme", "Acme Inc", "A", "ACME2018", "1A"])
def test_sms_senders_accepted(sender: str) -> None:
    assert parse_nested(with_value(SEED_SMS, "from.number", sender), ApiVersion.BETA).sender.number == sender


@pytest.mark.parametrize(
    "sender", ["12345", "", "   ", "Acme-Shop", "Acme_Inc", "+447700900001", "Ünïcode", "AcmeCorporation", "Acme\n"]
)
def test_sms_senders_rejected(sender: str) -> None:
    assert problems(with_value(SEED_SMS, "from.number", sender)) == {"from.number": SMS_SENDER_REASON}


@pytest.mark.parametrize(
    "url",
    ["http://example.com", "https://example.com/a.jpg?x=1#y", "HTTPS://EXAMPLE.COM/A.PNG", "https://127.0.0.1:8443/a"],
)
def test_media_urls_accepted(url: str) -> None:
    assert parse_nested(messenger(media("video", url)), ApiVersion.V0_1).content.url == url


@pytest.mark.parametrize(
    "url",
    ["example.com/a.jpg", "/a.jpg", "ftp://example.com/a.jpg", "https://", "https:///a.jpg", "javascript:alert(1)",
     "https://exa mple.com/a", "https://example.com:99999/a", "https://[::1/a", "https://example.com/\x00"],
)
def test_media_urls_rejected(url: str) -> None:
    assert problems(messenger(media("audio", url))) == {"message.content.audio.url": URL_REASON}


def test_empty_strings_are_rejected() -> None:
    body = messenger({"type": "text", "text": ""})
    body["to"]["id"] = ""
    assert problems(body) == {"to.id": "must not be empty", "message.content.text": "must not be empty"}


def test_empty_client_ref_is_kept() -> None:
    assert parse_nested(with_value(SEED_SMS, "client_ref", ""), ApiVersion.V0_1).client_ref == ""


# --- captions ---------------------------------------------------------------------------------


def test_viber_image_caption_is_kept() -> None:
    message = parse_nested(viber(media("image", "https://example.com/a.jpg", caption="Sale")), ApiVersion.V0_1)
    assert message.content == Content(type="image", url="https://example.com/a.jpg", caption="Sale")


@pytest.mark.parametrize("kind", ["image", "audio", "video", "file"])
def test_caption_is_refused_outside_viber(kind: str) -> None:
    body = messenger(media(kind, caption="nice"))
    assert problems(body) == {f"message.content.{kind}.caption": "is only supported for viber_service_msg images"}


# --- messenger options ------------------------------------------------------------------------


@pytest.mark.parametrize("options", [None, {}, {"category": None}])
def test_messenger_defaults_to_response(options: Any) -> None:
    assert parse_nested(messenger(options=options), ApiVersion.V0_1).messenger == MessengerOptions(category="response")


@pytest.mark.parametrize("category", ["response", "update"])
def test_messenger_categories_without_tag(category: str) -> None:
    assert parse_nested(messenger(options={"category": category}), ApiVersion.BETA).messenger == MessengerOptions(
        category=category
    )


@pytest.mark.parametrize(
    ("tag", "stored"),
    [
        ("ticket_update", "TICKET_UPDATE"),
        ("TICKET_UPDATE", "TICKET_UPDATE"),
        ("Shipping_Update", "SHIPPING_UPDATE"),
        ("community_alert", "COMMUNITY_ALERT"),
        ("confirmed_event_update", "CONFIRMED_EVENT_UPDATE"),
        ("post_purchase_update", "POST_PURCHASE_UPDATE"),
        ("account_update", "ACCOUNT_UPDATE"),
        ("HUMAN_AGENT", "HUMAN_AGENT"),
    ],
)
def test_messenger_tags_are_upper_cased(tag: str, stored: str) -> None:
    options = parse_nested(messenger(options={"category": "message_tag", "tag": tag}), ApiVersion.V0_1).messenger
    assert options == MessengerOptions(category="message_tag", tag=stored)


@pytest.mark.parametrize("tag", ["promotion", "", " ticket_update", "ticket-update"])
def test_unknown_messenger_tag(tag: str) -> None:
    found = problems(messenger(options={"category": "message_tag", "tag": tag}))
    assert list(found) == ["message.messenger.tag"]
    assert found["message.messenger.tag"].startswith("must be one of: ACCOUNT_UPDATE, ")
    assert "HUMAN_AGENT" in found["message.messenger.tag"]


@pytest.mark.parametrize("options", [{"tag": "ticket_update"}, {"category": "update", "tag": "ticket_update"}])
def test_tag_is_refused_unless_category_is_message_tag(options: dict[str, Any]) -> None:
    assert problems(messenger(options=options)) == {
        "message.messenger.tag": "is only allowed when category is message_tag"
    }


@pytest.mark.parametrize("category", ["RESPONSE", "promotion", "", 1])
def test_unknown_messenger_category(category: Any) -> None:
    reason = "must be a string" if category == 1 else "must be one of: response, update, message_tag"
    assert problems(messenger(options={"category": category, "tag": "ticket_update"})) == {
        "message.messenger.category": reason
    }


def test_unknown_category_still_checks_the_tag_value() -> None:
    assert set(problems(messenger(options={"category": "x", "tag": "nope"}))) == {
        "message.messenger.category",
        "message.messenger.tag",
    }


# --- viber options ----------------------------------------------------------------------------


@pytest.mark.parametrize("options", [None, {}, {"category": None, "ttl": None, "type": None}])
def test_viber_defaults_to_transaction(options: Any) -> None:
    assert parse_nested(viber(options=options), ApiVersion.V0_1).viber == ViberOptions(category="transaction")


def test_viber_template_type_is_refused_not_dropped() -> None:
    # A template would change what is sent; this deployment has no Viber templates to send.
    assert problems(viber(options={"category": "promotion", "type": "template"})) == {
        "message.viber_service_msg.type": "template is not supported by this deployment (it has no Viber templates)"
    }


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        ("category", "transactional", "must be one of: transaction, promotion"),
        ("category", ["promotion"], "must be a string"),
        ("type", "string", "must be one of: template"),
        ("type", 5, "must be a string"),
    ],
)
def test_viber_options_rejected(key: str, value: Any, reason: str) -> None:
    assert problems(viber(options={key: value})) == {f"message.viber_service_msg.{key}": reason}


# --- option blocks on the wrong channel ---------------------------------------------------------


def test_option_blocks_of_another_channel_are_refused() -> None:
    body = sms()
    body["message"]["messenger"] = {"category": "response"}
    body["message"]["viber_service_msg"] = {"category": "promotion"}
    assert problems(body) == {
        "message.messenger": "is only allowed for messenger messages",
        "message.viber_service_msg": "is only allowed for viber_service_msg messages",
    }


def test_viber_block_on_messenger_is_refused() -> None:
    assert problems(with_value(messenger(), "message.viber_service_msg", {})) == {
        "message.viber_service_msg": "is only allowed for viber_service_msg messages"
    }


# --- wrong types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("from", "447700900001", "must be an object"),
        ("to", ["447700900000"], "must be an object"),
        ("message", "hello", "must be an object"),
        ("message.content", [{"type": "text"}], "must be an object"),
        ("from.type", 1, "must be a string"),
        ("to.type", {"name": "sms"}, "must be a string"),
        ("from.number", 447700900001, "must be a string"),
        ("to.number", 447700900000, "must be a string"),
        ("to.number", True, "must be a string"),
        ("message.content.type", ["text"], "must be a string"),
        ("message.content.text", 42, "must be a string"),
        ("message.content.text", [["nested"]], "must be a string"),
        ("message.content.text", "\ud800", "must not contain unpaired surrogate characters"),
        ("client_ref", 12, "must be a string"),
        ("client_ref", "r" * 41, "must be at most 40 characters"),
    ],
)
def test_wrong_types(path: str, value: Any, reason: str) -> None:
    assert problems(with_value(SEED_SMS, path, value)) == {path: reason}


@pytest.mark.parametrize(
    ("path", "value", "reported"),
    [
        ("message.messenger", "response", {"message.messenger": "must be an object"}),
        ("message.messenger.tag", 1, {"message.messenger.tag": "must be a string"}),
        ("from.id", 107083064136738, {"from.id": "must be a string"}),
        (
            "message.content",
            {"type": "image", "image": "https://example.com/a.jpg"},
            {"message.content.image": "must be an object"},
        ),
        ("message.content", {"type": "video", "video": {"url": 7}}, {"message.content.video.url": "must be a string"}),
    ],
)
def test_wrong_types_messenger(path: str, value: Any, reported: dict[str, str]) -> None:
    body = messenger(options={"category": "message_tag", "tag": "ticket_update"})
    assert problems(with_value(body, path, value)) == reported


@pytest.mark.parametrize("body", [None, [], [SEED_SMS], "text", 1, 1.5, True, ""])
@pytest.mark.parametrize("version", VERSIONS)
def test_body_that_is_not_an_object(body: object, version: ApiVersion) -> None:
    assert problems(body, version) == {"body": "must be a JSON object"}


# --- several errors at once -------------------------------------------------------------------


def test_every_problem_is_reported_together() -> None:
    body = {
        "from": {"type": "messenger"},
        "to": {"type": "messenger", "id": "p" * 51},
        "message": {
            "content": {"type": "text", "text": "t" * 641},
            "messenger": {"category": "message_tag"},
            "viber_service_msg": {"ttl": 5},
        },
        "client_ref": "c" * 41,
    }
    assert problems(body) == {
        "from.id": "is required for messenger messages",
        "to.id": "must be at most 50 characters",
        "message.content.text": "must be at most 640 characters for messenger",
        "message.messenger.tag": "is required when category is message_tag",
        "message.viber_service_msg": "is only allowed for viber_service_msg messages",
        "client_ref": "must be at most 40 characters",
    }


def test_empty_object_names_the_three_top_level_fields() -> None:
    assert problems({}) == {"from": "is required", "to": "is required", "message": "is required"}


def test_detail_counts_the_problems() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_nested({"from": {}, "to": {}, "message": {}}, ApiVersion.V0_1)
    assert caught.value.detail == "Found errors validating 3 of your submitted parameters."
    assert {p.name for p in caught.value.invalid_parameters} == {"from.type", "to.type", "message.content"}


# --- fuzz: odd values anywhere must end in ValidationFailed, never another exception -----------

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 10**400, 1.5, float("nan"), "", " ", "\ud800", "x" * 5000, [], [[]], [None], {},
    {"a": {"b": [1]}}, [SEED_SMS],
]


def leaf_paths(node: Any, prefix: str = "") -> list[str]:
    if isinstance(node, dict):
        paths = [prefix] if prefix else []
        for key, value in node.items():
            paths += leaf_paths(value, f"{prefix}.{key}" if prefix else key)
        return paths
    return [prefix]


FUZZ_BASES = [SEED_SMS, DOCS_MESSENGER, DOCS_VIBER, messenger(media("file")), viber(media("image", caption="c"))]


@pytest.mark.parametrize("base", FUZZ_BASES, ids=["sms", "messenger", "viber", "messenger-file", "viber-image"])
def test_fuzz_every_field(base: dict[str, Any]) -> None:
    fields = leaf_paths(base)
    assert fields
    for path in fields:
        for value in ODD_VALUES:
            try:
                parse_nested(with_value(base, path, value), ApiVersion.V0_1)
            except ValidationFailed as failure:
                assert failure.invalid_parameters
                assert all(p.name and p.reason for p in failure.invalid_parameters)
