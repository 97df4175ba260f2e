"""The DynamoDB toolkit every store uses: codec, update builder, conditional table and its error mapping."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from switchboard.adapters.dynamodb.codec import _with_decimals, deserialize, serialize, serialize_item, to_python
from switchboard.adapters.dynamodb.conditional_table import (
    THROTTLING_CODES,
    UNAVAILABLE_CODES,
    ConditionalTable,
    is_condition_failure,
)
from switchboard.adapters.dynamodb.message_store import MessageStore
from switchboard.adapters.dynamodb.update_builder import UpdateBuilder
from switchboard.domain.errors import ServiceUnavailable
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage, Principal


def client_error(code: str, operation: str = "UpdateItem", **extra: Any) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}, **extra}, operation)


class FailingClient:
    """A DynamoDB client whose every call raises ``error``; records the calls it got."""

    def __init__(self, error: ClientError) -> None:
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, operation: str) -> Any:
        def call(**kwargs: Any) -> Any:
            self.calls.append((operation, kwargs))
            raise self.error

        return call


# ------------------------------------------------------------------ codec


def test_codec_round_trips_floats_ints_sets_and_nesting() -> None:
    value = {"price": 0.1, "count": 3, "tags": {"a", "b"}, "nested": [{"x": 1.5}]}

    item = serialize_item(value)

    assert item["price"] == {"N": "0.1"}
    assert item["count"] == {"N": "3"}
    assert deserialize(item) == value


def test_to_python_turns_integral_decimals_into_ints() -> None:
    assert to_python({"a": Decimal("2"), "b": [Decimal("2.5")]}) == {"a": 2, "b": [2.5]}
    assert deserialize({}) is None
    assert serialize("x") == {"S": "x"}


SAMPLE_VALUES: list[Any] = [
    "text",
    "",
    0,
    -7,
    10**37,
    -(10**38) + 1,
    10**38 - 1,
    True,
    False,
    None,
    0.1,
    -2.5,
    Decimal("3"),
    Decimal("1.25"),
    {"a", "b"},
    {"only"},
    {1, 2},
    b"raw",
    ("t", 1),
    Channel.SMS,
    [],
    {},
    {"nested": [{"x": 1, "y": [True, None, "s", 2.5]}, ["deep", {"z": -0.0}]], "empty": {}},
]


def sample_id(value: Any) -> str:
    """A test id the same in every process: a set's repr follows the string hash seed, which differs
    between pytest-xdist's workers (and they must collect the same ids)."""
    return "{" + ", ".join(map(repr, sorted(value))) + "}" if isinstance(value, set) else repr(value)


@pytest.mark.parametrize("value", SAMPLE_VALUES, ids=sample_id)
def test_serialize_matches_boto3s_serializer(value: Any) -> None:
    reference = TypeSerializer().serialize(_with_decimals(value))

    assert serialize(value) == reference
    assert serialize_item({"attr": value}) == {"attr": reference}


@pytest.mark.parametrize("value", SAMPLE_VALUES, ids=sample_id)
def test_deserialize_matches_boto3s_deserializer(value: Any) -> None:
    attribute = TypeSerializer().serialize(_with_decimals(value))
    reference = to_python(TypeDeserializer().deserialize(attribute))

    restored = deserialize({"attr": attribute})

    assert restored == {"attr": reference}
    assert type(restored["attr"]) is type(reference)


@pytest.mark.parametrize("number", ["007", "-0", "12", "-12", "1.50", "1E+2", "1e-7", "1" * 38, "-" + "9" * 38])
def test_deserialized_numbers_match_boto3s(number: str) -> None:
    reference = to_python(TypeDeserializer().deserialize({"N": number}))

    restored = deserialize({"n": {"N": number}, "ns": {"NS": [number]}})

    assert restored == {"n": reference, "ns": {reference}}
    assert type(restored["n"]) is type(reference)


# ------------------------------------------------------------------ update builder


def test_update_builder_writes_each_clause_once_with_placeholders() -> None:
    update = (
        UpdateBuilder()
        .set("status", "sending")
        .append_history({"status": "sending"})
        .remove("claim_token")
        .add_to_set("seen_statuses", "sending")
        .delete_from_set("pending_notifications", "status:sending")
    )

    assert update.expression() == (
        "SET #status = :status, #history = list_append(if_not_exists(#history, :empty_list), :history_entry) "
        "REMOVE #claim_token ADD #seen_statuses :add_seen_statuses "
        "DELETE #pending_notifications :delete_pending_notifications"
    )
    assert update.names == {
        "#status": "status",
        "#history": "history",
        "#claim_token": "claim_token",
        "#seen_statuses": "seen_statuses",
        "#pending_notifications": "pending_notifications",
    }
    assert update.values[":history_entry"] == {"L": [{"M": {"status": {"S": "sending"}}}]}
    assert update.values[":add_seen_statuses"] == {"SS": ["sending"]}


def test_update_builder_sets_numbered_map_entries_and_appends_several_items() -> None:
    update = UpdateBuilder().set_in_map("started_at", 1, "t1").append_history({"event": "a"}, {"event": "b"})

    assert update.expression() == (
        "SET #started_at.#k1 = :started_at_1, "
        "#history = list_append(if_not_exists(#history, :empty_list), :history_entry)"
    )
    assert update.names["#k1"] == "1"
    assert len(update.values[":history_entry"]["L"]) == 2


# ------------------------------------------------------------------ conditional table: error mapping


