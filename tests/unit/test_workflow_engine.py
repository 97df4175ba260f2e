"""The failover engine on moto with an injected clock: outcomes, timers, and every race made deterministic.

Events the engine would receive from the WorkflowEventsQueue are captured by ``CapturedEvents`` and
handed to the engine in whatever order (and as often as) a test needs: that is how "a receipt and
the timer together", duplicates and redeliveries are driven without threads or sleeps.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from switchboard import clock
from switchboard.domain import status
from switchboard.domain.message import ApiVersion
from tests.support.stores import Notifications
from switchboard.domain.notification import Notification
from switchboard.notifier.outbox import Outbox
from switchboard.receipts.status_machine import ALLOWED_FROM
from tests.support.stores import MessagesTable
from switchboard.domain.message_record import StatusWriteOutcome
from switchboard.domain.outbox_markers import status_notification
from tests.support.stores import WorkflowStore
from switchboard.domain.workflow_events import StatusEvent, TimerEvent, timer_delay
from switchboard.workflows.engine import WorkflowEngine
from switchboard.workflows.launcher import StepLauncher
from switchboard.workflows.report import Reports
from switchboard.workflows.workflow_requests import parse_v1_failover, parse_workflow
from tests.support.api_client import Api
from tests.support.request_bodies import MESSENGER_STEP, SMS_STEP, V1_FAILOVER

T0 = 1_790_000_000.0


class CapturedEvents:
    """Stands in for the WorkflowEventsQueue: keeps what would be sent, with each timer's delay."""

    def __init__(self) -> None:
        self.events: list[StatusEvent | TimerEvent] = []
        self.delays: list[int] = []

    def status_changed(self, record: dict[str, Any], state: str) -> None:
        self.events.append(
            StatusEvent(record["workflow_uuid"], int(record["workflow_step"]), record["message_uuid"], state)
        )

    def arm_timer(self, workflow_uuid: str, step: int, due_at: int) -> int:
        delay = timer_delay(due_at, clock.now())
        self.events.append(TimerEvent(workflow_uuid, step, due_at))
        self.delays.append(delay)
        return delay

    def take(self, kind: type | None = None) -> list[Any]:
        taken = [e for e in self.events if kind is None or isinstance(e, kind)]
        self.events = [e for e in self.events if e not in taken]
        return taken


