"""The SQS adapters: each needs its client and queue URL; none falls back to an empty or ambient one."""
from __future__ import annotations

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
