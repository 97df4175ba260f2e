"""v1 parity: Viber video, file and action buttons, Messenger tags and the SDK's options, as validated.

Bodies are built with the official SDK's models where it can build them, serialised as the SDK sends
them, so what the SDK produces is exactly what is checked.
"""
from __future__ import annotations

from typing import Any

import pytest
from vonage_messages import models

from switchboard.domain.errors import ValidationFailed
from switchboard.domain.message import ApiVersion, Content, MessengerOptions, OutboundMessage, SmsOptions, ViberOptions
from switchboard.validation import parse_flat, parse_nested

SERVICE = "16273"
NUMBER = "447700900000"
VIDEO = models.ViberVideoResource(url="https://example.com/v.mp4", thumb_url="https://example.com/t.jpg")
FILE = models.ViberFileResource(url="https://example.com/files/report.pdf")
ACTION = models.ViberAction(url="https://example.com/offer", text="See the offer")


def wire(message: Any) -> dict[str, Any]:
    # The same serialisation vonage_messages.Messages.send uses.
    return message.model_dump(by_alias=True, exclude_none=True)


def problems(body: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_flat(body)
    return {p.name: p.reason for p in caught.value.invalid_parameters}


def video_body(**options: Any) -> dict[str, Any]:
    duration, file_size = options.pop("duration", "45"), options.pop("file_size", "12")
    return wire(
        models.ViberVideo(
            to=NUMBER,
            from_=SERVICE,
            video=VIDEO,
            viber_service=models.ViberVideoOptions(duration=duration, file_size=file_size, **options),
        )
    )


def with_value(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """``body`` with ``path`` (dotted) set to ``value``; ``None`` removes it."""
    copy = {key: dict(item) if isinstance(item, dict) else item for key, item in body.items()}
    *parents, key = path.split(".")
    target = copy
    for parent in parents:
        target = target.setdefault(parent, {})
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value
    return copy


# --- Viber video --------------------------------------------------------------------------------


def test_sdk_viber_video_is_accepted_with_its_duration_and_size() -> None:
    message = parse_flat(video_body(category="promotion", ttl=600))

    assert message.content == Content(type="video", url=VIDEO.url, thumb_url=VIDEO.thumb_url)
    assert message.viber == ViberOptions(category="promotion", ttl=600, duration=45, file_size=12)
    assert OutboundMessage.from_item(message.to_item()) == message


def test_viber_video_caption_and_integer_sizes() -> None:
    body = with_value(video_body(), "video.caption", "c" * 1000)
    body = with_value(with_value(body, "viber_service.duration", 600), "viber_service.file_size", 200)

    message = parse_flat(body)

    assert (message.content.caption, message.viber.duration, message.viber.file_size) == ("c" * 1000, 600, 200)


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("viber_service.duration", "0", "must be between 1 and 600 seconds"),
        ("viber_service.duration", 601, "must be between 1 and 600 seconds"),
        ("viber_service.duration", "1.5", "must be an integer"),
        ("viber_service.duration", None, "is required"),
        ("viber_service.file_size", "201", "must be between 1 and 200 MB"),
        ("viber_service.file_size", True, "must be an integer"),
        ("viber_service.file_size", None, "is required"),
        ("video.thumb_url", None, "is required"),
        ("video.thumb_url", "https://example.com/" + "t" * 981, "must be at most 1000 characters"),
        ("video.thumb_url", "thumb.jpg", "must be an absolute http or https URL with a host"),
        ("video.caption", "c" * 1001, "must be at most 1000 characters for viber_service"),
    ],
)
def test_viber_video_limits(path: str, value: Any, reason: str) -> None:
    assert problems(with_value(video_body(), path, value)) == {path: reason}


def test_viber_video_without_its_options_names_both_missing_fields() -> None:
    assert problems(with_value(video_body(), "viber_service", None)) == {
        "viber_service.duration": "is required",
        "viber_service.file_size": "is required",
    }


def test_duration_and_file_size_belong_to_videos_only() -> None:
    body = wire(models.ViberText(to=NUMBER, from_=SERVICE, text="hi"))
    body["viber_service"] = {"duration": 30, "file_size": 2}

    assert problems(body) == {
        "viber_service.duration": "is only allowed on video messages",
        "viber_service.file_size": "is only allowed on video messages",
    }


# --- Viber file ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (FILE, Content(type="file", url=FILE.url)),
        (
            models.ViberFileResource(url="https://example.com/download?id=1", name="a" * 20 + ".xlsx"),
            Content(type="file", url="https://example.com/download?id=1", name="a" * 20 + ".xlsx"),
        ),
    ],
    ids=["name-in-url", "name-given"],
)
def test_sdk_viber_file_is_accepted(resource: models.ViberFileResource, expected: Content) -> None:
    message = parse_flat(wire(models.ViberFile(to=NUMBER, from_=SERVICE, file=resource)))

    assert message.content == expected
    assert OutboundMessage.from_item(message.to_item()) == message