@pytest.mark.parametrize("code", sorted(THROTTLING_CODES | UNAVAILABLE_CODES))
def test_throttling_that_outlasted_retries_becomes_service_unavailable(code: str) -> None:
    table = ConditionalTable(FailingClient(client_error(code)), "t", "pk")

    with pytest.raises(ServiceUnavailable) as raised:
        table.try_update("k", UpdateBuilder().set("a", 1), None)

    assert isinstance(raised.value.__cause__, ClientError)
    with pytest.raises(ServiceUnavailable):
        table.get("k")
    with pytest.raises(ServiceUnavailable):
        table.request("query", TableName="t")


def test_a_throttled_store_write_reaches_the_caller_as_service_unavailable() -> None:
    client = FailingClient(client_error("ProvisionedThroughputExceededException", "PutItem"))
    store = MessageStore(client, "messages", retention_seconds=60)
    message = OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint(type="sms", number="447700900000"),
        recipient=Endpoint(type="sms", number="447700900001"),
        content=Content(type="text", text="hi"),
        api_version=ApiVersion.V1,
    )

    with pytest.raises(ServiceUnavailable):
        store.create("uuid-1", message, Principal(api_key="k", application_id=None, auth_method="basic"))

    assert [operation for operation, _ in client.calls] == ["put_item"]


def test_other_errors_propagate_unchanged() -> None:
    table = ConditionalTable(FailingClient(client_error("ValidationException")), "t", "pk")

    with pytest.raises(ClientError) as raised:
        table.try_update("k", UpdateBuilder().set("a", 1), None)

    assert not is_condition_failure(raised.value)


def test_a_failed_condition_is_an_answer_with_the_item_as_found() -> None:
    found = {"pk": {"S": "k"}, "n": {"N": "2"}}
    client = FailingClient(client_error("ConditionalCheckFailedException", Item=found))
    table = ConditionalTable(client, "t", "pk")

    written, record = table.try_update("k", UpdateBuilder().set("n", 3), "#n = :n")

    assert (written, record) == (False, {"pk": "k", "n": 2})
    (operation, request), = client.calls
    assert operation == "update_item"
    assert request["ConditionExpression"] == "attribute_exists(pk) AND #n = :n"
    assert request["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_a_remove_only_update_sends_no_empty_value_map() -> None:
    client = FailingClient(client_error("ConditionalCheckFailedException", Item={"pk": {"S": "k"}}))

    ConditionalTable(client, "t", "pk").try_update("k", UpdateBuilder().remove("lease"), None)

    (_, request), = client.calls
    assert "ExpressionAttributeValues" not in request
    assert request["UpdateExpression"] == "REMOVE #lease"


# ------------------------------------------------------------------ conditional table on moto


def test_put_new_never_overwrites_and_update_of_a_missing_item_says_so(aws) -> None:
    from switchboard.adapters import aws_clients

    table = ConditionalTable(aws_clients.client("dynamodb"), aws.env["MESSAGES_TABLE"], "message_uuid")

    assert table.try_put_new({"message_uuid": "m1", "n": 1}) is True
    assert table.try_put_new({"message_uuid": "m1", "n": 2}) is False
    with pytest.raises(KeyError):
        table.put_new({"message_uuid": "m1"}, KeyError)
    assert table.get("m1") == {"message_uuid": "m1", "n": 1}
    assert table.try_update("absent", UpdateBuilder().set("n", 1), None) == (False, None)
    assert table.try_update("m1", UpdateBuilder().set("n", 5), None) == (True, {"message_uuid": "m1", "n": 5})


def test_an_update_whose_item_the_caller_does_not_need_asks_for_none(aws) -> None:
    from switchboard.adapters import aws_clients

    client = aws_clients.client("dynamodb")
    table = ConditionalTable(client, aws.env["MESSAGES_TABLE"], "message_uuid")
    table.put({"message_uuid": "m1", "n": 1, "lease": 9})
    requests: list[dict[str, Any]] = []
    event = "provide-client-params.dynamodb.UpdateItem"

    def record(params: dict[str, Any], **_: Any) -> None:
        requests.append(params)

    client.meta.events.register(event, record)
    try:
        assert table.try_update("m1", UpdateBuilder().set("n", 2).remove("lease"), None, returning=False) == (True, None)
        assert table.try_update("m1", UpdateBuilder().set("n", 3), "#n = :n", returning=False) == (False, None)
        assert table.try_update("absent", UpdateBuilder().set("n", 1), None, returning=False) == (False, None)
    finally:
        client.meta.events.unregister(event, record)

    assert table.get("m1") == {"message_uuid": "m1", "n": 2}
    assert [(r["ReturnValues"], r["ReturnValuesOnConditionCheckFailure"]) for r in requests] == [("NONE", "NONE")] * 3


def test_the_shared_clients_leave_parameter_validation_to_the_service(aws) -> None:
    """A request botocore's client-side validation would refuse (a number where a string belongs) is sent."""
    from botocore.awsrequest import AWSResponse

    from switchboard.adapters import aws_clients

    client = aws_clients.client("dynamodb")
    sent: list[bytes] = []

    class Raw:
        def stream(self, **_: Any) -> Any:
            yield b"{}"

    def answer(request: Any, **_: Any) -> AWSResponse:
        sent.append(request.body)
        return AWSResponse(request.url, 200, {}, Raw())

    client.meta.events.register_first("before-send.dynamodb.GetItem", answer)
    try:
        client.get_item(TableName=aws.env["MESSAGES_TABLE"], Key={"message_uuid": {"S": 5}})
    finally:
        client.meta.events.unregister("before-send.dynamodb.GetItem", answer)

    assert len(sent) == 1 and b'"S": 5' in sent[0]