class Harness:
    def __init__(self, api: Api, now: list[float]) -> None:
        from switchboard.api.workflow_starter import WorkflowStarter
        from tests.support.stores import NotifyQueue as NotifyQueues
        from tests.support.stores import OutboundQueue
        from tests.support.wiring import api_services

        self.api, self.now = api, now
        self.events = CapturedEvents()
        self.messages = MessagesTable()
        self.workflows = WorkflowStore()
        self.outbound = OutboundQueue()
        self.launcher = StepLauncher(self.messages, self.messages.tag_workflow_step, self.events, self.outbound)
        self.engine = WorkflowEngine(
            store=self.workflows,
            messages=self.messages,
            launcher=self.launcher,
            timers=self.events,
            reports=Reports(self.messages, NotifyQueues()),
        )
        wired = api_services()
        self.starter = WorkflowStarter(
            wired.acceptor, self.workflows, self.messages, self.launcher, wired.settings.retention_seconds
        )
        self.outbox = Outbox(self.messages, Notifications(workflow_events=self.events))

    # -------------------------------------------------------------- starting

    def start(self, steps: list[dict], version: ApiVersion = ApiVersion.V0_1) -> dict:
        parsed = parse_workflow({"template": "failover", "workflow": steps}, version)
        out = self.starter.start(parsed, version, self.api_principal())
        return self.workflow(next(iter(out.values())))

    def start_v1(self, body: dict) -> dict:
        parsed = parse_v1_failover(body)
        out = self.starter.start(parsed, ApiVersion.V1, self.api_principal())
        return self.workflow(out["workflow_id"])

    def api_principal(self) -> Any:
        from switchboard.domain.message import Principal

        return Principal(api_key=self.api.account["api_key"])

    def workflow(self, workflow_uuid: str) -> dict:
        record = self.workflows.get(workflow_uuid)
        assert record is not None
        return record

    # -------------------------------------------------------------- the pipeline around the engine

    def submit(self, message_uuid: str) -> None:
        """What the sender does on a successful provider call."""
        self.messages.claim(message_uuid, "token", int(self.now[0]) + 60)
        record = self.messages.mark_submitted(message_uuid, "token", "pid-" + message_uuid, "ref-" + message_uuid)
        self.outbox.publish(record, status_notification(status.SUBMITTED))

    def reject_at_send(self, message_uuid: str) -> None:
        self.messages.claim(message_uuid, "token", int(self.now[0]) + 60)
        record = self.messages.mark_rejected(message_uuid, "token", {"code": 1020, "reason": "Invalid params"})
        self.outbox.publish(record, status_notification(status.REJECTED))

    def receipt(self, message_uuid: str, state: str) -> None:
        """What the provider-webhook handler does with a receipt (StatusService)."""
        err = {"code": 1300, "reason": "Not part of the provider network"} if state == status.UNDELIVERABLE else None
        write = self.messages.apply_status(message_uuid, state, ALLOWED_FROM[state], self.now[0], err)
        if write.outcome is StatusWriteOutcome.APPLIED:
            self.outbox.publish(write.record, status_notification(state))

    def handle(self, *events: Any) -> None:
        for event in events:
            self.engine.handle(event)

    def run_status_events(self) -> None:
        self.handle(*self.events.take(StatusEvent))

    def step_uuid(self, workflow: dict, step: int) -> str:
        return str(workflow["steps"][step]["message_uuid"])

    # -------------------------------------------------------------- queues

    def sent(self) -> list[str]:
        return [m["message_uuid"] for m in self.api.queued()]

    def notifications(self) -> list[Notification]:
        sqs = self.api.aws.client("sqs")
        url = self.api.aws.env["NOTIFY_QUEUE_URL"]
        out: list[Notification] = []
        while True:
            batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
            if not batch:
                return out
            for message in batch:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
                note = Notification.from_json(message["Body"])
                assert note is not None
                out.append(note)

    def reports(self) -> list[dict]:
        return [n.body for n in self.notifications() if n.kind == "workflow"]


@pytest.fixture
def now() -> Any:
    current = [T0]
    clock.set_clock(lambda: current[0])
    yield current
    clock.set_clock(None)


@pytest.fixture
def h(aws: Any, tmp_path: Path, now: list[float]) -> Harness:
    return Harness(Api(aws, tmp_path), now)


def messenger(condition: str = "read", expiry: int = 600, to: str = "3523523523520000") -> dict:
    return {**MESSENGER_STEP, "to": {"type": "messenger", "id": to},
            "failover": {"expiry_time": expiry, "condition_status": condition}}


# ---------------------------------------------------------------------------- outcomes


def test_a_step_meeting_its_condition_completes_the_workflow_and_nothing_else_is_sent(h: Harness) -> None:
    workflow = h.start([messenger("read"), SMS_STEP])
    first = h.step_uuid(workflow, 0)
    assert h.sent() == [first]
    h.submit(first)
    h.receipt(first, status.DELIVERED)
    h.run_status_events()
    assert h.workflow(workflow["workflow_uuid"])["status"] == "in_progress"  # read is the condition
    h.receipt(first, status.READ)
    h.run_status_events()
    done = h.workflow(workflow["workflow_uuid"])
    assert done["status"] == "completed"
    assert done["outcome"] == {"status": "completed", "step": 0, "reason": "condition_met", "at": clock.iso(T0)}
    assert "report_until" not in done
    notes = h.notifications()
    webhooks = [n.body for n in notes if n.kind == "status"]
    assert [w["status"] for w in webhooks] == ["submitted", "delivered", "read"]
    for webhook in webhooks:
        assert webhook["_links"] == {
            "workflow": {"dispatch_uuid": workflow["workflow_uuid"], "href": f"/v0.1/dispatch/{workflow['workflow_uuid']}"}
        }
    [report] = [n for n in notes if n.kind == "workflow"]
    assert report.body == {
        "dispatch_uuid": workflow["workflow_uuid"],
        "template": "failover",
        "status": "completed",
        "timestamp": clock.iso(T0),
        "_links": {"messages": [
            {"message_uuid": first, "href": f"/v0.1/messages/{first}", "channel": "messenger", "status": "read"},
        ]},
    }
    assert report.target == {"api_key": h.api.account["api_key"], "url_kind": "status"}
    assert report.notification == "workflow:completed"
    # The timer fires later and does nothing: no SMS, ever.
    h.now[0] = T0 + 600
    h.handle(*h.events.take(TimerEvent))
    assert h.sent() == [] and h.reports() == []
    assert h.messages.get(h.step_uuid(workflow, 1)) is None