@pytest.mark.parametrize(
    ("file", "name", "reason"),
    [
        (
            {"url": "https://example.com/download"},
            "file.url",
            "must end in a file name with its extension (e.g. report.pdf): Viber sends the type",
        ),
        (
            {"url": "https://example.com/x", "name": "report"},
            "file.name",
            "must end in a file name with its extension (e.g. report.pdf): Viber sends the type",
        ),
        (
            {"url": "https://example.com/" + "a" * 22 + ".pdf"},
            "file.url",
            "ends in a file name longer than 25 characters (Viber's limit); give a shorter file.name",
        ),
        ({"url": "https://example.com/x.pdf", "name": "a" * 22 + ".pdf"}, "file.name",
         "must be at most 25 characters for viber_service"),
        ({"name": "a.pdf"}, "file.url", "is required"),
    ],
)
def test_viber_file_limits(file: dict[str, Any], name: str, reason: str) -> None:
    body = wire(models.ViberFile(to=NUMBER, from_=SERVICE, file=FILE))
    body["file"] = file
    assert problems(body) == {name: reason}


def test_action_button_is_refused_on_a_file() -> None:
    body = wire(models.ViberFile(to=NUMBER, from_=SERVICE, file=FILE))
    body["viber_service"] = {"action": {"url": "https://example.com", "text": "Go"}}

    assert problems(body) == {
        "viber_service.action": "is not supported on file messages (Viber sends a file without a button)"
    }


# --- Viber action buttons and captions ------------------------------------------------------------


def test_sdk_viber_text_with_an_action_button() -> None:
    options = models.ViberTextOptions(action=ACTION)
    body = wire(models.ViberText(to=NUMBER, from_=SERVICE, text="hi", viber_service=options))

    assert parse_flat(body).viber == ViberOptions(action_url=ACTION.url, action_text=ACTION.text)


def test_sdk_viber_image_with_a_long_caption_and_an_action_button() -> None:
    caption = "A caption the SDK allows and Viber shows as the message text, well past 30 characters"
    body = wire(
        models.ViberImage(
            to=NUMBER,
            from_=SERVICE,
            image=models.ViberImageResource(url="https://example.com/a.jpg", caption=caption),
            viber_service=models.ViberImageOptions(action=ACTION, category="promotion"),
        )
    )

    message = parse_flat(body)

    assert message.content == Content(type="image", url="https://example.com/a.jpg", caption=caption)
    assert message.viber == ViberOptions(category="promotion", action_url=ACTION.url, action_text=ACTION.text)
    assert OutboundMessage.from_item(message.to_item()) == message


def test_a_video_may_carry_an_action_button() -> None:
    body = with_value(video_body(), "viber_service.action", {"url": ACTION.url, "text": ACTION.text})

    assert parse_flat(body).viber.action_url == ACTION.url


@pytest.mark.parametrize(
    ("action", "problem"),
    [
        (
            {"url": "https://example.com", "text": "t" * 31},
            {"viber_service.action.text": "must be at most 30 characters for viber_service"},
        ),
        ({"url": "https://example.com"}, {"viber_service.action.text": "is required"}),
        ({"text": "Go"}, {"viber_service.action.url": "is required"}),
        (
            {"url": "example.com", "text": "Go"},
            {"viber_service.action.url": "must be an absolute http or https URL with a host"},
        ),
        ("https://example.com", {"viber_service.action": "must be an object"}),
    ],
)
def test_action_button_limits(action: Any, problem: dict[str, str]) -> None:
    body = wire(models.ViberText(to=NUMBER, from_=SERVICE, text="hi"))
    body["viber_service"] = {"action": action}
    assert problems(body) == problem


def test_video_and_file_stay_v1_only() -> None:
    body = {
        "from": {"type": "viber_service_msg", "id": SERVICE},
        "to": {"type": "viber_service_msg", "number": NUMBER},
        "message": {"content": {"type": "video", "video": {"url": "https://example.com/v.mp4"}}},
    }
    with pytest.raises(ValidationFailed) as caught:
        parse_nested(body, ApiVersion.V0_1)
    assert [(p.name, p.reason) for p in caught.value.invalid_parameters] == [
        ("message.content.type", "is not supported for viber_service_msg; supported: text, image")
    ]


# --- Messenger tags -------------------------------------------------------------------------------


