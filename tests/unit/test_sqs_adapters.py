"""The SQS adapters: each needs its client and queue URL; none falls back to an empty or ambient one."""
from __future__ import annotations

import itertools
import json

import pytest

from switchboard.adapters.sqs.notify_queue import NotifyQueue
from switchboard.adapters.sqs.outbound_queue import OutboundQueue
from switchboard.adapters.sqs.workflow_events_queue import WorkflowEventsQueue
from switchboard.domain.notification import Notification


class RecordingSqs:
    def __init__(self) -> None:
        self.sent: list[dict] = []

    def send_message(self, **kwargs: object) -> dict:
        self.sent.append(kwargs)
        return {}


@pytest.mark.parametrize("url", ["", "   "])
def test_every_queue_refuses_a_missing_url(url: str) -> None:
    client = RecordingSqs()
    with pytest.raises(ValueError, match="OutboundQueue needs a queue URL"):
        OutboundQueue(client, url)
    with pytest.raises(ValueError, match="WorkflowEventsQueue needs a queue URL"):
        WorkflowEventsQueue(client, url)
    with pytest.raises(ValueError, match="NotifyQueue needs a queue URL"):
        NotifyQueue(client, url, "https://sqs.example/NotifyDLQ")
    with pytest.raises(ValueError, match="dead-letter queue needs a queue URL"):
        NotifyQueue(client, "https://sqs.example/Notify", url)
    assert client.sent == []


def test_each_queue_sends_to_the_url_it_was_given() -> None:
    client = RecordingSqs()
    OutboundQueue(client, "https://sqs.example/Outbound").enqueue("m-1", delay_seconds=3)
    WorkflowEventsQueue(client, "https://sqs.example/Events").arm_timer("w-1", 0, 0)
    note = Notification("status", "m-1", "status:submitted", {"status": "submitted"}, {"api_key": "k"}, 1, 1.0)
    notify = NotifyQueue(client, "https://sqs.example/Notify", "https://sqs.example/NotifyDLQ")
    notify.send(note)
    notify.dead_letter(note)

    assert [(m["QueueUrl"], m.get("DelaySeconds")) for m in client.sent] == [
        ("https://sqs.example/Outbound", 3),
        ("https://sqs.example/Events", 0),
        ("https://sqs.example/Notify", 0),
        ("https://sqs.example/NotifyDLQ", None),
    ]
    assert json.loads(client.sent[0]["MessageBody"]) == {"message_uuid": "m-1"}
    assert "gave_up_at" in json.loads(client.sent[3]["MessageBody"])


def test_outbound_and_notify_messages_carry_the_account_as_their_fair_queue_group() -> None:
    client = RecordingSqs()
    OutboundQueue(client, "https://sqs.example/Outbound").enqueue("m-1", tenant="acct-a")
    OutboundQueue(client, "https://sqs.example/Outbound").enqueue("m-2")
    note = Notification("status", "m-1", "status:submitted", {"status": "submitted"}, {"api_key": "acct-b"}, 1, 1.0)
    notify = NotifyQueue(client, "https://sqs.example/Notify", "https://sqs.example/NotifyDLQ")
    notify.send(note)
    notify.retry(note, 30)

    assert [m.get("MessageGroupId") for m in client.sent] == ["acct-a", None, "acct-b", "acct-b"]
    assert "MessageGroupId" not in client.sent[1]


class BatchingSqs:
    """SendMessageBatch: records each call; ``refuse`` entry ids come back failed, ``down`` calls raise."""

    def __init__(self, refuse: tuple[str, ...] = (), down: tuple[int, ...] = ()) -> None:
        self.calls: list[list[dict]] = []
        self.refuse, self.down = refuse, down

    def send_message_batch(self, QueueUrl: str, Entries: list[dict]) -> dict:  # noqa: N803 - boto3's names
        self.calls.append(Entries)
        if len(self.calls) - 1 in self.down:
            raise ConnectionError("SQS unreachable")
        refused = [e for e in Entries if e["Id"] in self.refuse]
        failed = [{"Id": e["Id"], "SenderFault": False, "Code": "InternalError"} for e in refused]
        return {"Successful": [{"Id": e["Id"]} for e in Entries if e["Id"] not in self.refuse], "Failed": failed}


def notes(count: int, text: str = "x", accounts: tuple[str, ...] = ("acct-a",)) -> list[Notification]:
    return [
        Notification("status", f"m-{i}", "status:submitted", {"text": text}, {"api_key": account}, 1, 1.0)
        for i, account in zip(range(count), itertools.cycle(accounts))
    ]


def test_send_all_queues_ten_to_a_call_each_with_its_account_as_the_group() -> None:
    client = BatchingSqs()
    queued = notes(23, accounts=("acct-a", "acct-b"))

    assert NotifyQueue(client, "https://sqs.example/Notify", "https://sqs.example/NotifyDLQ").send_all(queued) == set()

    assert [len(call) for call in client.calls] == [10, 10, 3]
    entries = [entry for call in client.calls for entry in call]
    assert [json.loads(e["MessageBody"])["message_uuid"] for e in entries] == [f"m-{i}" for i in range(23)]
    assert [e["MessageGroupId"] for e in entries[:3]] == ["acct-a", "acct-b", "acct-a"]
    assert all(len({e["Id"] for e in call}) == len(call) for call in client.calls)  # ids unique within a call


def test_send_all_keeps_each_call_within_sqs_batch_size_limit() -> None:
    client = BatchingSqs()
    queued = notes(5, text="x" * 100_000)  # three fit in 256 KiB, five do not

    assert NotifyQueue(client, "https://sqs.example/Notify", "https://sqs.example/NotifyDLQ").send_all(queued) == set()

    assert [len(call) for call in client.calls] == [2, 2, 1]
    assert all(sum(len(e["MessageBody"].encode()) for e in call) <= 256 * 1024 for call in client.calls)


def test_send_all_answers_the_notifications_sqs_refused_or_never_got() -> None:
    client = BatchingSqs(refuse=("4",), down=(1,))  # entry 4 of the first call refused; the second call fails
    queued = notes(13)

    not_queued = NotifyQueue(client, "https://sqs.example/Notify", "https://sqs.example/NotifyDLQ").send_all(queued)

    assert not_queued == {4, 10, 11, 12}
