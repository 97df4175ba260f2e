"""The composition modules: settings checked once and fail fast; the real wiring runs a batch end to end."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from switchboard.composition import notifier_function, sender_function, workflow_function
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage, Principal
from switchboard.settings import SettingsError
from tests.support.stores import MessagesTable
from tests.support.lambdas import FakeLambdaContext
from tests.support.settings import complete_environment

COMPOSITIONS = (sender_function, notifier_function, workflow_function)


@pytest.fixture(autouse=True)
def fresh_wiring() -> Iterator[None]:
    """Each test builds the functions' settings and services from its own environment."""
    for module in COMPOSITIONS:
        module.settings.cache_clear()
        module.services.cache_clear()
    yield
    for module in COMPOSITIONS:
        module.settings.cache_clear()
        module.services.cache_clear()


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"sqs-{i}",
                "receiptHandle": f"receipt-{i}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1790000000000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:Queue",
                "awsRegion": "us-east-1",
            }
            for i, body in enumerate(bodies)
        ]
    }


@pytest.mark.parametrize(
    "module,missing,message",
    [
        (sender_function, ("OUTBOUND_QUEUE_URL", "NOTIFY_QUEUE_URL"), "SenderFunction: missing OUTBOUND_QUEUE_URL, NOTIFY_QUEUE_URL"),
        (notifier_function, ("NOTIFY_DLQ_URL",), "NotifierFunction: missing NOTIFY_DLQ_URL"),
        (workflow_function, ("WORKFLOW_EVENTS_QUEUE_URL",), "WorkflowFunction: missing WORKFLOW_EVENTS_QUEUE_URL"),
    ],
)
def test_a_function_without_its_queue_urls_fails_its_first_invocation_naming_them(
    monkeypatch: pytest.MonkeyPatch, module: Any, missing: tuple[str, ...], message: str
) -> None:
    for name, value in complete_environment().items():
        monkeypatch.setenv(name, value)
    for name in missing:
        monkeypatch.setenv(name, "")

    with pytest.raises(SettingsError) as refused:
        module.handle(sqs_event(), FakeLambdaContext())

    assert str(refused.value) == message


def test_a_malformed_number_is_named_with_the_missing_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in complete_environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SENDER_CONCURRENCY", "ten")
    monkeypatch.delenv("CONTACTS_TABLE")

    with pytest.raises(SettingsError, match=r"SenderFunction: missing CONTACTS_TABLE; SENDER_CONCURRENCY='ten' is not an integer"):
        sender_function.settings()


def test_the_sender_wiring_sends_through_the_real_adapters_and_queues_the_webhook(aws: Any, now: Any) -> None:
    message = OutboundMessage(
        channel=Channel.MESSENGER,
        sender=Endpoint(type="messenger", id="page-not-configured"),
        recipient=Endpoint(type="messenger", id="psid-1"),
        content=Content(type="text", text="hello"),
        api_version=ApiVersion.V0_1,
    )
    MessagesTable().create("m-1", message, Principal(api_key="abcd1234"))

    response = sender_function.handle(
        sqs_event(json.dumps({"message_uuid": "m-1"}), "not ours"), FakeLambdaContext(function_name="SenderFunction")
    )

    assert response == {"batchItemFailures": []}
    saved = MessagesTable().get("m-1")
    assert saved is not None and saved["status"] == "rejected"
    assert saved["error"]["code"] == 1120  # the Messenger adapter: page not configured in the channels secret
    sqs = aws.client("sqs")
    queued = sqs.receive_message(QueueUrl=aws.env["NOTIFY_QUEUE_URL"], MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"])["notification"] for m in queued] == ["status:rejected"]


def test_the_notifier_wiring_drops_a_webhook_with_no_account(aws: Any, now: Any) -> None:
    body = {"kind": "status", "message_uuid": "m-1", "notification": "status:submitted", "body": {"status": "submitted"},
            "target": {"api_key": "nobody00", "url_kind": "status"}, "attempt": 1, "first_attempt_at": 1790000000.0}

    context = FakeLambdaContext(function_name="NotifierFunction", remaining_ms=30_000)  # a fresh invocation
    response = notifier_function.handle(sqs_event(json.dumps(body)), context)

    assert response == {"batchItemFailures": []}
    sqs = aws.client("sqs")
    for url in (aws.env["NOTIFY_QUEUE_URL"], aws.env["NOTIFY_DLQ_URL"]):  # dropped: neither retried nor parked
        assert sqs.receive_message(QueueUrl=url).get("Messages", []) == []
