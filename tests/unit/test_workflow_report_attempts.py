"""A failover workflow's final report: every delivery attempt is recorded on the workflow and shown by GET."""
from __future__ import annotations

import socket
from typing import Any

import pytest
import requests
import responses

from switchboard.api.workflow_starter import new_workflow
from switchboard.api.workflow_view import workflow_view
from switchboard.composition import notifier_function
from switchboard.domain.message import Principal
from switchboard.domain.notification import Notification
from switchboard.notifier.delivery import DeliveryOutcome, Notifier, RetrySchedule
from switchboard.notifier.targets import WebhookTargets
from switchboard.adapters.webhook_http.webhook_poster import WebhookPoster
from switchboard.workflows.workflow_requests import Step
from tests.support.builders import sms_message
from tests.support.stores import AccountStore, MessagesTable, WorkflowStore, wired_authenticator

T0 = 1_790_000_000.0
STATUS_URL = "https://hooks.example.com/workflow/status"


class Queues:
    def __init__(self) -> None:
        self.retries: list[tuple[Notification, int]] = []
        self.dead: list[Notification] = []

    def retry(self, notification: Notification, delay_seconds: int) -> None:
        self.retries.append((notification, delay_seconds))

    def dead_letter(self, notification: Notification) -> None:
        self.dead.append(notification)


def public(host: str, port: int, *args: object) -> list[tuple]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]


def notifier(queues: Queues) -> Notifier:
    return Notifier(
        targets=WebhookTargets(wired_authenticator(AccountStore())),
        poster=WebhookPoster(session=requests.Session(), resolve=public),
        queues=queues,
        attempts=MessagesTable(),
        workflow_attempts=WorkflowStore(),
    )


def finished_workflow() -> dict[str, Any]:
    account, _ = AccountStore().create_account(status_url=STATUS_URL)
    workflow = new_workflow([Step(sms_message(), None)], "v1", Principal(account.api_key), 86400)
    workflow.update(status="completed", outcome={"status": "completed", "at": "2026-09-21T14:13:20.000Z"})
    WorkflowStore().create(workflow)
    return workflow


def final_report(workflow: dict[str, Any], attempt: int = 1) -> Notification:
    return Notification(
        kind="workflow",
        message_uuid=workflow["workflow_uuid"],
        notification="workflow:completed",
        body={"workflow_id": workflow["workflow_uuid"], "template": "failover", "status": "completed"},
        target={"api_key": workflow["api_key"], "url_kind": "status"},
        attempt=attempt,
        first_attempt_at=T0,
    )


def test_each_attempt_of_the_final_report_is_recorded_on_the_workflow_and_shown_by_get(aws, now) -> None:
    workflow = finished_workflow()
    queues = Queues()
    with responses.RequestsMock() as http:
        http.post(STATUS_URL, status=503)
        assert notifier(queues).deliver(final_report(workflow)) is DeliveryOutcome.RETRY_SCHEDULED
        http.replace(responses.POST, STATUS_URL, status=204)
        now[0] += 5
        (retry, _), = queues.retries
        assert notifier(queues).deliver(retry) is DeliveryOutcome.DELIVERED

    stored = WorkflowStore().get(workflow["workflow_uuid"])
    expected = [
        {"webhook": "workflow:completed", "kind": "workflow", "attempt": 1, "at": "2026-09-21T14:13:20.000Z",
         "outcome": "failed", "target": "account", "http_status": 503, "error": "http 503", "next_retry_in": 5},
        {"webhook": "workflow:completed", "kind": "workflow", "attempt": 2, "at": "2026-09-21T14:13:25.000Z",
         "outcome": "delivered", "target": "account", "http_status": 204},
    ]
    assert stored["webhook_attempts"] == expected
    view = workflow_view(stored, MessagesTable(), "v1", f"/v1/workflows/{workflow['workflow_uuid']}")
    assert view["webhook_attempts"] == expected
    # Nothing was written to the messages table under the workflow's id.
    assert MessagesTable().get(workflow["workflow_uuid"]) is None


def test_giving_up_on_the_final_report_is_noted_in_the_workflow_history(aws, now) -> None:
    workflow = finished_workflow()
    queues = Queues()
    late = final_report(workflow, attempt=12)
    now[0] += 24 * 3600
    with responses.RequestsMock() as http:
        http.post(STATUS_URL, status=500)
        assert notifier(queues).deliver(late) is DeliveryOutcome.GAVE_UP

    stored = WorkflowStore().get(workflow["workflow_uuid"])
    assert [a["outcome"] for a in stored["webhook_attempts"]] == ["gave_up"]
    assert stored["history"][-1]["event"] == "webhook_undeliverable"
    assert stored["history"][-1]["webhook"] == "workflow:completed"
    assert queues.dead == [late]


def test_a_workflow_that_is_gone_records_nothing_and_delivery_goes_on(aws, now) -> None:
    workflow = finished_workflow()
    gone = final_report({**workflow, "workflow_uuid": "cccccccc-dddd-4eee-8fff-00000000dead"})
    with responses.RequestsMock() as http:
        http.post(STATUS_URL, status=200)
        assert notifier(Queues()).deliver(gone) is DeliveryOutcome.DELIVERED
    assert WorkflowStore().get("cccccccc-dddd-4eee-8fff-00000000dead") is None


@pytest.fixture
def fresh_notifier_wiring():
    notifier_function.settings.cache_clear()
    notifier_function.services.cache_clear()
    yield
    notifier_function.settings.cache_clear()
    notifier_function.services.cache_clear()


def test_the_notifier_function_records_report_attempts_in_the_workflows_table(aws, fresh_notifier_wiring) -> None:
    wired = notifier_function.services().handler.notifier
    assert wired.workflow_attempts is not None
    assert wired.workflow_attempts.table_name == aws.env["WORKFLOWS_TABLE"]