def test_delivered_condition_is_also_met_by_read(h: Harness) -> None:
    workflow = h.start([messenger("delivered"), SMS_STEP])
    first = h.step_uuid(workflow, 0)
    h.submit(first)
    h.receipt(first, status.READ)  # a watermark can report read without delivered first
    h.run_status_events()
    assert h.workflow(workflow["workflow_uuid"])["status"] == "completed"


def test_a_step_rejected_at_send_fails_over_at_once(h: Harness) -> None:
    workflow = h.start([messenger("read"), SMS_STEP], ApiVersion.BETA)
    first, second = h.step_uuid(workflow, 0), h.step_uuid(workflow, 1)
    h.sent()
    h.reject_at_send(first)
    h.run_status_events()
    moved = h.workflow(workflow["workflow_uuid"])
    assert moved["current_step"] == 1 and moved["status"] == "in_progress"
    assert h.sent() == [second]
    sms = h.messages.get(second)
    assert sms["workflow_uuid"] == workflow["workflow_uuid"] and sms["workflow_step"] == 1
    assert sms["status"] == "accepted" and sms["channel"] == "sms"
    assert [e.step for e in h.events.take(TimerEvent)] == [0]  # the last step has no timer
    h.submit(second)
    h.receipt(second, status.DELIVERED)
    h.run_status_events()
    done = h.workflow(workflow["workflow_uuid"])
    assert done["status"] == "completed"
    assert done["outcome"]["reason"] == "delivered" and done["outcome"]["step"] == 1
    [report] = h.reports()
    assert report["workflow_uuid"] == workflow["workflow_uuid"]
    assert [(m["channel"], m["status"]) for m in report["_links"]["messages"]] == [("messenger", "rejected"), ("sms", "delivered")]


def test_the_last_step_failing_ends_the_workflow_in_error(h: Harness) -> None:
    workflow = h.start([messenger("read"), SMS_STEP])
    first, second = h.step_uuid(workflow, 0), h.step_uuid(workflow, 1)
    h.reject_at_send(first)
    h.run_status_events()
    h.submit(second)
    h.receipt(second, status.UNDELIVERABLE)
    h.run_status_events()
    done = h.workflow(workflow["workflow_uuid"])
    assert done["status"] == "error"
    assert done["outcome"]["reason"] == "failed"
    [report] = h.reports()
    assert report["status"] == "error"
    assert [m["status"] for m in report["_links"]["messages"]] == ["rejected", "undeliverable"]


def test_expiry_without_the_condition_sends_the_next_step(h: Harness) -> None:
    workflow = h.start([messenger("read", expiry=15), SMS_STEP])
    first, second = h.step_uuid(workflow, 0), h.step_uuid(workflow, 1)
    h.sent()
    h.submit(first)
    h.receipt(first, status.DELIVERED)  # delivered, never read
    h.run_status_events()
    [timer] = h.events.take(TimerEvent)
    assert h.events.delays == [15]
    h.now[0] = T0 + 14.5  # a timer arriving a little early is re-armed for the rest
    h.handle(timer)
    assert h.sent() == []
    [rearmed] = h.events.take(TimerEvent)
    assert rearmed == timer and h.events.delays[-1] == 1
    h.now[0] = T0 + 15
    h.handle(rearmed)
    assert h.sent() == [second]
    moved = h.workflow(workflow["workflow_uuid"])
    assert moved["current_step"] == 1
    assert [e["event"] for e in moved["history"]][-2:] == ["expired", "step_started"]
    assert moved["history"][-2]["status"] == "delivered"


