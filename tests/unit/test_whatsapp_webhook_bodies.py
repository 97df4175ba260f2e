"""WhatsApp customer webhooks in the v1 shape: statuses (with read) and inbound content of each type."""
from __future__ import annotations

from typing import Any

import pytest

from switchboard.domain.webhook_bodies import v1_inbound_body, v1_status_body

MESSAGE_UUID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
BUSINESS, CUSTOMER = "447700900100", "447700900123"


def outbound() -> dict[str, Any]:
    return {"message_uuid": MESSAGE_UUID, "channel": "whatsapp", "api_version": "v1",
            "from": {"type": "whatsapp", "number": BUSINESS}, "to": {"type": "whatsapp", "number": CUSTOMER}}


def inbound(content: dict[str, Any]) -> dict[str, Any]:
    return {"message_uuid": MESSAGE_UUID, "channel": "whatsapp", "timestamp": "2026-12-05T11:00:00.000Z",
            "from": {"type": "whatsapp", "number": CUSTOMER}, "to": {"type": "whatsapp", "number": BUSINESS},
            "content": content}


def test_a_whatsapp_message_has_a_read_status_with_flat_addresses() -> None:
    body = v1_status_body(outbound(), "read", "2026-12-05T11:00:01.000Z")
    assert body == {"message_uuid": MESSAGE_UUID, "to": CUSTOMER, "from": BUSINESS,
                    "timestamp": "2026-12-05T11:00:01.000Z", "status": "read", "channel": "whatsapp"}


def test_an_undeliverable_status_carries_the_mapped_error() -> None:
    body = v1_status_body(outbound(), "undeliverable", "2026-12-05T11:00:01.000Z",
                          {"code": 1260, "reason": "Destination unreachable: (#131026) Message undeliverable"})
    assert body["error"]["title"] == "1260" and body["error"]["type"].endswith("#1260")


URL = f"https://api.example.test/v1/whatsapp/media/{BUSINESS}/7788"


@pytest.mark.parametrize("content, fields", [
    ({"type": "text", "text": "hi"}, {"message_type": "text", "text": "hi"}),
    ({"type": "image", "image": {"url": URL, "caption": "c", "mime_type": "image/png"}},
     {"message_type": "image", "image": {"url": URL, "caption": "c"}}),
    ({"type": "file", "file": {"url": URL, "name": "a.pdf"}}, {"message_type": "file", "file": {"url": URL, "name": "a.pdf"}}),
    ({"type": "sticker", "sticker": {"url": URL}}, {"message_type": "sticker", "sticker": {"url": URL}}),
    ({"type": "location", "location": {"lat": "51.5", "long": "-0.12", "name": "Office"}},
     {"message_type": "location", "location": {"lat": 51.5, "long": -0.12, "name": "Office"}}),
    ({"type": "reply", "reply": {"id": "y", "title": "Yes"}, "reply_type": "button_reply"},
     {"message_type": "reply", "reply": {"id": "y", "title": "Yes"}}),
    ({"type": "button", "button": {"payload": "STOP", "text": "Stop"}},
     {"message_type": "button", "button": {"payload": "STOP", "text": "Stop"}}),
    ({"type": "reaction", "reaction": {"action": "react", "emoji": "👍", "message_id": "wamid.X"}},
     {"message_type": "reaction", "reaction": {"action": "react", "emoji": "👍", "message_id": "wamid.X"}}),
    ({"type": "contacts", "contacts": [{"name": {"formatted_name": "Bo"}}]}, {"message_type": "unsupported"}),
    ({"type": "text", "text": "yes", "profile": {"name": "Ann"},
      "context": {"message_from": BUSINESS, "provider_message_id": "wamid.OUT"}},
     {"message_type": "text", "text": "yes", "profile": {"name": "Ann"}, "context": {"message_from": BUSINESS}}),
], ids=["text", "image", "file", "sticker", "location", "reply", "button", "reaction", "contacts", "profile-context"])
def test_inbound_content_of_each_type(content: dict[str, Any], fields: dict[str, Any]) -> None:
    body = v1_inbound_body(inbound(content))
    assert body == {"channel": "whatsapp", "message_uuid": MESSAGE_UUID, "to": BUSINESS, "from": CUSTOMER,
                    "timestamp": "2026-12-05T11:00:00.000Z", **fields}
