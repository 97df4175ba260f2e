"""Fair queues in the local stack's moto: a quiet tenant's message is not held behind another's backlog."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local_stack import fair_queues
from local_stack.fair_queues import fair_order
from local_stack.template import LOCAL_REGION


@dataclass(eq=False)
class Msg:
    name: str
    group_id: str | None


def names(messages: list[Msg]) -> list[str]:
    return [m.name for m in messages]


def test_one_tenant_keeps_the_send_order() -> None:
    visible = [Msg(f"a{i}", "A") for i in range(5)]
    assert names(fair_order(visible, in_flight=[])) == ["a0", "a1", "a2", "a3", "a4"]


def test_a_quiet_tenant_comes_before_a_backlog() -> None:
    backlog = [Msg(f"a{i}", "A") for i in range(20)]
    quiet = Msg("b0", "B")
    ordered = fair_order([*backlog, quiet], in_flight=[Msg("x", "A")])
    assert names(ordered)[0] == "b0"
    assert names(ordered)[1:] == [f"a{i}" for i in range(20)]


def test_tenants_take_turns_fewest_in_flight_first() -> None:
    visible = [Msg("a0", "A"), Msg("a1", "A"), Msg("b0", "B"), Msg("b1", "B"), Msg("c0", "C")]
    in_flight = [Msg("x", "A"), Msg("y", "A"), Msg("z", "B")]
    assert names(fair_order(visible, in_flight)) == ["c0", "b0", "a0", "b1", "a1"]


def test_a_message_without_a_group_is_a_tenant_of_its_own() -> None:
    visible = [Msg("a0", "A"), Msg("a1", "A"), Msg("n0", None), Msg("n1", None)]
    assert names(fair_order(visible, in_flight=[Msg("x", "A")])) == ["n0", "n1", "a0", "a1"]


@pytest.fixture
def sqs() -> Iterator[Any]:
    fair_queues.install()
    with mock_aws():
        yield boto3.client("sqs", region_name=LOCAL_REGION)


def _receive_bodies(sqs: Any, url: str, count: int = 10) -> list[str]:
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=count).get("Messages", [])
    return [m["Body"] for m in messages]


def test_moto_standard_queue_receives_the_quiet_tenant_first(sqs: Any) -> None:
    url = sqs.create_queue(QueueName="outbound")["QueueUrl"]
    for i in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=f"burst {i}", MessageGroupId="account-a")
    first = _receive_bodies(sqs, url)  # account A now has 10 in flight
    assert first == [f"burst {i}" for i in range(10)]
    sqs.send_message(QueueUrl=url, MessageBody="otp", MessageGroupId="account-b")
    second = _receive_bodies(sqs, url)
    assert second[0] == "otp"
    assert second[1:] == [f"burst {i}" for i in range(10, 19)]


def test_moto_fifo_queue_is_left_alone(sqs: Any) -> None:
    url = sqs.create_queue(
        QueueName="ordered.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    )["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"a{i}", MessageGroupId="A")
    sqs.send_message(QueueUrl=url, MessageBody="b0", MessageGroupId="B")
    assert _receive_bodies(sqs, url) == ["a0", "a1", "a2", "b0"]
