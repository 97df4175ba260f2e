"""A message's whole life reaches the customer as signed status webhooks, in order.

The provider simulators send their delivery and read reports as real signed provider webhooks to
the API's routes, chosen by the recipient's last four digits: default delivered then read (SMS:
delivered only), 0002 failed, 0003 nothing, 0004 delivered only; 0001 is refused at send time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from local_stack.simulators import DEMO_PAGE_ID, DEMO_SMS_NUMBER, DEMO_VIBER_SERVICE_ID
from tests.support.stack import RunningStack
from tests.support.webhook_schemas import schema_errors
from tests.support.stack_requests import (
    SendRequest,
    history_statuses,
    lookup,
    post_message,
    unique_msisdn,
    unique_psid,
    unique_text,
)
from tests.support.webhook_checks import (
    ISO_8601_MS_Z,
    STATUS_PATH,
    Record,
    assert_signed_for_the_demo_account,
    provider_reports_to,
    sink_base_url,
    statuses,
    wait_for_status,
    wait_for_statuses,
    webhooks_for,
)

pytestmark = pytest.mark.integration

DEFAULT = "0000"  # any suffix without a scenario: delivered, then read where the provider has read receipts
NOT_ON_NETWORK = "0001"
DELIVERY_FAILS = "0002"
NO_REPORT = "0003"
NEVER_READ = "0004"

BETA, V0_1, V1 = "/beta/messages", "/v0.1/messages", "/v1/messages"
SMS_FAILED_CODE = 1180  # the simulator's failed DLR has err-code 2, Absent Subscriber - Temporary
VIBER_EXPIRED_CODE = 1360  # Viber's failed callback is status 2, expired


# -- requests -------------------------------------------------------------------------------------


def sms_endpoint(number: str) -> dict[str, str]:
    return {"type": "sms", "number": number}


def messenger_endpoint(psid: str) -> dict[str, str]:
    return {"type": "messenger", "id": psid}


def viber_endpoint(number: str) -> dict[str, str]:
    return {"type": "viber_service_msg", "number": number}


DEMO_SMS = sms_endpoint(DEMO_SMS_NUMBER)
DEMO_PAGE = messenger_endpoint(DEMO_PAGE_ID)
DEMO_VIBER = {"type": "viber_service_msg", "id": DEMO_VIBER_SERVICE_ID}


@dataclass(frozen=True)
class Case:
    """One message to send, and the endpoints its status webhooks must name."""

    path: str
    body: dict[str, Any]
    recipient: str
    to: dict[str, str]
    sender: dict[str, str]
    client_ref: str | None = None


def seed_sms(suffix: str, label: str) -> Case:
    """The seed document's example (beta), to a recipient of its own ending in ``suffix``."""
    to = unique_msisdn(suffix)
    body = {
        "from": DEMO_SMS,
        "to": sms_endpoint(to),
        "message": {"content": {"type": "text", "text": unique_text(label)}},
    }
    return Case(BETA, body, to, sms_endpoint(to), DEMO_SMS)


def v1_sms(suffix: str, label: str, **extra: Any) -> Case:
    to = unique_msisdn(suffix)
    body = {"channel": "sms", "message_type": "text", "from": DEMO_SMS_NUMBER, "to": to, "text": unique_text(label)}
    return Case(V1, body | extra, to, sms_endpoint(to), DEMO_SMS, extra.get("client_ref"))


def v01_messenger(suffix: str, label: str, **extra: Any) -> Case:
    psid = unique_psid(suffix)
    body = {
        "from": DEMO_PAGE,
        "to": messenger_endpoint(psid),
        "message": {"content": {"type": "text", "text": unique_text(label)}},
    }
    return Case(V0_1, body | extra, psid, messenger_endpoint(psid), DEMO_PAGE, extra.get("client_ref"))


def v1_messenger(suffix: str, label: str) -> Case:
    psid = unique_psid(suffix)
    body = {
        "channel": "messenger",
        "message_type": "text",
        "from": DEMO_PAGE_ID,
        "to": psid,
        "text": unique_text(label),
    }
    return Case(V1, body, psid, messenger_endpoint(psid), DEMO_PAGE)


def v01_viber(suffix: str, label: str) -> Case:
    to = unique_msisdn(suffix)
    body = {
        "from": DEMO_VIBER,
        "to": viber_endpoint(to),
        "message": {"content": {"type": "text", "text": unique_text(label)}},
    }
    return Case(V0_1, body, to, viber_endpoint(to), DEMO_VIBER)