def test_a_four_step_chain_moves_one_step_at_a_time(h: Harness) -> None:
    workflow = h.start([messenger("delivered", 60), messenger("delivered", 60), messenger("delivered", 60), SMS_STEP])
    uuids = [h.step_uuid(workflow, i) for i in range(4)]
    for step in range(3):
        assert h.sent() == [uuids[step]]
        h.submit(uuids[step])
        h.run_status_events()
        h.now[0] += 60
        h.handle(*h.events.take(TimerEvent))
    assert h.sent() == [uuids[3]]
    assert h.workflow(workflow["workflow_uuid"])["current_step"] == 3


# ---------------------------------------------------------------------------- timers


def test_a_day_long_expiry_is_re_armed_in_hops_of_at_most_900_seconds(h: Harness) -> None:
    workflow = h.start([messenger("read", expiry=86400), SMS_STEP])
    h.sent()
    hops = 0
    while True:
        [timer] = h.events.take(TimerEvent)
        h.now[0] += h.events.delays[-1]
        h.handle(timer)
        hops += 1
        if h.workflow(workflow["workflow_uuid"])["current_step"] == 1:
            break
        assert hops < 200
    assert hops == 96  # 86400 / 900
    assert h.events.delays and all(0 < d <= 900 for d in h.events.delays)
    assert h.now[0] == T0 + 86400
    assert h.sent() == [h.step_uuid(workflow, 1)]


def test_a_timer_for_a_step_that_is_no_longer_current_does_nothing(h: Harness) -> None:
    workflow = h.start([messenger("read"), SMS_STEP])
    [timer] = h.events.take(TimerEvent)
    h.reject_at_send(h.step_uuid(workflow, 0))
    h.run_status_events()
    h.sent()
    before = h.workflow(workflow["workflow_uuid"])
    h.now[0] = T0 + 600
    h.handle(timer)
    assert h.workflow(workflow["workflow_uuid"]) == before
    assert h.events.take() == [] and h.sent() == []


def test_v1_steps_use_the_default_condition_and_expiry(h: Harness) -> None:
    workflow = h.start_v1(V1_FAILOVER)
    first, second = h.step_uuid(workflow, 0), h.step_uuid(workflow, 1)
    h.sent()
    h.submit(first)
    h.run_status_events()
    [timer] = h.events.take(TimerEvent)
    assert timer.due_at == int(T0) + 600
    h.now[0] = T0 + 600
    h.handle(timer)
    assert h.sent() == [second]
    h.submit(second)
    h.receipt(second, status.DELIVERED)
    h.run_status_events()
    [report] = h.reports()
    assert report["workflow_id"] == workflow["workflow_uuid"]
    assert report["_links"]["messages"][0]["href"] == f"/v1/messages/{first}"


# ---------------------------------------------------------------------------- races


def test_a_receipt_meeting_the_condition_and_the_timer_together_complete_once(h: Harness) -> None:
    """The timer reads the message before the receipt is applied, and writes after it: the receipt wins."""
    workflow = h.start([messenger("delivered", 15), SMS_STEP])
    first = h.step_uuid(workflow, 0)
    h.sent()
    h.submit(first)
    h.run_status_events()
    [timer] = h.events.take(TimerEvent)
    h.now[0] = T0 + 15
    stale = h.messages.get(first)
    real_get = h.engine.messages.get

    class ReceiptInBetween:
        def get(self, message_uuid: str) -> dict | None:
            h.receipt(first, status.DELIVERED)
            h.run_status_events()  # the receipt's event completes the workflow meanwhile
            return stale

    h.engine.messages = ReceiptInBetween()
    h.handle(timer)
    h.engine.messages = type("Reader", (), {"get": staticmethod(real_get)})()
    done = h.workflow(workflow["workflow_uuid"])
    assert done["status"] == "completed" and done["outcome"]["reason"] == "condition_met"
    assert h.sent() == []
    assert len(h.reports()) == 1


