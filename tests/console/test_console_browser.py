"""The console in a real headless Chromium, against the session's local stack, driven as a developer would.

Each test saves screenshots of its steps under ``.local/test-artifacts/console/``. The tests reach the
stack through their page fixture, which asks for the browser first: without one they are skipped
before the stack is started for them.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest

from tests.support.console_page import ConsolePage
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.integration, pytest.mark.browser, pytest.mark.xdist_group("local_stack")]

PAGE_ID = "107083064136738"  # the demo page, linked to the demo application
MAX_TABS = 60


def psid(suffix: str = "7777") -> str:
    """A Messenger user id; an ordinary suffix is delivered after about 1 s and read 1 s later."""
    return "9" + "".join(secrets.choice("0123456789") for _ in range(11)) + suffix


def send(stack: RunningStack, body: dict[str, Any]) -> str:
    response = stack.post("/v1/messages", json=body, auth=stack.auth)
    assert response.status_code == 202, response.text
    return response.json()["message_uuid"]


def tab_to(page: Any, accessible_text: str) -> None:
    """Press Tab until the focused element's text contains ``accessible_text``: it is reachable by keyboard."""
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement && document.activeElement.textContent")
        if focused and accessible_text in focused:
            return
    pytest.fail(f"{accessible_text!r} is not reachable with Tab")


def wait_for_badge(page: Any, scope: str, status: str) -> None:
    page.locator(f"{scope} .badge", has_text=re.compile(rf"^{status}$")).first.wait_for()


def test_a_message_appears_live_reaches_read_and_the_recipients_reply_arrives(console_page: ConsolePage) -> None:
    page, stack = console_page.page, console_page.stack
    user = psid()
    text = f"Your table for two is booked for 19:30 [{secrets.token_hex(3)}]"
    page.goto(console_page.console_url)
    page.locator("#live[data-state='live']").wait_for()
    page.evaluate("window.notReloaded = true")

    uuid = send(stack, {"channel": "messenger", "message_type": "text", "from": PAGE_ID, "to": user, "text": text})

    row = page.locator("tbody tr", has_text=text)
    row.wait_for()  # appears without a reload, pushed by the event stream
    assert page.evaluate("window.notReloaded") is True
    assert row.locator("td.addr").nth(1).inner_text() == user
    console_page.screenshot("message-appears")

    tab_to(page, text)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/_console/messages/{uuid}")
    page.locator("h1", has_text=f"Messenger message to {user}").wait_for()
    page.evaluate("window.notReloaded = true")
    wait_for_badge(page, "ol.timeline", "read")
    badges = [badge.inner_text() for badge in page.locator("ol.timeline .badge").all()]
    assert badges[:3] == ["accepted", "sending", "submitted"]
    wait_for_badge(page, ".title-row", "read")
    page.locator(".exchange", has_text="status:read").locator(".badge", has_text="signature verifies").wait_for()
    provider_call = page.locator("#provider-title").locator("..")
    assert "HTTP 200" in provider_call.inner_text() and f'"id": "{user}"' in provider_call.inner_text()
    assert page.evaluate("window.notReloaded") is True
    console_page.screenshot("timeline-read")

    reply = f"Perfect, see you then! [{secrets.token_hex(3)}]"
    page.get_by_label(f"Reply as {user}").fill(reply)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the focused "Send reply" button
    page.locator(".result", has_text="the API answered 200").wait_for()
    console_page.screenshot("reply-sent")

    page.get_by_role("link", name="← All messages").click()
    inbound_row = page.locator("tbody tr", has_text=reply)
    inbound_row.wait_for()
    assert "in" in inbound_row.locator("td.dir").inner_text()
    assert inbound_row.locator("td.addr").first.inner_text() == user
    console_page.screenshot("reply-arrived")

    inbound_row.get_by_role("link").click()
    page.locator("h1", has_text=f"Inbound Messenger message from {user}").wait_for()
    page.locator(".exchange", has_text="inbound").locator(".badge", has_text="signature verifies").wait_for()
    console_page.screenshot("inbound-message")

    assert console_page.foreign_requests() == []
    assert console_page.script_errors == []