def v1_viber(suffix: str, label: str, **extra: Any) -> Case:
    to = unique_msisdn(suffix)
    body = {
        "channel": "viber_service",
        "message_type": "text",
        "from": DEMO_VIBER_SERVICE_ID,
        "to": to,
        "text": unique_text(label),
        "viber_service": {"category": "transaction"},
    }
    return Case(V1, body | extra, to, viber_endpoint(to), DEMO_VIBER, extra.get("client_ref"))


def reference(label: str) -> str:
    return f"{label}-{secrets.token_hex(4)}"


WEBHOOK_URL_PATH = f"/custom/status/{secrets.token_hex(6)}"
REJECTED_CODES = {"sms": 1050, "messenger": 1300, "viber": 1300}
CASES: dict[str, Case] = {
    "seed-sms": seed_sms(DEFAULT, "Seed SMS"),
    "lookup-sms": v1_sms(DEFAULT, "Lookup SMS"),
    "messenger": v01_messenger(DEFAULT, "Messenger", client_ref=reference("messenger")),
    "viber": v1_viber(DEFAULT, "Viber", client_ref=reference("viber")),
    "messenger-0004": v1_messenger(NEVER_READ, "Messenger 0004"),
    "viber-0004": v1_viber(NEVER_READ, "Viber 0004"),
    "sms-0002": v1_sms(DELIVERY_FAILS, "SMS 0002", client_ref=reference("sms")),
    "viber-0002": v1_viber(DELIVERY_FAILS, "Viber 0002"),
    # Messenger has no webhook for a failed delivery: its 0002 gets no report, like 0003.
    "messenger-0002": v1_messenger(DELIVERY_FAILS, "Messenger 0002"),
    "sms-0003": v1_sms(NO_REPORT, "SMS 0003"),
    "viber-0003": v1_viber(NO_REPORT, "Viber 0003"),
    "messenger-0003": v1_messenger(NO_REPORT, "Messenger 0003"),
    "sms-0001": seed_sms(NOT_ON_NETWORK, "SMS 0001"),
    "messenger-0001": v01_messenger(NOT_ON_NETWORK, "Messenger 0001"),
    "viber-0001": v01_viber(NOT_ON_NETWORK, "Viber 0001"),
    "webhook-url": v1_sms(DEFAULT, "SMS with webhook_url"),  # webhook_url is added when sending
    # Sent last: once their read webhooks arrived, every other message's reports (if any) were sent
    # earlier, as each report is due a fixed time after its message was accepted.
    "messenger-control": v1_messenger(DEFAULT, "Messenger control"),
    "viber-control": v1_viber(DEFAULT, "Viber control"),
}


@pytest.fixture(scope="module")
def sent(stack: RunningStack) -> dict[str, str]:
    """Every case sent at once, one request after the other: message uuids by case name."""
    webhook_url = sink_base_url(stack) + WEBHOOK_URL_PATH
    message_uuids = {}
    for name, case in CASES.items():
        body = case.body | {"webhook_url": webhook_url} if name == "webhook-url" else case.body
        message_uuids[name] = post_message(stack, SendRequest(case.path, body))
    return message_uuids


def wait_for_the_controls(stack: RunningStack, sent: dict[str, str]) -> None:
    for name in ("messenger-control", "viber-control"):
        wait_for_status(stack, sent[name], "read")


# -- checks ---------------------------------------------------------------------------------------


def flat(endpoint: dict[str, str]) -> str:
    return endpoint.get("id") or endpoint["number"]


def is_v1(record: Record) -> bool:
    return isinstance(record["body"].get("to"), str)


def assert_status_body(
    record: Record,
    message_uuid: str,
    to: dict[str, str],
    sender: dict[str, str],
    status: str,
    *,
    error_code: int | None = None,
    client_ref: str | None = None,
    v1: bool = False,
) -> None:
    """protocols.md 3.3: message_uuid, to, from, timestamp, status, error when failed, client_ref when sent.

    ``v1``: the message was sent through the v1 API (and nobody chose a webhook version), so the body
    has the v1 shape (protocols.md 9): flat addresses, ``channel``, the v1 error, SMS extras once submitted.
    """
    body = record["body"]
    channel = to["type"]
    expected_keys = {"message_uuid", "to", "from", "timestamp", "status"}
    expected_keys |= {"error"} if error_code is not None else set()
    expected_keys |= {"client_ref"} if client_ref is not None else set()
    if v1:
        expected_keys.add("channel")
        if channel == "sms" and status != "rejected":
            expected_keys |= {"sms", "destination"}
        to, sender = flat(to), flat(sender)
    assert is_v1(record) is v1, body
    assert set(body) == expected_keys, body
    assert schema_errors("v1" if v1 else "v0.1", "status", channel, body) == [], body
    assert (body["message_uuid"], body["to"], body["from"], body["status"]) == (message_uuid, to, sender, status)
    assert ISO_8601_MS_Z.fullmatch(body["timestamp"]), body["timestamp"]
    if error_code is not None and v1:
        assert body["error"]["title"] == str(error_code)
        assert isinstance(body["error"]["detail"], str) and body["error"]["detail"]
    elif error_code is not None:
        assert body["error"]["code"] == error_code
        assert isinstance(body["error"]["reason"], str) and body["error"]["reason"]
    if client_ref is not None:
        assert body["client_ref"] == client_ref
    assert record["method"] == "POST"
    assert record["path"] == STATUS_PATH


