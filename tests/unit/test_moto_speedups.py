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
from tests.support.moto_table import sped_up_table

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
    with sped_up_table(range_key="sk") as client:
        yield client


TEXT_ITEM = {name: value for name, value in ITEM.items() if name != "blob"}  # no binary: JSON as it is


def _operations(client: Any, item: dict[str, Any]) -> list[tuple[str, Callable[[], Any]]]:
    key = {"pk": {"S": "m-1"}, "sk": {"N": "1"}}
    return [
        ("put", lambda: client.put_item(TableName="t", Item=item, ReturnValues="ALL_OLD")),
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


def _answers(client: Any, item: dict[str, Any]) -> dict[str, Any]:
    answers = {}
    for name, call in _operations(client, item):
        answer = call()
        answer.pop("ResponseMetadata")
        answers[name] = answer
    return answers


@pytest.mark.parametrize(
    "item, written_plainly",
    [
        (TEXT_ITEM, {"PutItem", "GetItem", "UpdateItem", "Query", "Scan", "BatchGetItem", "DeleteItem"}),
        (ITEM, {"PutItem", "GetItem"}),  # answers holding a binary are left to moto's serialiser (base64)
    ],
)
def test_item_answers_are_moto_s_own(
    dynamodb: Any, monkeypatch: pytest.MonkeyPatch, item: dict[str, Any], written_plainly: set[str]
) -> None:
    plain: list[str] = []
    answer_plainly = moto_speedups.plain_json_answer

    def recorded(action: str, result: Any) -> Any:
        answer = answer_plainly(action, result)
        if answer is not None:
            plain.append(action)
        return answer

    monkeypatch.setattr(moto_speedups, "plain_json_answer", recorded)
    fast = _answers(dynamodb, item)
    assert set(plain) == written_plainly
    assert fast["get"]["Item"] == item
    monkeypatch.setattr(DynamoHandler, "serialized", moto_speedups.moto_serialized)
    dynamodb.delete_item(TableName="t", Key={"pk": {"S": "m-1"}, "sk": {"N": "1"}})
    assert _answers(dynamodb, item) == fast


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


def test_scans_keep_moto_s_key_order_and_queries_their_matches_order(dynamodb: Any) -> None:
    for sk in ("10", "9", "-1.5", "100"):  # numeric order differs from string order
        dynamodb.put_item(TableName="t", Item={"pk": {"S": "b"}, "sk": {"N": sk}})
    dynamodb.put_item(TableName="t", Item={"pk": {"S": "a"}, "sk": {"N": "2"}})

    scanned = [(i["pk"]["S"], i["sk"]["N"]) for i in dynamodb.scan(TableName="t")["Items"]]
    queried = dynamodb.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "b"}},
                             ScanIndexForward=False)["Items"]
    page = dynamodb.scan(TableName="t", Limit=2)
    rest = dynamodb.scan(TableName="t", ExclusiveStartKey=page["LastEvaluatedKey"])["Items"]

    assert scanned == [("a", "2"), ("b", "-1.5"), ("b", "9"), ("b", "10"), ("b", "100")]
    assert [i["sk"]["N"] for i in queried] == ["100", "10", "9", "-1.5"]
    assert [(i["pk"]["S"], i["sk"]["N"]) for i in page["Items"] + rest] == scanned


def test_equality_of_attribute_values_is_unchanged() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    moto_speedups.install()
    assert DynamoType({"S": "x"}) == DynamoType({"S": "x"})
    assert DynamoType({"S": "x"}) != DynamoType({"S": "y"})
    assert DynamoType({"S": "1"}) != DynamoType({"N": "1"})  # another type is never equal
    assert DynamoType({"N": "1"}) == DynamoType({"N": "1.0"})  # numbers still compare as numbers
    assert DynamoType({"B": b"\x00"}) == DynamoType({"B": b"\x00"})
    assert DynamoType({"SS": ["a", "b"]}) == DynamoType({"SS": ["b", "a"]})


def test_handler_method_names_are_moto_s_own() -> None:
    from moto.core import responses, utils
    from moto.sqs.responses import SQSResponse

    moto_speedups.install()
    for handler in (DynamoHandler, SQSResponse):
        assert responses.method_names_from_class(handler) == utils.method_names_from_class(handler)
        assert responses.method_names_from_class(handler) == utils.method_names_from_class(handler)  # remembered


def test_converted_names_are_moto_s_own() -> None:
    from moto.core import responses, utils
    from moto.sqs import models

    moto_speedups.install()
    names = ["", "a", "ReceiveMessage", "GetItem", "BatchWriteItem", "ApproximateNumberOfMessagesNotVisible",
             "KmsMasterKeyId", "FifoQueue", "SQSManagedSSE", "HTTPRequestID", "x1Y2"]
    names += models.Queue.BASE_ATTRIBUTES + models.Queue.FIFO_ATTRIBUTES + models.Queue.KMS_ATTRIBUTES
    for convert in (responses.camelcase_to_underscores, models.camelcase_to_underscores):
        for _ in range(2):  # converted, then remembered
            assert [convert(name) for name in names] == [utils.camelcase_to_underscores(name) for name in names]