def test_the_timer_winning_over_a_receipt_sends_the_next_step_once(h: Harness) -> None:
    """The other order: the timer moves first; the receipt then only goes into the history."""
    workflow = h.start([messenger("delivered", 15), SMS_STEP])
    first, second = h.step_uuid(workflow, 0), h.step_uuid(workflow, 1)
    h.sent()
    h.submit(first)
    h.run_status_events()
    h.now[0] = T0 + 15
    h.handle(*h.events.take(TimerEvent))
    h.receipt(first, status.DELIVERED)
    h.run_status_events()
    moved = h.workflow(workflow["workflow_uuid"])
    assert moved["status"] == "in_progress" and moved["current_step"] == 1
    assert h.sent() == [second]
    assert moved["history"][-1]["effect"] == "none" and moved["history"][-1]["status"] == "delivered"
    assert h.reports() == []


def test_a_failure_receipt_and_the_timer_together_send_the_next_step_once(h: Harness) -> None:
    workflow = h.start([messenger("read", 15), SMS_STEP])
    first, second = h.step_uuid(workflow, 0), h.step_uuid(workflow, 1)
    h.sent()
    h.submit(first)
    h.run_status_events()
    h.receipt(first, status.UNDELIVERABLE)
    [failure] = h.events.take(StatusEvent)
    [timer] = h.events.take(TimerEvent)
    h.now[0] = T0 + 15
    h.handle(timer, failure, timer, failure)  # both, twice, in any order
    assert h.sent() == [second]
    moved = h.workflow(workflow["workflow_uuid"])
    assert moved["current_step"] == 1
    assert len([e for e in moved["history"] if e["event"] == "step_started"]) == 2  # step 0 and step 1


def test_a_duplicated_timer_sends_the_next_step_once(h: Harness) -> None:
    workflow = h.start([messenger("read", 15), SMS_STEP])
    h.sent()
    [timer] = h.events.take(TimerEvent)
    h.now[0] = T0 + 15
    h.handle(timer, timer)
    assert h.sent() == [h.step_uuid(workflow, 1)]
    assert h.workflow(workflow["workflow_uuid"])["current_step"] == 1


def test_a_duplicated_receipt_event_moves_once(h: Harness) -> None:
    workflow = h.start([messenger("read"), messenger("read"), SMS_STEP])
    h.sent()
    h.reject_at_send(h.step_uuid(workflow, 0))
    [rejected] = h.events.take(StatusEvent)
    h.handle(rejected, rejected, rejected)
    moved = h.workflow(workflow["workflow_uuid"])
    assert moved["current_step"] == 1  # not skipped to the last step
    assert h.sent() == [h.step_uuid(workflow, 1)]


def test_duplicated_completion_events_send_one_report(h: Harness) -> None:
    workflow = h.start([messenger("delivered"), SMS_STEP])
    first = h.step_uuid(workflow, 0)
    h.submit(first)
    h.receipt(first, status.DELIVERED)
    events = h.events.take(StatusEvent)
    h.handle(*events, *events)
    assert len(h.reports()) == 1


def test_a_late_receipt_for_an_earlier_step_is_recorded_and_notified_but_changes_nothing(h: Harness) -> None:
    workflow = h.start([messenger("read", 15), SMS_STEP])
    first, second = h.step_uuid(workflow, 0), h.step_uuid(workflow, 1)
    h.submit(first)
    h.run_status_events()
    h.now[0] = T0 + 15
    h.handle(*h.events.take(TimerEvent))
    assert h.workflow(workflow["workflow_uuid"])["current_step"] == 1
    h.notifications()
    h.receipt(first, status.READ)  # step 0 is read after the SMS went out
    h.run_status_events()
    [webhook] = h.notifications()
    assert webhook.kind == "status" and webhook.body["status"] == "read"
    assert webhook.body["message_uuid"] == first
    assert webhook.body["_links"]["workflow"]["dispatch_uuid"] == workflow["workflow_uuid"]
    after = h.workflow(workflow["workflow_uuid"])
    assert after["status"] == "in_progress" and after["current_step"] == 1
    assert after["history"][-1] == {
        "timestamp": clock.iso(T0 + 15), "event": "status", "step": 0, "message_uuid": first, "status": "read",
        "effect": "none", "note": "not the current step",
    }
    h.submit(second)
    h.receipt(second, status.DELIVERED)
    h.run_status_events()
    [report] = h.reports()
    assert [m["status"] for m in report["_links"]["messages"]] == ["read", "delivered"]