def assert_all_signed(stack: RunningStack, records: list[Record]) -> None:
    for record in records:
        assert_signed_for_the_demo_account(stack, record)


def wait_for_exactly(stack: RunningStack, message_uuid: str, expected: list[str]) -> list[Record]:
    """The message's status webhooks once there are as many as ``expected``; they must be exactly those."""
    records = wait_for_statuses(stack, message_uuid, len(expected))
    assert statuses(records) == expected, records
    return records


def attempts_by_webhook(view: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    attempts: dict[str, list[dict[str, Any]]] = {}
    for attempt in view["webhook_attempts"]:
        attempts.setdefault(attempt["webhook"], []).append(attempt)
    return attempts


# -- the default recipient -------------------------------------------------------------------------


def test_the_seeds_sms_to_the_default_recipient_is_submitted_then_delivered(
    stack: RunningStack, sent: dict[str, str]
) -> None:
    case, message_uuid = CASES["seed-sms"], sent["seed-sms"]

    records = wait_for_exactly(stack, message_uuid, ["submitted", "delivered"])

    assert_all_signed(stack, records)
    for record, status in zip(records, ["submitted", "delivered"]):
        assert_status_body(record, message_uuid, case.to, case.sender, status, v1=case.path == V1)
    # The SMS API has no read receipts: the simulator's only report was the DLR, answered 200 at once.
    reports = provider_reports_to(stack, case.recipient)
    assert [(r["report"], r["path"], r["response_status"]) for r in reports] == [
        ("delivered", "/webhooks/sms/dlr", 200)
    ]
    assert reports[0]["body"]["client-ref"] == message_uuid
    view = lookup(stack, message_uuid)
    assert view["status"] == "delivered"
    assert history_statuses(view) == ["accepted", "sending", "submitted", "delivered"]


def test_the_lookup_shows_the_history_and_every_webhook_attempt(stack: RunningStack, sent: dict[str, str]) -> None:
    message_uuid = sent["lookup-sms"]
    wait_for_exactly(stack, message_uuid, ["submitted", "delivered"])

    def both_attempts_recorded() -> dict[str, Any] | None:
        view = lookup(stack, message_uuid)
        return view if {"status:submitted", "status:delivered"} <= set(attempts_by_webhook(view)) else None

    view = stack.wait_for(both_attempts_recorded, timeout=30, interval=0.2, what="both webhook attempts in the lookup")

    assert history_statuses(view) == ["accepted", "sending", "submitted", "delivered"]
    assert all(ISO_8601_MS_Z.fullmatch(entry["timestamp"]) for entry in view["history"])
    for name, attempts in attempts_by_webhook(view).items():
        assert len(attempts) == 1, (name, attempts)
        assert (attempts[0]["kind"], attempts[0]["attempt"], attempts[0]["outcome"]) == ("status", 1, "delivered")
        assert attempts[0]["http_status"] == 200
        assert ISO_8601_MS_Z.fullmatch(attempts[0]["at"])


@pytest.mark.parametrize("name", ["messenger", "viber"])
def test_messenger_and_viber_messages_are_submitted_delivered_then_read(
    stack: RunningStack, sent: dict[str, str], name: str
) -> None:
    case, message_uuid = CASES[name], sent[name]
    expected = ["submitted", "delivered", "read"]

    records = wait_for_exactly(stack, message_uuid, expected)

    assert_all_signed(stack, records)
    for record, status in zip(records, expected):
        assert_status_body(
            record, message_uuid, case.to, case.sender, status, client_ref=case.client_ref, v1=case.path == V1
        )
    assert lookup(stack, message_uuid)["status"] == "read"
    assert [r["report"] for r in provider_reports_to(stack, case.recipient)] == ["delivered", "read"]


# -- the other scenarios ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["messenger-0004", "viber-0004"])
def test_0004_is_delivered_and_never_read(stack: RunningStack, sent: dict[str, str], name: str) -> None:
    case, message_uuid = CASES[name], sent[name]
    records = wait_for_exactly(stack, message_uuid, ["submitted", "delivered"])
    assert_all_signed(stack, records)

    wait_for_the_controls(stack, sent)

    view = lookup(stack, message_uuid)
    assert view["status"] == "delivered"
    assert "read" not in history_statuses(view)
    assert [r["report"] for r in provider_reports_to(stack, case.recipient)] == ["delivered"]
    assert statuses(webhooks_for(stack, message_uuid)) == ["submitted", "delivered"]


@pytest.mark.parametrize(("name", "code"), [("sms-0002", SMS_FAILED_CODE), ("viber-0002", VIBER_EXPIRED_CODE)])
def test_0002_ends_undeliverable_with_an_error(stack: RunningStack, sent: dict[str, str], name: str, code: int) -> None:
    case, message_uuid = CASES[name], sent[name]

    submitted, undeliverable = wait_for_exactly(stack, message_uuid, ["submitted", "undeliverable"])

    assert_all_signed(stack, [submitted, undeliverable])
    v1 = case.path == V1
    assert_status_body(submitted, message_uuid, case.to, case.sender, "submitted", client_ref=case.client_ref, v1=v1)
    assert_status_body(
        undeliverable, message_uuid, case.to, case.sender, "undeliverable", error_code=code, client_ref=case.client_ref,
        v1=v1,
    )
    view = lookup(stack, message_uuid)
    assert view["status"] == "undeliverable"
    error = undeliverable["body"]["error"]
    assert (str(view["error"]["code"]), view["error"]["reason"]) == (error["title"], error["detail"]) if v1 else (
        view["error"] == error
    )
    assert history_statuses(view)[-1] == "undeliverable"
    (report,) = provider_reports_to(stack, case.recipient)
    assert report["report"] == "failed"
    if name.startswith("sms"):
        assert (report["body"]["status"], report["body"]["err-code"]) == ("failed", "2")
    else:
        assert report["body"]["message_status"] == 2


@pytest.mark.parametrize("name", ["sms-0003", "viber-0003", "messenger-0003", "messenger-0002"])
def test_no_report_leaves_only_the_submitted_webhook(stack: RunningStack, sent: dict[str, str], name: str) -> None:
    case, message_uuid = CASES[name], sent[name]
    records = wait_for_exactly(stack, message_uuid, ["submitted"])
    assert_all_signed(stack, records)

    wait_for_the_controls(stack, sent)

    assert lookup(stack, message_uuid)["status"] == "submitted"
    assert provider_reports_to(stack, case.recipient) == []
    assert statuses(webhooks_for(stack, message_uuid)) == ["submitted"]


@pytest.mark.parametrize("channel", ["sms", "messenger", "viber"])
def test_0001_is_one_rejected_webhook_with_the_providers_error(
    stack: RunningStack, sent: dict[str, str], channel: str
) -> None:
    name = f"{channel}-0001"
    case, message_uuid, code = CASES[name], sent[name], REJECTED_CODES[channel]

    (rejected,) = wait_for_exactly(stack, message_uuid, ["rejected"])

    assert_signed_for_the_demo_account(stack, rejected)
    assert_status_body(rejected, message_uuid, case.to, case.sender, "rejected", error_code=code, v1=case.path == V1)
    view = lookup(stack, message_uuid, "v0.1")
    assert (view["status"], view["error"]["code"]) == ("rejected", code)
    assert provider_reports_to(stack, case.recipient) == []


# -- a per-message webhook URL ---------------------------------------------------------------------


def test_a_v1_webhook_url_gets_that_messages_status_webhooks(stack: RunningStack, sent: dict[str, str]) -> None:
    case, message_uuid = CASES["webhook-url"], sent["webhook-url"]

    records = wait_for_statuses(stack, message_uuid, 2, path=WEBHOOK_URL_PATH)

    assert statuses(records) == ["submitted", "delivered"]
    assert_all_signed(stack, records)
    for record, status in zip(records, ["submitted", "delivered"]):
        assert record["path"] == WEBHOOK_URL_PATH
        assert record["body"]["status"] == status
        assert (record["body"]["to"], record["body"]["from"]) == (flat(case.to), flat(case.sender))  # v1 shape
    assert webhooks_for(stack, message_uuid, STATUS_PATH) == []
    assert lookup(stack, message_uuid)["webhook_url"] == sink_base_url(stack) + WEBHOOK_URL_PATH
