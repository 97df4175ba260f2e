"""Dead-letter queues: found from the stack's outputs, listed without consuming, moved back without losing any."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import outputs
from switchboard.adapters.sqs import dead_letters
from switchboard.adapters.sqs.dead_letters import DeadLetterQueue, find_dead_letter_queues, move_back, peek
from switchboard.cli import main
from switchboard.domain.notification import Notification


def template_dlqs(template: dict[str, Any]) -> dict[str, str]:
    """DLQ logical id -> source queue logical id, read from the template's redrive policies."""
    found = {}
    for logical_id, resource in template["Resources"].items():
        policy = resource.get("Properties", {}).get("RedrivePolicy")
        if resource["Type"] == "AWS::SQS::Queue" and policy:
            found[policy["deadLetterTargetArn"]["Fn::GetAtt"][0]] = logical_id
    return found


@pytest.fixture
def sqs(aws) -> Any:
    return aws.client("sqs")


@pytest.fixture
def queues(aws, sqs) -> dict[str, DeadLetterQueue]:
    return {q.name: q for q in find_dead_letter_queues(sqs, outputs(aws.template, aws.local))}


def notification_body(message_uuid: str) -> str:
    note = Notification(
        "status", message_uuid, "status:delivered", {"status": "delivered"},
        {"api_key": "abcd1234", "application_id": "app-1", "url_kind": "status"}, 7, 1.0,
    )
    return json.dumps({**json.loads(note.to_json()), "gave_up_at": "2026-09-22T14:13:20.000Z"})


def put(sqs: Any, url: str, bodies: list[str]) -> None:
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)


def drain(sqs: Any, url: str) -> list[str]:
    bodies: list[str] = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get("Messages", [])
        if not got:
            return bodies
        bodies.extend(m["Body"] for m in got)


def test_every_dead_letter_queue_of_the_template_is_found_with_its_source(aws, queues) -> None:
    expected = template_dlqs(aws.template)
    assert expected  # the template has DLQs at all
    assert {name: q.source_name for name, q in queues.items()} == expected
    notify = queues["NotifyDLQ"]
    assert notify.max_receive_count == 5
    assert notify.url == aws.env["NOTIFY_DLQ_URL"]
    assert notify.source_url == aws.env["NOTIFY_QUEUE_URL"]


def test_listing_shows_the_messages_and_leaves_them_in_the_queue(sqs, queues) -> None:
    dlq = queues["NotifyDLQ"]
    put(sqs, dlq.url, [notification_body(f"m-{i}") for i in range(13)])

    listed = peek(sqs, dlq, limit=12)

    assert len(listed) == 12 and len({m.message_id for m in listed}) == 12  # paged past the first ten
    first = listed[0].to_dict()
    assert first["receive_count"] == 1 and first["sent_at"] and first["first_received_at"]
    assert first["summary"] == {
        "kind": "status", "message_uuid": first["summary"]["message_uuid"], "webhook": "status:delivered",
        "api_key": "abcd1234", "application_id": "app-1", "attempt": 7, "gave_up_at": "2026-09-22T14:13:20.000Z",
    }
    assert dead_letters.depth(sqs, dlq)["visible"] == 13
    assert sorted(drain(sqs, dlq.url)) == sorted(notification_body(f"m-{i}") for i in range(13))


def test_a_body_that_is_not_ours_is_summarised_by_its_start() -> None:
    assert dead_letters.summarize_body("x" * 200) == {"body": "x" * 80}
    assert dead_letters.summarize_body('{"message_uuid": "m-1"}') == {"message_uuid": "m-1"}
    assert dead_letters.summarize_body(
        '{"kind":"timer","workflow_uuid":"w-1","step":1,"due_at":1790000600}'
    ) == {"kind": "timer", "workflow_uuid": "w-1", "step": 1, "due_at": 1790000600}