# ---------------------------------------------------------------------------- failures and redelivery


def test_a_next_step_that_could_not_be_queued_is_started_when_the_event_comes_back(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    workflow = h.start([messenger("read"), SMS_STEP])
    second = h.step_uuid(workflow, 1)
    h.sent()
    h.reject_at_send(h.step_uuid(workflow, 0))
    [rejected] = h.events.take(StatusEvent)
    real_enqueue = h.outbound.enqueue
    monkeypatch.setattr(h.outbound, "enqueue", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("sqs down")))
    with pytest.raises(RuntimeError):
        h.handle(rejected)
    assert h.sent() == []
    pending = h.workflow(workflow["workflow_uuid"])
    assert pending["current_step"] == 1 and pending["launch_step"] == 1
    monkeypatch.setattr(h.outbound, "enqueue", real_enqueue)
    h.now[0] = T0 + 30  # redelivered while the lease still runs: the failed writer might be alive
    h.handle(rejected)
    assert h.sent() == []
    h.now[0] = T0 + 180  # SQS redelivers after the visibility timeout: the lease has run out
    h.handle(rejected)
    assert h.sent() == [second]
    done = h.workflow(workflow["workflow_uuid"])
    assert "launch_step" not in done and done["current_step"] == 1
    assert h.messages.get(second)["status"] == "accepted"


def test_a_step_queued_twice_after_a_crash_is_still_one_message(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    workflow = h.start([messenger("read"), SMS_STEP])
    second = h.step_uuid(workflow, 1)
    h.sent()
    h.reject_at_send(h.step_uuid(workflow, 0))
    [rejected] = h.events.take(StatusEvent)
    monkeypatch.setattr(h.workflows, "clear_launch", lambda *a: (_ for _ in ()).throw(RuntimeError("crash")))
    with pytest.raises(RuntimeError):
        h.handle(rejected)
    monkeypatch.undo()
    h.now[0] = T0 + 180
    h.handle(rejected)
    # Queued twice under the same uuid: the sender claims a message once, so it is sent once.
    assert h.sent() == [second, second]
    h.submit(second)
    assert h.messages.claim(second, "other", int(h.now[0]) + 60).state.value == "final"


def test_a_report_that_could_not_be_queued_goes_out_on_redelivery(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    workflow = h.start([messenger("delivered"), SMS_STEP])
    first = h.step_uuid(workflow, 0)
    h.submit(first)
    h.receipt(first, status.DELIVERED)
    events = h.events.take(StatusEvent)
    real_send = h.engine.reports.send
    monkeypatch.setattr(h.engine.reports, "send", lambda *a: (_ for _ in ()).throw(RuntimeError("sqs down")))
    with pytest.raises(RuntimeError):
        h.handle(*events)
    assert h.workflow(workflow["workflow_uuid"])["status"] == "completed"
    monkeypatch.setattr(h.engine.reports, "send", real_send)
    h.now[0] = T0 + 180
    h.handle(events[-1])
    h.handle(events[-1])
    assert len(h.reports()) == 1
    assert "report_until" not in h.workflow(workflow["workflow_uuid"])


def test_an_event_for_an_unknown_workflow_is_ignored(h: Harness) -> None:
    h.handle(TimerEvent("7a4c0a5e-5c4e-4f6e-9d4c-2a1b3c4d5e6f", 0, int(T0)))
    assert h.events.take() == []
