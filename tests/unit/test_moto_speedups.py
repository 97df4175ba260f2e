"""The local stack's moto speed-ups keep moto's answers: same items, same counts, same errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.responses import DynamoHandler

from local_stack import moto_speedups
from local_stack.template import LOCAL_REGION

ITEM = {
    "pk": {"S": "m-1"},
    "sk": {"N": "1"},
    "status": {"S": "accepted"},
    "attempts": {"N": "0"},
    "flag": {"BOOL": True},
    "nothing": {"NULL": True},
    "blob": {"B": b"\x00\x01binary"},
    "tags": {"SS": ["a", "b"]},
    "content": {"M": {"text": {"S": "héllo"}, "parts": {"L": [{"N": "1"}, {"M": {"x": {"S": "y"}}}]}}},
}


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    moto_speedups.install()
    with mock_aws():
        client = boto3.client("dynamodb", region_name=LOCAL_REGION)
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client


def _operations(client: Any) -> list[tuple[str, Callable[[], Any]]]:
    key = {"pk": {"S": "m-1"}, "sk": {"N": "1"}}
    return [
        ("put", lambda: client.put_item(TableName="t", Item=ITEM, ReturnValues="ALL_OLD")),
        ("get", lambda: client.get_item(TableName="t", Key=key)),
        ("get missing", lambda: client.get_item(TableName="t", Key={"pk": {"S": "none"}, "sk": {"N": "1"}})),
        (
            "update",
            lambda: client.update_item(
                TableName="t",
                Key=key,
                UpdateExpression="SET attempts = attempts + :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
                ReturnValues="ALL_NEW",
            ),
        ),
        ("query", lambda: client.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "m-1"}}, Limit=1)),
        ("scan", lambda: client.scan(TableName="t")),
        ("batch get", lambda: client.batch_get_item(RequestItems={"t": {"Keys": [key]}})),
        ("delete", lambda: client.delete_item(TableName="t", Key=key, ReturnValues="ALL_OLD")),
    ]


def _answers(client: Any) -> dict[str, Any]:
    answers = {}
    for name, call in _operations(client):
        answer = call()
        answer.pop("ResponseMetadata")
        answers[name] = answer
    return answers


def test_item_answers_are_moto_s_own(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fast = _answers(dynamodb)
    assert fast["get"]["Item"] == ITEM
    monkeypatch.setattr(DynamoHandler, "serialized", moto_speedups.moto_serialized)
    dynamodb.delete_item(TableName="t", Key={"pk": {"S": "m-1"}, "sk": {"N": "1"}})
    assert _answers(dynamodb) == fast


def test_a_failed_condition_is_still_moto_s_error(dynamodb: Any) -> None:
    dynamodb.put_item(TableName="t", Item=ITEM)
    with pytest.raises(dynamodb.exceptions.ConditionalCheckFailedException):
        dynamodb.put_item(TableName="t", Item=ITEM, ConditionExpression="attribute_not_exists(pk)")


def test_sqs_counts_and_receives_are_unchanged() -> None:
    moto_speedups.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name=LOCAL_REGION)
        url = sqs.create_queue(QueueName="q")["QueueUrl"]
        for i in range(5):
            sqs.send_message(QueueUrl=url, MessageBody=f"m{i}")
        sqs.send_message(QueueUrl=url, MessageBody="later", DelaySeconds=60)
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
        assert [m["Body"] for m in received] == ["m0", "m1"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "3"
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
        assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