def sdk_messenger(tag: str) -> dict[str, Any]:
    options = models.MessengerOptions(category="message_tag", tag=tag)
    return wire(models.MessengerText(to="1234567890", from_="0987654321", text="hi", messenger=options))


@pytest.mark.parametrize("tag", ["CUSTOMER_FEEDBACK", "customer_feedback", "HUMAN_AGENT", "account_update"])
def test_current_tags_are_accepted_on_v1(tag: str) -> None:
    assert parse_flat(sdk_messenger(tag)).messenger == MessengerOptions("message_tag", tag.upper())


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("ticket_update", "TICKET_UPDATE was retired by Facebook on 2020-03-04; use CONFIRMED_EVENT_UPDATE"),
        ("SHIPPING_UPDATE", "SHIPPING_UPDATE was retired by Facebook on 2020-03-04; use POST_PURCHASE_UPDATE"),
        ("application_update", "APPLICATION_UPDATE was retired by Facebook on 2020-03-04; use ACCOUNT_UPDATE"),
        (
            "GAME_EVENT",
            "GAME_EVENT was retired by Facebook on 2020-03-04; no current tag replaces it (current tags: "
            "ACCOUNT_UPDATE, CONFIRMED_EVENT_UPDATE, CUSTOMER_FEEDBACK, HUMAN_AGENT, POST_PURCHASE_UPDATE)",
        ),
    ],
)
def test_retired_tags_are_refused_on_v1_naming_the_replacement(tag: str, reason: str) -> None:
    assert problems(sdk_messenger(tag)) == {"messenger.tag": reason}


@pytest.mark.parametrize("tag", ["ticket_update", "GAME_EVENT", "customer_feedback", "HUMAN_AGENT"])
def test_beta_and_v0_1_keep_the_2018_tags_and_accept_the_current_ones(tag: str) -> None:
    body = {
        "from": {"type": "messenger", "id": "0987654321"},
        "to": {"type": "messenger", "id": "1234567890"},
        "message": {
            "content": {"type": "text", "text": "hi"},
            "messenger": {"category": "message_tag", "tag": tag},
        },
    }
    for version in (ApiVersion.BETA, ApiVersion.V0_1):
        assert parse_nested(body, version).messenger == MessengerOptions("message_tag", tag.upper())


# --- the SDK's other options ----------------------------------------------------------------------


def test_sms_pool_id_is_refused_naming_the_field() -> None:
    body = wire(models.Sms(to=NUMBER, from_="Acme", text="hi", sms=models.SmsOptions(pool_id="pool-1")))

    assert problems(body) == {
        "sms.pool_id": "is not supported by this deployment (it has no number pools); send from a number of your own"
    }


@pytest.mark.parametrize("trusted", [True, False])
def test_sms_trusted_recipient_is_accepted_and_changes_nothing(trusted: bool) -> None:
    plain = parse_flat(wire(models.Sms(to=NUMBER, from_="Acme", text="hi")))
    trusted_message = parse_flat(wire(models.Sms(to=NUMBER, from_="Acme", text="hi", trusted_recipient=trusted)))

    assert trusted_message == plain


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            {"channel": "sms", "message_type": "text", "to": NUMBER, "from": "Acme", "text": "hi",
             "trusted_recipient": "yes"},
            {"trusted_recipient": "must be true or false"},
        ),
        (
            {"channel": "viber_service", "message_type": "text", "to": NUMBER, "from": SERVICE, "text": "hi",
             "trusted_recipient": True},
            {"trusted_recipient": "is only allowed for sms messages"},
        ),
    ],
)
def test_trusted_recipient_must_be_a_boolean_on_an_sms(body: dict[str, Any], problem: dict[str, str]) -> None:
    assert problems(body) == problem


def test_sms_options_the_sdk_sets_are_kept() -> None:
    body = wire(
        models.Sms(
            to=NUMBER,
            from_="Acme",
            text="hi",
            ttl=20,
            sms=models.SmsOptions(encoding_type="text", content_id="c-1", entity_id="e-1"),
        )
    )
    assert parse_flat(body).sms == SmsOptions(encoding_type="text", ttl=20_000, content_id="c-1", entity_id="e-1")


def test_viber_type_string_is_what_is_sent_and_template_is_refused() -> None:
    def with_type(viber_type: str) -> dict[str, Any]:
        options = models.ViberTextOptions(type=viber_type)
        return wire(models.ViberText(to=NUMBER, from_=SERVICE, text="hi", viber_service=options))

    string, template = with_type("string"), with_type("template")

    assert parse_flat(string).viber == ViberOptions(type="string")
    assert problems(template) == {
        "viber_service.type": "template is not supported by this deployment (it has no Viber templates)"
    }