def test_receipt_buttons_move_a_message_and_say_what_a_channel_cannot_report(console_page: ConsolePage) -> None:
    page, stack = console_page.page, console_page.stack
    viber_user = "44" + "".join(secrets.choice("0123456789") for _ in range(9)) + "0003"  # never reported on
    uuid = send(stack, {"channel": "viber_service", "message_type": "text", "from": "16273", "to": viber_user,
                        "text": "A receipt only when you press the button"})

    page.goto(f"{stack.api_url}/_console/messages/{uuid}")
    wait_for_badge(page, "ol.timeline", "submitted")
    assert page.get_by_role("button", name="Send reply").is_disabled()
    assert "Viber Service Messages carry no inbound messages" in page.locator("#reply-reason").inner_text()
    page.get_by_role("button", name="Mark delivered").wait_for()
    page.locator("button:enabled", has_text="Mark delivered").wait_for()

    provider_id = stack.get(f"/_console/api/messages/{uuid}").json()["provider_message_id"]
    provider_answer = page.locator("pre[aria-label='answer body']").inner_text()
    assert f'"message_token": {provider_id}' in provider_answer  # exact, though past JavaScript's 2**53

    page.get_by_role("button", name="Mark delivered").click()
    wait_for_badge(page, "ol.timeline", "delivered")
    page.get_by_role("button", name="Mark read").click()
    wait_for_badge(page, "ol.timeline", "read")
    wait_for_badge(page, ".title-row", "read")
    console_page.screenshot("viber-marked-read")

    sms_user = "44" + "".join(secrets.choice("0123456789") for _ in range(9)) + "0003"
    sms_uuid = send(stack, {"channel": "sms", "message_type": "text", "from": "447700900001", "to": sms_user,
                            "text": "Ünïcödé ✓ " + "x" * 70})
    page.goto(f"{stack.api_url}/_console/messages/{sms_uuid}")
    wait_for_badge(page, "ol.timeline", "submitted")
    assert page.get_by_role("button", name="Mark read").is_disabled()
    assert page.locator("#reason-read").inner_text() == "the SMS API has no read receipt"
    assert "2 SMS parts" in page.locator(".sms-facts").inner_text()
    assert "UCS-2" in page.locator(".sms-facts").inner_text()
    assert page.locator(".bubble .part-label").all_inner_texts() == ["part 1 of 2", "part 2 of 2"]
    page.locator("button:enabled", has_text="Mark failed").click()
    wait_for_badge(page, "ol.timeline", "undeliverable")
    assert "error 1180" in page.locator("ol.timeline").inner_text()
    console_page.screenshot("sms-marked-failed")

    assert console_page.foreign_requests() == []
    assert console_page.script_errors == []


def test_workflows_count_their_timers_down_in_dark_mode(dark_console_page: ConsolePage) -> None:
    page, stack = dark_console_page.page, dark_console_page.stack
    never_read = psid("0004")  # delivered, never read: the workflow fails over when its timer runs out
    response = stack.post("/v0.1/dispatch", auth=stack.auth, json={"template": "failover", "workflow": [
        {"from": {"type": "messenger", "id": PAGE_ID}, "to": {"type": "messenger", "id": never_read},
         "message": {"content": {"type": "text", "text": "Your code is 1234"}},
         "failover": {"expiry_time": 60, "condition_status": "read"}},
        {"from": {"type": "sms", "number": "447700900001"}, "to": {"type": "sms", "number": "447700900000"},
         "message": {"content": {"type": "text", "text": "Your code is 1234"}}},
    ]})
    assert response.status_code == 202, response.text
    dispatch_uuid = response.json()["dispatch_uuid"]

    page.goto(f"{stack.api_url}/_console/workflows")
    workflow = page.locator("section", has_text=dispatch_uuid)
    timer = workflow.locator(".timer")
    timer.wait_for()
    first = int(re.match(r"(\d+) s left", timer.inner_text()).group(1))
    page.wait_for_timeout(2500)
    later = int(re.match(r"(\d+) s left", timer.inner_text()).group(1))
    assert 0 < later < first <= 61  # the timer is due at a whole second: up to 1 s past the 60
    assert "not started" in workflow.inner_text()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(15, 19, 24)"  # the dark theme
    dark_console_page.screenshot("workflows-dark")

    page.goto(f"{stack.api_url}/_console/")
    page.locator("tbody tr").first.wait_for()
    dark_console_page.screenshot("messages-dark")
    assert dark_console_page.foreign_requests() == []
    assert dark_console_page.script_errors == []