def test_copy_moves_every_message_back_to_its_source_queue(sqs, queues) -> None:
    dlq = queues["OutboundDLQ"]
    bodies = [json.dumps({"message_uuid": f"m-{i}"}) for i in range(12)]
    put(sqs, dlq.url, bodies)

    report = move_back(sqs, dlq, method="copy")

    assert report.to_dict() == {"queue": "OutboundDLQ", "method": "copy", "moved": 12, "failed": 0, "left_twice": 0}
    assert sorted(drain(sqs, dlq.source_url)) == sorted(bodies)
    assert drain(sqs, dlq.url) == []


def test_max_moves_only_that_many(sqs, queues) -> None:
    dlq = queues["WorkflowEventsDLQ"]
    put(sqs, dlq.url, [json.dumps({"kind": "timer", "workflow_uuid": f"w-{i}", "step": 0, "due_at": 1}) for i in range(5)])

    report = move_back(sqs, dlq, limit=2)

    assert (report.method, report.moved) == ("copy", 2)
    assert len(drain(sqs, dlq.source_url)) == 2
    assert len(drain(sqs, dlq.url)) == 3


class FailingSqs:
    """The real client, but ``send_message`` or ``delete_message`` fails for chosen bodies."""

    def __init__(self, client: Any, fail_send: set[str] = frozenset(), fail_delete: bool = False) -> None:
        self._client = client
        self._fail_send = fail_send
        self._fail_delete = fail_delete
        self.deleted: list[str] = []

    def send_message(self, **kwargs: Any) -> Any:
        if kwargs["MessageBody"] in self._fail_send:
            raise ConnectionError("send refused")
        return self._client.send_message(**kwargs)

    def delete_message(self, **kwargs: Any) -> Any:
        if self._fail_delete:
            raise ConnectionError("delete refused")
        self.deleted.append(kwargs["ReceiptHandle"])
        return self._client.delete_message(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_message_whose_send_failed_is_not_deleted(sqs, queues) -> None:
    dlq = queues["OutboundDLQ"]
    stuck = json.dumps({"message_uuid": "m-stuck"})
    put(sqs, dlq.url, [stuck, json.dumps({"message_uuid": "m-ok"})])
    failing = FailingSqs(sqs, fail_send={stuck})

    report = move_back(failing, dlq, method="copy")

    assert (report.moved, report.failed, len(failing.deleted)) == (1, 1, 1)
    assert "not sent" in report.errors[0]
    assert drain(sqs, dlq.source_url) == [json.dumps({"message_uuid": "m-ok"})]
    # the stuck one is still in the DLQ, hidden only for MOVE_HOLD_SECONDS
    held = sqs.get_queue_attributes(QueueUrl=dlq.url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert held["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


def test_a_message_sent_but_not_deleted_is_in_both_queues_never_in_neither(sqs, queues) -> None:
    dlq = queues["OutboundDLQ"]
    body = json.dumps({"message_uuid": "m-1"})
    put(sqs, dlq.url, [body])

    report = move_back(FailingSqs(sqs, fail_delete=True), dlq, method="copy")

    assert (report.moved, report.left_twice) == (0, 1)
    assert drain(sqs, dlq.source_url) == [body]
    held = sqs.get_queue_attributes(QueueUrl=dlq.url, AttributeNames=["ApproximateNumberOfMessagesNotVisible"])
    assert held["Attributes"]["ApproximateNumberOfMessagesNotVisible"] == "1"


class MoveTaskSqs:
    """An SQS that has StartMessageMoveTask (as AWS does): records the call."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.tasks: list[dict[str, Any]] = []

    def start_message_move_task(self, **kwargs: Any) -> dict[str, Any]:
        self.tasks.append(kwargs)
        return {"TaskHandle": "task-1"}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_native_starts_a_move_task_from_the_dlq_to_its_source(sqs, queues) -> None:
    dlq = queues["NotifyDLQ"]
    put(sqs, dlq.url, [notification_body("m-1")])
    client = MoveTaskSqs(sqs)

    report = move_back(client, dlq)

    assert client.tasks == [{"SourceArn": dlq.arn, "DestinationArn": dlq.source_arn}]
    assert report.to_dict() == {"queue": "NotifyDLQ", "method": "native", "task_handle": "task-1", "approximate_messages": 1}


def test_auto_falls_back_to_copy_where_sqs_has_no_move_task(sqs, queues) -> None:
    dlq = queues["NotifyDLQ"]
    put(sqs, dlq.url, [notification_body("m-1")])

    report = move_back(sqs, dlq)  # moto implements no StartMessageMoveTask

    assert (report.method, report.moved) == ("copy", 1)
    with pytest.raises(dead_letters.MoveTaskUnsupported):
        move_back(sqs, dlq, method="native")
    with pytest.raises(ValueError, match="limit needs the copy method"):
        move_back(sqs, dlq, limit=1, method="native")


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def outputs_dir(tmp_path: Path, aws, env_restored) -> Path:
    """A local stack's state directory with every output of the template (the DLQs are found from them)."""
    state = tmp_path / "state"
    state.mkdir()
    (state / "outputs.json").write_text(json.dumps(outputs(aws.template, aws.local)))
    (state / "stack.json").write_text(json.dumps({}))
    return state


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_lists_every_dlq_and_one_queues_messages(capsys, sqs, queues, outputs_dir) -> None:
    put(sqs, queues["NotifyDLQ"].url, [notification_body("m-1"), notification_body("m-2")])

    code, out, err = cli(capsys, "dlq", "list", "--local-dir", str(outputs_dir), "--json")
    assert (code, err) == (0, "")
    rows = {row["queue"]: row for row in json.loads(out)["dead_letter_queues"]}
    assert set(rows) == {"NotifyDLQ", "OutboundDLQ", "WorkflowEventsDLQ"}
    assert (rows["NotifyDLQ"]["visible"], rows["OutboundDLQ"]["visible"]) == (2, 0)
    assert "messages" not in rows["NotifyDLQ"]

    code, out, err = cli(capsys, "dlq", "list", "--local-dir", str(outputs_dir), "--queue", "notifyqueue", "--max", "1")
    assert (code, err) == (0, "")
    assert "NotifyDLQ: 1 message(s) shown, left in the queue" in out
    assert "webhook=status:delivered" in out and "api_key=abcd1234" in out
    assert dead_letters.depth(sqs, queues["NotifyDLQ"])["visible"] == 2


def test_cli_redrives_one_queue(capsys, sqs, queues, outputs_dir) -> None:
    put(sqs, queues["NotifyDLQ"].url, [notification_body("m-1")])
    put(sqs, queues["OutboundDLQ"].url, [json.dumps({"message_uuid": "m-2"})])

    code, out, err = cli(capsys, "dlq", "redrive", "--local-dir", str(outputs_dir), "--queue", "NotifyDLQ", "--json")

    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "redriven": [{"queue": "NotifyDLQ", "method": "copy", "moved": 1, "failed": 0, "left_twice": 0}]
    }
    assert drain(sqs, queues["NotifyDLQ"].source_url) == [notification_body("m-1")]
    assert dead_letters.depth(sqs, queues["OutboundDLQ"])["visible"] == 1  # not asked for


def test_cli_names_the_dlqs_when_the_queue_is_unknown(capsys, outputs_dir) -> None:
    code, out, err = cli(capsys, "dlq", "list", "--local-dir", str(outputs_dir), "--queue", "Nope")
    assert code == 1 and out == ""
    assert err == "switchboard: error: no dead-letter queue 'Nope'; the stack has NotifyDLQ, OutboundDLQ, WorkflowEventsDLQ\n"
    code, _, err = cli(capsys, "dlq", "redrive", "--local-dir", str(outputs_dir), "--max", "0")
    assert code == 2 and "--max: must be at least 1" in err
