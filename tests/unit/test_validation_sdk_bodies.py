"""parse_flat accepts exactly what the official Vonage Python SDK puts on the wire."""
from __future__ import annotations

from typing import Any

import pytest
from vonage_messages import models

from switchboard.domain.message import Channel, Content, MessengerOptions, SmsOptions, ViberOptions
from switchboard.validation import parse_flat



def wire(message: Any) -> dict[str, Any]:
    # The same serialisation vonage_messages.Messages.send uses.
    return message.model_dump(by_alias=True, exclude_none=True)


def test_sms_with_options() -> None:
    body = wire(
        models.Sms(
            to="447700900000",
            from_="Acme",
            text="hello",
            ttl=300,
            client_ref="c" * 100,
            webhook_url="https://example.com/status",
            webhook_version="v1",
            sms=models.SmsOptions(encoding_type="unicode", entity_id="e1", content_id="c1"),
        )
    )
    message = parse_flat(body)
    assert message.channel is Channel.SMS
    assert message.sms == SmsOptions(encoding_type="unicode", ttl=300_000, content_id="c1", entity_id="e1")
    assert message.webhook_version == "v1"


@pytest.mark.parametrize(
    ("model", "kind"),
    [("MessengerImage", "image"), ("MessengerAudio", "audio"), ("MessengerVideo", "video"), ("MessengerFile", "file")],
)
def test_messenger_media(model: str, kind: str) -> None:
    resource = models.MessengerResource(url=f"https://example.com/a.{kind}")
    options = models.MessengerOptions(category="message_tag", tag="CONFIRMED_EVENT_UPDATE")
    body = wire(getattr(models, model)(to="1234567890", from_="0987654321", messenger=options, **{kind: resource}))
    message = parse_flat(body)
    assert message.content == Content(type=kind, url=f"https://example.com/a.{kind}")
    assert message.messenger == MessengerOptions(category="message_tag", tag="CONFIRMED_EVENT_UPDATE")


def test_messenger_text() -> None:
    message = parse_flat(wire(models.MessengerText(to="1234567890", from_="0987654321", text="x" * 640)))
    assert message.messenger == MessengerOptions(category="response")


def test_viber_text_and_image() -> None:
    options = models.ViberTextOptions(category="promotion", ttl=86400, type="string")
    text = parse_flat(wire(models.ViberText(to="447700900000", from_="16273", text="hi", viber_service=options)))
    assert text.viber == ViberOptions(category="promotion", ttl=86400, type="string")
    image = parse_flat(
        wire(
            models.ViberImage(
                to="447700900000",
                from_="16273",
                image=models.ViberImageResource(url="https://example.com/a.jpg", caption="Sale"),
            )
        )
    )
    assert image.content == Content(type="image", url="https://example.com/a.jpg", caption="Sale")
    assert image.viber == ViberOptions(category="transaction")
