"""The workflow hook in status notifications, the event bodies, the WorkflowFunction handler and the report kind."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard import clock
from tests.support.stores import Notifications
from switchboard.domain.notification import Notification, status_body
from tests.support.stores import WorkflowEventsQueue
from switchboard.domain.workflow_events import StatusEvent, TimerEvent, parse_event, timer_delay
from tests.support.lambdas import FakeLambdaContext, load_handler_module

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_790_000_000.0
WORKFLOW_UUID = "d1f0c8a2-3b4e-4c5d-8e9f-0a1b2c3d4e5f"


def step_record(api_version: str = "v0.1") -> dict[str, Any]:
    return {
        "message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "to": {"type": "sms", "number": "447700900000"},
        "from": {"type": "sms", "number": "447700900001"},
        "api_version": api_version,
        "api_key": "abcd1234",
        "workflow_uuid": WORKFLOW_UUID,
        "workflow_step": 1,
    }


def drain(aws: Any, env_name: str) -> list[dict]:
    sqs, url = aws.client("sqs"), aws.env[env_name]
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    return [json.loads(m["Body"]) for m in out]


@pytest.mark.parametrize(
    "api_version,link",
    [
        ("beta", {"workflow_uuid": WORKFLOW_UUID, "href": f"/beta/workflows/{WORKFLOW_UUID}"}),
        ("v0.1", {"dispatch_uuid": WORKFLOW_UUID, "href": f"/v0.1/dispatch/{WORKFLOW_UUID}"}),
        ("v1", {"workflow_id": WORKFLOW_UUID, "href": f"/v1/workflows/{WORKFLOW_UUID}"}),
    ],
)
def test_step_status_webhooks_link_their_workflow(api_version: str, link: dict) -> None:
    body = status_body(step_record(api_version), "delivered", "2026-01-01T00:00:00.000Z")
    assert body["_links"] == {"workflow": link}


def test_plain_messages_have_no_workflow_link() -> None:
    record = {k: v for k, v in step_record().items() if not k.startswith("workflow")}
    assert "_links" not in status_body(record, "delivered", "2026-01-01T00:00:00.000Z")


def test_a_step_status_change_tells_the_engine_then_queues_the_webhook(aws: Any) -> None:
    Notifications().status_changed(step_record(), "delivered", "2026-01-01T00:00:00.000Z")
    assert drain(aws, "WORKFLOW_EVENTS_QUEUE_URL") == [
        {"kind": "status", "workflow_uuid": WORKFLOW_UUID, "step": 1,
         "message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "status": "delivered"}
    ]
    [webhook] = drain(aws, "NOTIFY_QUEUE_URL")
    assert webhook["body"]["_links"]["workflow"]["dispatch_uuid"] == WORKFLOW_UUID


def test_no_webhook_is_queued_when_the_engine_could_not_be_told(aws: Any) -> None:
    class Down:
        def status_changed(self, record: dict, state: str) -> None:
            raise RuntimeError("sqs down")

    with pytest.raises(RuntimeError):
        Notifications(workflow_events=Down()).status_changed(step_record(), "delivered", "2026-01-01T00:00:00.000Z")
    # The outbox keeps the change pending; its replay tells the engine (again, harmlessly) and then the customer.
    assert drain(aws, "NOTIFY_QUEUE_URL") == []


def test_plain_messages_never_touch_the_workflow_queue(aws: Any) -> None:
    record = {k: v for k, v in step_record().items() if not k.startswith("workflow")}
    Notifications().status_changed(record, "delivered", "2026-01-01T00:00:00.000Z")
    assert drain(aws, "WORKFLOW_EVENTS_QUEUE_URL") == []


def test_timers_are_delayed_by_at_most_900_seconds(aws: Any) -> None:
    clock.set_clock(lambda: T0)
    try:
        queue = WorkflowEventsQueue()
        assert queue.arm_timer(WORKFLOW_UUID, 0, int(T0) + 86400) == 900
        assert queue.arm_timer(WORKFLOW_UUID, 0, int(T0) + 15) == 15
        assert queue.arm_timer(WORKFLOW_UUID, 0, int(T0) - 5) == 0
    finally:
        clock.set_clock(None)
    assert timer_delay(T0 + 0.2, T0) == 1  # never early: rounded up


@pytest.mark.parametrize(
    "raw",
    [None, "", "[]", "{}", '{"kind":"status","workflow_uuid":"w","step":-1,"message_uuid":"m","status":"read"}',
     '{"kind":"timer","workflow_uuid":"w","step":true,"due_at":1}', '{"kind":"timer","workflow_uuid":"w","step":0}',
     '{"kind":"other","workflow_uuid":"w","step":0}'],
)
def test_bodies_that_are_not_events_are_refused(raw: str | None) -> None:
    assert parse_event(raw) is None


def test_event_bodies_round_trip() -> None:
    for event in (StatusEvent(WORKFLOW_UUID, 2, "m", "read"), TimerEvent(WORKFLOW_UUID, 0, 1790000600)):
        assert parse_event(event.to_json()) == event


def test_the_final_report_is_a_notification_the_notifier_accepts() -> None:
    note = Notification(
        kind="workflow", message_uuid=WORKFLOW_UUID, notification="workflow:completed",
        body={"workflow_uuid": WORKFLOW_UUID, "status": "completed"}, target={"api_key": "abcd1234", "url_kind": "status"},
        attempt=1, first_attempt_at=T0,
    )
    assert Notification.from_json(note.to_json()) == note
    assert note.status is None


@pytest.fixture
def fresh_wiring() -> Iterator[None]:
    """The WorkflowFunction's services built from this test's environment (moto), and forgotten after."""
    from switchboard.composition import workflow_function

    workflow_function.settings.cache_clear()
    workflow_function.services.cache_clear()
    yield
    workflow_function.settings.cache_clear()
    workflow_function.services.cache_clear()


@pytest.mark.usefixtures("fresh_wiring")
def test_the_function_handles_the_sample_event_and_reports_failures(aws: Any) -> None:
    module = load_handler_module("workflows")
    event = json.loads((ROOT / "events" / "workflows_events_batch.json").read_text())
    event["Records"].append({**event["Records"][0], "messageId": "not-an-event", "body": "nonsense"})
    # Unknown workflow: both events are acknowledged, as is the body that is no event.
    assert module.handler(event, FakeLambdaContext(function_name="WorkflowFunction")) == {"batchItemFailures": []}


@pytest.mark.usefixtures("fresh_wiring")
def test_a_failing_event_is_a_batch_item_failure(aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.workflows import engine as engine_module

    def broken(self: Any, event: Any) -> None:
        raise RuntimeError("dynamodb down")

    monkeypatch.setattr(engine_module.WorkflowEngine, "handle", broken)
    module = load_handler_module("workflows")
    event = json.loads((ROOT / "events" / "workflows_events_batch.json").read_text())
    result = module.handler(event, FakeLambdaContext(function_name="WorkflowFunction"))
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == sorted(
        r["messageId"] for r in event["Records"]
    )
