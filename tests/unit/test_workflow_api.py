"""Failover workflows through the API handler: starting (beta, v0.1, v1), validation, idempotency, lookup."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from switchboard import clock
from tests.support.api_client import Api, assert_problem
from tests.support.request_bodies import MESSENGER_STEP, SMS_STEP, V1_FAILOVER, VIBER_SERVICE, WORKFLOW

T0 = 1_790_000_000.0


@pytest.fixture
def now() -> Any:
    current = [T0]
    clock.set_clock(lambda: current[0])
    yield current
    clock.set_clock(None)


@pytest.fixture
def api(aws: Any, tmp_path: Path, now: Any) -> Api:
    return Api(aws, tmp_path)


def workflow_record(workflow_uuid: str) -> dict | None:
    from tests.support.stores import WorkflowStore

    return WorkflowStore().get(workflow_uuid)


def timer_messages(api: Api) -> int:
    attributes = api.aws.client("sqs").get_queue_attributes(
        QueueUrl=api.aws.env["WORKFLOW_EVENTS_QUEUE_URL"],
        AttributeNames=["ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessages"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesDelayed"]) + int(attributes["ApproximateNumberOfMessages"])


def invalid_names(out: dict) -> set[str]:
    return {p["name"] for p in out["invalid_parameters"]}


# ---------------------------------------------------------------------------- starting


@pytest.mark.parametrize("path,id_field", [("/beta/workflows", "workflow_uuid"), ("/v0.1/dispatch", "dispatch_uuid")])
def test_a_workflow_sends_its_first_step_at_once_and_arms_its_timer(api: Api, path: str, id_field: str) -> None:
    status, headers, out = api.call("POST", path, WORKFLOW)
    assert status == 202, out
    assert headers["content-type"] == "application/json"
    assert set(out) == {id_field}
    workflow = workflow_record(out[id_field])
    assert workflow["status"] == "in_progress"
    assert workflow["current_step"] == 0
    assert workflow["flavour"] == ("workflow" if path.startswith("/beta") else "dispatch")
    assert workflow["due_at"] == {"0": int(T0) + 600}
    assert "launch_step" not in workflow and "launch_until" not in workflow
    first = workflow["steps"][0]["message_uuid"]
    assert api.queued() == [{"message_uuid": first}]  # only step 0 goes out
    record = api.record(first)
    assert record["status"] == "accepted"
    assert record["workflow_uuid"] == out[id_field]
    assert record["workflow_step"] == 0
    assert record["channel"] == "messenger"
    assert api.record(workflow["steps"][1]["message_uuid"]) is None
    assert timer_messages(api) == 1


def test_v1_failover_answers_the_first_message_and_the_workflow_id(api: Api) -> None:
    status, _, out = api.call("POST", "/v1/messages", V1_FAILOVER)
    assert status == 202, out
    assert set(out) == {"message_uuid", "workflow_id"}
    workflow = workflow_record(out["workflow_id"])
    assert workflow["flavour"] == "v1"
    assert workflow["steps"][0]["message_uuid"] == out["message_uuid"]
    # v1 steps carry no condition: the documented defaults apply to every step but the last.
    assert workflow["steps"][0]["failover"] == {"expiry_time": 600, "condition_status": "delivered"}
    assert "failover" not in workflow["steps"][1]
    assert api.queued() == [{"message_uuid": out["message_uuid"]}]


def test_v1_without_failover_is_still_a_single_send(api: Api) -> None:
    body = {k: v for k, v in V1_FAILOVER.items() if k != "failover"}
    status, _, out = api.call("POST", "/v1/messages", body)
    assert status == 202
    assert set(out) == {"message_uuid"}


def test_a_jwt_workflow_belongs_to_the_application(api: Api) -> None:
    status, _, out = api.call("POST", "/v0.1/dispatch", WORKFLOW, headers={"authorization": api.jwt()})
    assert status == 202, out
    workflow = workflow_record(out["dispatch_uuid"])
    assert workflow["application_id"] == api.app["application_id"]
    assert api.record(workflow["steps"][0]["message_uuid"])["application_id"] == api.app["application_id"]


def test_five_steps_are_allowed(api: Api) -> None:
    steps = [MESSENGER_STEP] * 4 + [SMS_STEP]
    status, _, out = api.call("POST", "/beta/workflows", {"template": "failover", "workflow": steps})
    assert status == 202, out


# ---------------------------------------------------------------------------- validation


def with_step(index: int, **changes: Any) -> dict:
    body = copy.deepcopy(WORKFLOW)
    body["workflow"][index].update(changes)
    return body


@pytest.mark.parametrize(
    "body,expected",
    [
        ({"workflow": [MESSENGER_STEP, SMS_STEP]}, {"template": "is required"}),
        ({**WORKFLOW, "template": "broadcast"}, {"template": "must be one of: failover"}),
        ({"template": "failover"}, {"workflow": "is required"}),
        ({"template": "failover", "workflow": {}}, {"workflow": "must be an array of 2 to 5 messages"}),
        ({"template": "failover", "workflow": [SMS_STEP]}, {"workflow": "must be an array of 2 to 5 messages"}),
        (
            {"template": "failover", "workflow": [MESSENGER_STEP] * 5 + [SMS_STEP]},
            {"workflow": "must be an array of 2 to 5 messages"},
        ),
        ({"template": "failover", "workflow": [MESSENGER_STEP, "sms"]}, {"workflow[1]": "must be an object"}),
        (with_step(0, failover=None), {"workflow[0].failover": "is required on every step but the last"}),
        (with_step(0, failover=[]), {"workflow[0].failover": "must be an object"}),
        (
            with_step(1, failover={"expiry_time": 60, "condition_status": "delivered"}),
            {"workflow[1].failover": "must not be given on the last step"},
        ),
        (
            with_step(0, failover={"expiry_time": 14, "condition_status": "read"}),
            {"workflow[0].failover.expiry_time": "must be between 15 and 86400 seconds"},
        ),
        (
            with_step(0, failover={"expiry_time": 86401, "condition_status": "read"}),
            {"workflow[0].failover.expiry_time": "must be between 15 and 86400 seconds"},
        ),
        (
            with_step(0, failover={"expiry_time": "600", "condition_status": "read"}),
            {"workflow[0].failover.expiry_time": "must be an integer"},
        ),
        (
            with_step(0, failover={"condition_status": "seen"}),
            {
                "workflow[0].failover.expiry_time": "is required",
                "workflow[0].failover.condition_status": "must be one of: delivered, read",
            },
        ),
    ],
)
def test_workflow_shape_errors_are_named(api: Api, body: dict, expected: dict[str, str]) -> None:
    status, headers, out = api.call("POST", "/v0.1/dispatch", body)
    assert_problem(status, headers, out, 400)
    assert {p["name"]: p["reason"] for p in out["invalid_parameters"]} == expected
    assert api.queued() == []


def test_read_is_refused_for_sms_steps(api: Api) -> None:
    sms_first = {**SMS_STEP, "failover": {"expiry_time": 60, "condition_status": "read"}}
    body = {"template": "failover", "workflow": [sms_first, SMS_STEP]}
    status, headers, out = api.call("POST", "/beta/workflows", body)
    assert_problem(status, headers, out, 400)
    assert invalid_names(out) == {"workflow[0].failover.condition_status"}
    assert "sms" in out["invalid_parameters"][0]["reason"]


def test_every_step_is_validated_as_a_single_send_and_every_problem_named(api: Api) -> None:
    bad_messenger = {**MESSENGER_STEP, "message": {"content": {"type": "text", "text": ""}}}
    bad_sms = {**SMS_STEP, "to": {"type": "sms", "number": "+44"}}
    status, headers, out = api.call("POST", "/beta/workflows", {"template": "failover", "workflow": [bad_messenger, bad_sms]})
    assert_problem(status, headers, out, 400)
    assert invalid_names(out) == {"workflow[0].message.content.text", "workflow[1].to.number"}
    assert out["detail"] == "Found errors validating 2 of your submitted parameters."
    assert api.queued() == [] and timer_messages(api) == 0


def test_sender_configuration_is_checked_per_step(api: Api) -> None:
    unknown_page = {**MESSENGER_STEP, "from": {"type": "messenger", "id": "999"}}
    status, headers, out = api.call("POST", "/v0.1/dispatch", {"template": "failover", "workflow": [unknown_page, SMS_STEP]})
    assert_problem(status, headers, out, 400)
    assert invalid_names(out) == {"workflow[0].from.id"}
    assert api.queued() == []


def test_viber_first_message_rule_is_checked_per_step(api: Api) -> None:
    promo = {
        "from": {"type": "viber_service_msg", "id": VIBER_SERVICE},
        "to": {"type": "viber_service_msg", "number": "447700900000"},
        "message": {"content": {"type": "text", "text": "Sale"}, "viber_service_msg": {"category": "promotion"}},
    }
    status, _, out = api.call("POST", "/beta/workflows", {"template": "failover", "workflow": [MESSENGER_STEP, promo]})
    assert status == 400
    assert invalid_names(out) == {"workflow[1].message.viber_service_msg.category"}


@pytest.mark.parametrize(
    "changes,expected",
    [
        ({"failover": "sms"}, {"failover"}),
        ({"failover": []}, {"failover"}),
        ({"failover": [V1_FAILOVER["failover"][0]] * 5}, {"failover"}),
        ({"text": "", "failover": [{**V1_FAILOVER["failover"][0], "text": "", "to": "+1"}]}, {"text", "failover[0].text", "failover[0].to"}),
        ({"failover": [{**V1_FAILOVER["failover"][0], "failover": []}]}, {"failover[0].failover"}),
        ({"failover": [{**V1_FAILOVER["failover"][0], "from": "not-a-configured-page", "channel": "messenger"}]}, {"failover[0].from"}),
    ],
)
def test_v1_failover_errors_are_422_and_named(api: Api, changes: dict, expected: set[str]) -> None:
    status, headers, out = api.call("POST", "/v1/messages", {**V1_FAILOVER, **changes})
    assert_problem(status, headers, out, 422)
    assert invalid_names(out) == expected
    assert api.queued() == []


def test_four_failover_messages_are_the_v1_maximum(api: Api) -> None:
    status, _, out = api.call("POST", "/v1/messages", {**V1_FAILOVER, "failover": [V1_FAILOVER["failover"][0]] * 4})
    assert status == 202, out


# ---------------------------------------------------------------------------- first step not queued


def test_a_first_step_that_cannot_be_queued_is_a_503_and_ends_the_workflow(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.adapters.sqs.outbound_queue import OutboundQueue

    def fail(self: Any, message_uuid: str, delay_seconds: int = 0) -> None:
        raise RuntimeError("sqs down")

    monkeypatch.setattr(OutboundQueue, "enqueue", fail)
    status, headers, out = api.call("POST", "/beta/workflows", WORKFLOW)
    assert_problem(status, headers, out, 503)
    from tests.support.stores import WorkflowStore

    items = api.aws.client("dynamodb").scan(TableName=WorkflowStore().table_name)["Items"]
    assert len(items) == 1
    workflow = workflow_record(items[0]["workflow_uuid"]["S"])
    assert workflow["status"] == "error"
    assert workflow["outcome"]["reason"] == "not_queued"
    assert "report_until" not in workflow
    message = api.record(workflow["steps"][0]["message_uuid"])
    assert message["status"] == "rejected" and message["enqueue_failed"] is True


# ---------------------------------------------------------------------------- idempotency


def test_idempotency_key_starts_one_workflow(api: Api) -> None:
    headers = {"idempotency-key": "wf-1"}
    first = api.call("POST", "/v0.1/dispatch", WORKFLOW, headers=headers)
    again = api.call("POST", "/v0.1/dispatch", WORKFLOW, headers=headers)
    assert first[0] == again[0] == 202
    assert first[2] == again[2]
    assert len(api.queued()) == 1
    changed = api.call("POST", "/v0.1/dispatch", with_step(1, message={"content": {"type": "text", "text": "x"}}), headers=headers)
    assert changed[0] == 422 and changed[2]["title"] == "Idempotency-Key reused"


def test_idempotency_key_on_v1_failover(api: Api) -> None:
    headers = {"idempotency-key": "v1-wf"}
    first = api.call("POST", "/v1/messages", V1_FAILOVER, headers=headers)
    again = api.call("POST", "/v1/messages", V1_FAILOVER, headers=headers)
    assert first[2] == again[2] and set(first[2]) == {"message_uuid", "workflow_id"}
    assert len(api.queued()) == 1


# ---------------------------------------------------------------------------- lookup


def test_lookup_shows_steps_current_step_and_outcome(api: Api) -> None:
    _, _, out = api.call("POST", "/v0.1/dispatch", WORKFLOW)
    dispatch_uuid = out["dispatch_uuid"]
    workflow = workflow_record(dispatch_uuid)
    status, _, view = api.call("GET", f"/v0.1/dispatch/{dispatch_uuid}")
    assert status == 200, view
    assert view["dispatch_uuid"] == dispatch_uuid
    assert view["template"] == "failover"
    assert view["status"] == "in_progress"
    assert view["current_step"] == 0
    assert view["outcome"] is None
    first, second = view["steps"]
    assert first["message_uuid"] == workflow["steps"][0]["message_uuid"]
    assert first["status"] == "accepted"
    assert first["channel"] == "messenger"
    assert first["failover"] == {"expiry_time": 600, "condition_status": "read"}
    assert first["expires_at"] == clock.iso(T0 + 600)
    assert second == {"step": 1, "channel": "sms", "to": SMS_STEP["to"], "status": "not_started"}
    assert [h["event"] for h in view["history"]] == ["created", "step_started"]
    assert view["_links"]["self"]["href"] == f"/v0.1/dispatch/{dispatch_uuid}"
    # The same workflow under the other routes names its id as that route's API does.
    assert api.call("GET", f"/v0.1/workflows/{dispatch_uuid}")[2]["workflow_uuid"] == dispatch_uuid
    assert api.call("GET", f"/beta/workflows/{dispatch_uuid}")[2]["workflow_uuid"] == dispatch_uuid
    v1 = api.call("GET", f"/v1/workflows/{dispatch_uuid}")[2]
    assert v1["workflow_id"] == dispatch_uuid and v1["steps"][1]["to"] == "447700900000"


def test_only_the_owner_sees_a_workflow(api: Api, tmp_path: Path) -> None:
    from switchboard.provisioning import provision_account
    from tests.support.stores import AccountStore
    from tests.support.lambdas import basic_auth

    _, _, out = api.call("POST", "/beta/workflows", WORKFLOW)
    other = provision_account(AccountStore())
    headers = {"authorization": basic_auth(other["api_key"], other["api_secret"])}
    status, response_headers, body = api.call("GET", f"/beta/workflows/{out['workflow_uuid']}", headers=headers)
    assert_problem(status, response_headers, body, 404)
    unknown = api.call("GET", "/v0.1/workflows/7a4c0a5e-5c4e-4f6e-9d4c-2a1b3c4d5e6f")
    assert unknown[0] == 404
    assert api.call("GET", "/v0.1/workflows/not-a-uuid")[0] == 404
    assert api.call("GET", f"/beta/workflows/{out['workflow_uuid']}", headers={"authorization": "Basic eDp5"})[0] == 401


def test_wrong_method_on_workflow_routes_is_405(api: Api) -> None:
    status, headers, _ = api.call("GET", "/v0.1/dispatch")
    assert status == 405 and headers["allow"] == "POST"
    status, headers, _ = api.call("DELETE", "/v1/workflows/abc")
    assert status == 405 and headers["allow"] == "GET"
