"""Inbound messages: the sample provider events, replayed against the running stack, reach the demo inbound URL.

``local_stack.replay`` re-signs each ``events/webhooks_*.json`` sample with the stack's secrets and
points it at the demo page or SMS number, which the stack links to the demo application. Each test
gives its events a sender of its own, so it can tell its inbound webhooks from the others'.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest

from local_stack.replay import (
    CapturedWebhook,
    LocalStackTarget,
    load_webhook,
    local_stack_target,
    resign,
    send,
)
from local_stack.simulators import DEMO_PAGE_ID, DEMO_SMS_NUMBER
from local_stack.template import ROOT
from tests.support.stack import RunningStack
from tests.support.stack_requests import lookup, unique_msisdn, unique_psid
from tests.support.webhook_checks import (
    INBOUND_PATH,
    ISO_8601_MS_Z,
    POLL_INTERVAL_SECONDS,
    WEBHOOK_TIMEOUT_SECONDS,
    Record,
    assert_signed_for_the_demo_account,
)

pytestmark = pytest.mark.integration

EVENTS = ROOT / "events"


@pytest.fixture(scope="module")
def target(stack: RunningStack) -> LocalStackTarget:
    return local_stack_target(stack.local_dir)


def sample(name: str) -> CapturedWebhook:
    return load_webhook(EVENTS / f"webhooks_{name}.json")


def from_messenger_user(webhook: CapturedWebhook, psid: str) -> CapturedWebhook:
    """The sample Messenger event as sent by ``psid``."""
    data = json.loads(webhook.body)
    for entry in data["entry"]:
        for item in entry["messaging"]:
            item["sender"]["id"] = psid
    return replace(webhook, body=json.dumps(data).encode("utf-8"))


def from_sms_number(webhook: CapturedWebhook, msisdn: str) -> CapturedWebhook:
    """The sample inbound SMS (a JSON body) as sent by ``msisdn``."""
    data = json.loads(webhook.body)
    data["msisdn"] = msisdn
    return replace(webhook, body=json.dumps(data).encode("utf-8"))


def replay(target: LocalStackTarget, webhook: CapturedWebhook, *, new_ids: bool = True) -> None:
    response = send(resign(webhook, target.channels, new_ids=new_ids), target.api_url)
    assert response.status == 200, response.body


def inbound_from(stack: RunningStack, sender: dict[str, str]) -> list[Record]:
    return [
        record
        for record in stack.webhooks()
        if record["path"] == INBOUND_PATH and isinstance(record["body"], dict) and record["body"].get("from") == sender
    ]


def wait_for_inbound(stack: RunningStack, sender: dict[str, str], count: int = 1) -> list[Record]:
    return stack.wait_for(
        lambda: (found if len(found := inbound_from(stack, sender)) >= count else None),
        timeout=WEBHOOK_TIMEOUT_SECONDS,
        interval=POLL_INTERVAL_SECONDS,
        what=f"{count} inbound webhooks from {sender}",
    )


def assert_inbound_body(record: Record, to: dict[str, str], sender: dict[str, str], content: dict[str, Any]) -> None:
    """protocols.md 3.2: message_uuid, to, from, timestamp (ISO 8601, ms, Z), message.content."""
    body = record["body"]
    assert {"message_uuid", "to", "from", "timestamp", "message"} <= set(body), body
    assert (body["to"], body["from"], body["message"]) == (to, sender, {"content": content})
    assert ISO_8601_MS_Z.fullmatch(body["timestamp"]), body["timestamp"]
    assert record["method"] == "POST"


MESSENGER_PAGE = {"type": "messenger", "id": DEMO_PAGE_ID}
LOCATION_URL = "https://www.bing.com/maps/default.aspx?v=2&pc=FACEBK&mid=8100&where1=51.5074%2C-0.1278"
MESSENGER_SAMPLES = [
    ("messenger_text", {"type": "text", "text": "hello, is my order on its way?"}),
    ("messenger_image", {"type": "image", "image": {"url": "https://scontent.xx.fbcdn.net/v/sample.jpg"}}),
    (
        "messenger_location",
        {"type": "location", "location": {"lat": "51.5074", "long": "-0.1278", "url": LOCATION_URL}},
    ),
]


@pytest.mark.parametrize(("name", "content"), MESSENGER_SAMPLES, ids=[name for name, _ in MESSENGER_SAMPLES])
def test_a_replayed_messenger_message_reaches_the_inbound_url(
    stack: RunningStack, target: LocalStackTarget, name: str, content: dict[str, Any]
) -> None:
    psid = unique_psid("0000")
    replay(target, from_messenger_user(sample(name), psid))

    sender = {"type": "messenger", "id": psid}
    (record,) = wait_for_inbound(stack, sender)

    assert_signed_for_the_demo_account(stack, record)
    assert_inbound_body(record, MESSENGER_PAGE, sender, content)
    assert record["body"]["timestamp"] == "2026-11-27T12:00:00.000Z"  # the event's own timestamp


def test_a_replayed_inbound_sms_reaches_the_inbound_url(stack: RunningStack, target: LocalStackTarget) -> None:
    msisdn = unique_msisdn("0000")
    replay(target, from_sms_number(sample("sms_inbound"), msisdn))

    sender = {"type": "sms", "number": msisdn}
    (record,) = wait_for_inbound(stack, sender)

    assert_signed_for_the_demo_account(stack, record)
    demo_number = {"type": "sms", "number": DEMO_SMS_NUMBER}
    assert_inbound_body(record, demo_number, sender, {"type": "text", "text": "Hello world"})


def test_the_same_provider_event_twice_is_one_inbound_webhook(stack: RunningStack, target: LocalStackTarget) -> None:
    psid, control_psid = unique_psid("0000"), unique_psid("0000")
    event = resign(from_messenger_user(sample("messenger_text"), psid), target.channels, new_ids=True)
    first, retry = send(event, target.api_url), send(event, target.api_url)
    assert (first.status, retry.status) == (200, 200)
    # Sent after the retry: once its webhook arrived, the retry's (had it one) was queued before it.
    replay(target, from_messenger_user(sample("messenger_text"), control_psid))

    wait_for_inbound(stack, {"type": "messenger", "id": control_psid})
    (record,) = wait_for_inbound(stack, {"type": "messenger", "id": psid})
    assert inbound_from(stack, {"type": "messenger", "id": psid}) == [record]


def test_the_lookup_shows_an_inbound_message_and_its_webhook_attempt(
    stack: RunningStack, target: LocalStackTarget
) -> None:
    msisdn = unique_msisdn("0000")
    replay(target, from_sms_number(sample("sms_inbound"), msisdn))
    (record,) = wait_for_inbound(stack, {"type": "sms", "number": msisdn})
    message_uuid = record["body"]["message_uuid"]

    view = stack.wait_for(
        lambda: (found if (found := lookup(stack, message_uuid))["webhook_attempts"] else None),
        timeout=WEBHOOK_TIMEOUT_SECONDS,
        interval=0.2,
        what="the inbound webhook attempt in the lookup",
    )

    assert view["direction"] == "inbound"
    assert (view["channel"], view["to"], view["from"]) == ("sms", DEMO_SMS_NUMBER, msisdn)
    (attempt,) = view["webhook_attempts"]
    assert (attempt["kind"], attempt["outcome"], attempt["attempt"], attempt["http_status"]) == (
        "inbound",
        "delivered",
        1,
        200,
    )
