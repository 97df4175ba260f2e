"""The doctor's checks that the local stack cannot show: a deployed stack's alarm topic, Viber's
secret, and the connection test of a public webhook host (the integration tests cover the rest)."""
from __future__ import annotations

from typing import Any

import pytest

from switchboard import cli_doctor
from switchboard.doctor_checks import (
    FAIL,
    NOT_APPLICABLE,
    PASS,
    DoctorStack,
    LinkedSender,
    WebhookOwner,
    alarm_topic,
    channels_secret,
    provider_webhooks,
    webhook_urls,
)

TOPIC = "arn:aws:sns:eu-west-1:123456789012:switchboard-alarms"


class FakeSns:
    def __init__(self, confirmed: int | None) -> None:
        self.confirmed = confirmed

    def get_topic_attributes(self, TopicArn: str) -> dict[str, Any]:  # noqa: N803 - boto3's name
        if self.confirmed is None:
            raise RuntimeError(f"Topic does not exist: {TopicArn}")
        return {"Attributes": {"TopicArn": TopicArn, "SubscriptionsConfirmed": str(self.confirmed)}}


def deployed(**changes: Any) -> DoctorStack:
    fields: dict[str, Any] = dict(
        description="stack test", api_https_url="https://api.example.com", tls_verify=True, channels={},
        links=[], webhook_owners=[], allowed_private_webhook_hosts=(), dead_letter_queues={}, sqs=None,
        alarm_topic_arn=TOPIC, sns=FakeSns(1),
    )
    fields.update(changes)
    return DoctorStack(**fields)


def test_the_alarm_topic_check_is_not_applicable_locally() -> None:
    assert alarm_topic(deployed(alarm_topic_arn=None)).status == NOT_APPLICABLE


@pytest.mark.parametrize(
    ("arn", "sns", "expected", "fix_says"),
    [
        ("", FakeSns(1), FAIL, "AlarmTopicArn=<SNS topic ARN>"),
        (TOPIC, FakeSns(None), FAIL, "AlarmTopicArn=<SNS topic ARN>"),
        (TOPIC, FakeSns(0), FAIL, "subscribe an address to the topic"),
        (TOPIC, FakeSns(2), PASS, None),
    ],
)
def test_a_deployed_stack_needs_an_alarm_topic_with_a_confirmed_subscription(
    arn: str, sns: FakeSns, expected: str, fix_says: str | None
) -> None:
    check = alarm_topic(deployed(alarm_topic_arn=arn, sns=sns))

    assert check.status == expected
    if fix_says:
        assert fix_says in check.fixes[0]


def test_a_linked_viber_service_needs_its_service_id_and_callback_secret() -> None:
    links = [LinkedSender("viber_service_msg", "16273", "acct1")]
    missing = channels_secret(deployed(links=links, channels={"viber": {"service_ids": [], "callback_secret": ""}}))
    filled = channels_secret(deployed(links=links, channels={"viber": {"service_ids": [16273], "callback_secret": "s"}}))

    assert missing.status == FAIL
    assert [fix.split(":")[0] for fix in missing.fixes] == [
        "viber service 16273 (linked to account acct1) is not in viber.service_ids",
        "viber.callback_secret is empty",
    ]
    assert filled.status == PASS


def test_channels_without_a_link_are_not_checked() -> None:
    check = channels_secret(deployed(channels={"sms": {"signature_secret": ""}}))

    assert check.status == NOT_APPLICABLE


def test_a_public_webhook_host_is_connected_to_at_its_checked_address_only() -> None:
    connected: list[tuple[str, int]] = []

    def connect(host: str, port: int, timeout: float) -> None:
        connected.append((host, port))

    owners = [WebhookOwner("application", "app-1", {"inbound_url": "https://hooks.example.com/in"})]
    check = webhook_urls(deployed(webhook_owners=owners, connect=connect))

    assert check.status == PASS
    assert connected == [("93.184.215.14", 443)]  # tests/conftest.py's public answer for example.com


def test_a_deployed_stack_refuses_a_private_webhook_url_without_connecting() -> None:
    connected: list[tuple[str, int]] = []
    owners = [WebhookOwner("account", "acct1", {"status_url": "http://10.0.0.5/status"})]

    check = webhook_urls(deployed(webhook_owners=owners, connect=lambda *args: connected.append(args)))

    assert check.status == FAIL
    assert check.fixes[0].startswith("account acct1 status_url http://10.0.0.5/status: refused by the SSRF guard")
    assert "ask the account owner for a public http(s) URL" in check.fixes[0]
    assert connected == []


def test_the_text_report_lists_each_fix_under_its_check() -> None:
    checks = [alarm_topic(deployed(alarm_topic_arn="")), alarm_topic(deployed(alarm_topic_arn=None))]

    text = cli_doctor.render("stack test", checks)

    assert text.splitlines() == [
        "switchboard doctor: stack test",
        "  FAIL  alarm_topic  AlarmTopicArn is empty: alarms notify nobody",
        "        fix: deploy with --parameter-overrides AlarmTopicArn=<SNS topic ARN> and subscribe someone to the topic",
        "  n/a   alarm_topic  the local stack has no alarms",
        "1 check(s) failed",
    ]


def test_a_linked_whatsapp_number_needs_its_number_entry_and_the_app_secret() -> None:
    links = [LinkedSender("whatsapp", "447700900100", "acct1")]
    missing = channels_secret(deployed(links=links, channels={"whatsapp": {"numbers": {"447700900100": {
        "phone_number_id": "1061"}}, "app_secret": ""}}))
    filled = channels_secret(deployed(links=links, channels={"whatsapp": {"numbers": {"447700900100": {
        "phone_number_id": "1061", "access_token": "EAAG"}}, "app_secret": "s"}}))

    assert missing.status == FAIL
    assert [fix.split(":")[0] for fix in missing.fixes] == [
        "whatsapp number 447700900100 (linked to account acct1) has no access_token",
        "whatsapp.app_secret is empty",
    ]
    assert filled.status == PASS


class HandshakeRoute:
    """Our /webhooks/whatsapp as Meta calls it: the challenge back only for the right token."""

    def __init__(self, verify_token: str) -> None:
        self.verify_token = verify_token
        self.urls: list[str] = []

    def get(self, url: str, params: dict[str, str], **_: Any) -> Any:
        self.urls.append(url)
        ok = params["hub.verify_token"] == self.verify_token
        return type("Answer", (), {"status_code": 200 if ok else 403, "text": params["hub.challenge"] if ok else ""})


def test_a_linked_whatsapp_number_needs_the_verify_handshake_to_answer() -> None:
    links = [LinkedSender("whatsapp", "447700900100", "acct1")]
    route = HandshakeRoute("the-functions-token")

    agreeing = provider_webhooks(deployed(links=links, http=route, channels={"whatsapp": {
        "verify_token": "the-functions-token"}}))
    stale = provider_webhooks(deployed(links=links, http=route, channels={"whatsapp": {"verify_token": "old"}}))
    empty = provider_webhooks(deployed(links=links, http=route, channels={"whatsapp": {}}))

    assert agreeing.status == PASS and agreeing.summary == "WhatsApp verify handshake answered"
    assert route.urls[0] == "https://api.example.com/webhooks/whatsapp"
    assert stale.status == FAIL and "answered 403 without the challenge" in stale.fixes[0]
    assert empty.status == FAIL and empty.fixes[0].startswith("whatsapp.verify_token is empty")