def test_random_strings_keep_their_shape_and_seed() -> None:
    import re

    from moto.moto_api._internal import mock_random
    from moto.sqs import models
    from moto.utilities.aws_headers import gen_amzn_requestid_long

    moto_speedups.install()
    assert re.fullmatch(r"[A-Za-z0-9]{52}", gen_amzn_requestid_long())
    assert re.fullmatch(r"[A-Za-z]{20}", mock_random.get_random_string(include_digits=False))
    assert re.fullmatch(r"[a-z0-9]{8}", mock_random.get_random_string(8, lower_case=True))
    assert re.fullmatch(r"[a-z]{185}", models.generate_receipt_handle())
    assert len({gen_amzn_requestid_long() for _ in range(100)}) == 100
    mock_random.seed(7)
    first = [gen_amzn_requestid_long(), models.generate_receipt_handle()]
    mock_random.seed(7)
    assert [gen_amzn_requestid_long(), models.generate_receipt_handle()] == first  # a seeded run is reproducible
    mock_random.seed()


def test_sends_still_deduplicate_and_counts_are_still_counted() -> None:
    moto_speedups.install()
    with mock_aws():
        sqs = boto3.client("sqs", region_name=LOCAL_REGION)
        fifo = sqs.create_queue(
            QueueName="q.fifo", Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"}
        )["QueueUrl"]
        strict = sqs.create_queue(QueueName="strict.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
        standard = sqs.create_queue(QueueName="q")["QueueUrl"]

        for _ in range(2):
            sqs.send_message(QueueUrl=fifo, MessageBody="same", MessageGroupId="g")  # the second is deduplicated
        with pytest.raises(sqs.exceptions.ClientError, match="ContentBasedDeduplication"):
            sqs.send_message(QueueUrl=strict, MessageBody="no id", MessageGroupId="g")
        sqs.send_message_batch(QueueUrl=standard, Entries=[{"Id": str(i), "MessageBody": f"m{i}"} for i in range(3)])
        sqs.send_message(QueueUrl=standard, MessageBody="later", DelaySeconds=60)
        sqs.receive_message(QueueUrl=standard, MaxNumberOfMessages=1)

        attributes = sqs.get_queue_attributes(QueueUrl=standard, AttributeNames=["All"])["Attributes"]
        assert attributes["ApproximateNumberOfMessages"] == "2"
        assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1"
        assert attributes["ApproximateNumberOfMessagesDelayed"] == "1"
        fifo_attributes = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["All"])["Attributes"]
        assert fifo_attributes["ApproximateNumberOfMessages"] == "1"  # content-based deduplication was read
        assert fifo_attributes["ContentBasedDeduplication"] == "true"


SIZED_VALUES = [
    {"S": "héllo wörld"},
    {"N": "-12.50"},
    {"B": b"\x00\x01\x02"},
    {"BOOL": False},
    {"NULL": True},
    {"SS": ["a", "ünï"]},
    {"NS": ["1", "2.5", "-3"]},
    {"BS": [b"\x00", b"\x01\x02"]},
    {"L": []},
    {"M": {}},
    ITEM["content"],
    {"M": {"history": {"L": [{"M": {"status": {"S": "sent"}, "at": {"N": "1790000000"}}}] * 5}, "n": {"N": "7"}}},
]


@pytest.mark.parametrize("value", SIZED_VALUES)
def test_value_sizes_are_moto_s_own(value: dict[str, Any]) -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    moto_speedups.install()
    original = moto_speedups.ORIGINAL_SIZES["size"]
    wrapped = DynamoType(value)
    assert wrapped.size() == original(wrapped)
    # A map that holds its values' wire dicts, not DynamoTypes (moto sizes those by wrapping them anew).
    raw_map = DynamoType({"M": {}})
    raw_map.value = {"a": value, "b": DynamoType(value)}
    assert raw_map.size() == original(raw_map)


def test_the_item_size_limit_is_moto_s_own() -> None:
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    moto_speedups.install()
    set_within_limit = moto_speedups.ORIGINAL_SIZES["set_within_limit"]
    for write in (LimitedSizeDict.__setitem__, set_within_limit):
        item = LimitedSizeDict()
        write(item, "pk", DynamoType({"S": "m-1"}))
        write(item, "body", DynamoType({"S": "x" * 404_000}))
        write(item, "plain", "not a DynamoType")  # sized as its text
        limit_left = moto_speedups.ITEM_SIZE_LIMIT - sum(
            len(name) + (value.size() if isinstance(value, DynamoType) else len(str(value))) for name, value in item.items()
        )
        write(item, "f", DynamoType({"S": "y" * (limit_left - 1)}))  # exactly at the limit: taken
        with pytest.raises(ItemSizeTooLarge):
            write(item, "g", DynamoType({"S": ""}))  # one byte more
        assert list(item) == ["pk", "body", "plain", "f"]
