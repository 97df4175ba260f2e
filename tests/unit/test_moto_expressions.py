"""moto's update and condition expressions, parsed once per text, give moto's own answers and errors."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_stack import moto_expressions, moto_speedups
from tests.support.moto_table import sped_up_table

KEY = {"pk": {"S": "m-1"}}
ITEM = {
    "pk": {"S": "m-1"},
    "status": {"S": "accepted"},
    "attempts": {"N": "0"},
    "tags": {"SS": ["a", "b"]},
    "content": {"M": {"text": {"S": "héllo"}, "parts": {"L": [{"N": "1"}, {"S": "two"}]}}},
}

# (UpdateExpression, ConditionExpression or None, names, values): valid ones and each kind of refusal.
UPDATES: list[tuple[str, str | None, dict[str, str], dict[str, Any]]] = [
    (
        "SET #s = :s, #a = if_not_exists(#a, :zero) + :one, #h = list_append(if_not_exists(#h, :empty), :entry)",
        "attribute_exists(pk) AND #s = :expected",
        {"#s": "status", "#a": "attempts", "#h": "history"},
        {":s": {"S": "sent"}, ":zero": {"N": "0"}, ":one": {"N": "1"}, ":empty": {"L": []},
         ":entry": {"L": [{"M": {"status": {"S": "sent"}}}]}, ":expected": {"S": "accepted"}},
    ),
    (
        "SET content.#t = :t, content.parts[1] = :p REMOVE #x ADD #seen :seen DELETE tags :gone",
        "#s IN (:a, :b) AND NOT contains(#seen, :new) AND size(content.parts) BETWEEN :lo AND :hi",
        {"#t": "text", "#x": "nothing", "#seen": "seen", "#s": "status"},
        {":t": {"S": "bye"}, ":p": {"S": "2"}, ":seen": {"SS": ["delivered"]}, ":gone": {"SS": ["a"]},
         ":a": {"S": "sent"}, ":b": {"S": "accepted"}, ":new": {"S": "read"}, ":lo": {"N": "1"}, ":hi": {"N": "5"}},
    ),
    ("SET #s = :s", "#s = :other", {"#s": "status"}, {":s": {"S": "read"}, ":other": {"S": "nope"}}),  # condition fails
    ("SET a = :a SET b = :b", None, {}, {":a": {"S": "1"}, ":b": {"S": "2"}}),  # two SET clauses
    ("SET #s = :a, #s = :b", None, {"#s": "status"}, {":a": {"S": "1"}, ":b": {"S": "2"}}),  # one path twice
    ("SET content.#t = :a, content = :b", None, {"#t": "text"}, {":a": {"S": "1"}, ":b": {"S": "2"}}),  # overlap
    ("SET pk = :p", None, {}, {":p": {"S": "other"}}),  # a key attribute
    ("SET #s = :s", None, {"#s": "status"}, {":s": {"S": "x"}, ":unused": {"S": "y"}}),  # a value not used
    ("SET #s = :missing", None, {"#s": "status"}, {":s": {"S": "x"}}),  # a value not given
    ("ADD #s :one", None, {"#s": "status"}, {":one": {"N": "1"}}),  # ADD to a string
    ("SET #s = = :s", None, {"#s": "status"}, {":s": {"S": "x"}}),  # not an expression
    ("SET attempts = attempts + :one", "attempts < :limit OR attribute_not_exists(attempts)", {},
     {":one": {"N": "1"}, ":limit": {"N": "3"}}),
]


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with sped_up_table() as client:
        yield client


def _answers(client: Any) -> list[Any]:
    """Each update applied to a fresh copy of ITEM and to a missing item: the answer or moto's error."""
    answers: list[Any] = []
    for expression, condition, names, values in UPDATES:
        for existing in (True, False):
            if existing:
                client.put_item(TableName="t", Item=ITEM)
            else:
                client.delete_item(TableName="t", Key=KEY)
            request: dict[str, Any] = {"TableName": "t", "Key": KEY, "UpdateExpression": expression,
                                       "ExpressionAttributeValues": values, "ReturnValues": "ALL_NEW"}
            if names:
                request["ExpressionAttributeNames"] = names
            if condition:
                request["ConditionExpression"] = condition
            try:
                answer = client.update_item(**request)
                answer.pop("ResponseMetadata")
                answers.append(answer)
            except ClientError as error:
                answers.append((error.response["Error"]["Code"], error.response["Error"]["Message"]))
            answers.append(client.get_item(TableName="t", Key=KEY).get("Item"))
    return answers


def test_updates_and_their_errors_are_moto_s_own(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _answers(dynamodb)
    again = _answers(dynamodb)  # every text parsed, lexed and checked before: the remembered paths
    with monkeypatch.context() as moto_s_own:
        for (owner, name), original in moto_expressions.ORIGINALS.items():
            moto_s_own.setattr(owner, name, original)
        expected = _answers(dynamodb)

    assert first == expected
    assert again == expected
    assert sum(isinstance(answer, tuple) for answer in expected) >= 14  # the refusals are in the comparison


def test_a_text_is_parsed_once_and_the_validator_gets_a_copy(dynamodb: Any) -> None:
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser
    from moto.dynamodb.parsing.validators import Validator

    text = "SET #s = :s"
    tree = UpdateExpressionParser.make(text)
    assert UpdateExpressionParser.make(text) is tree
    validator = Validator.__new__(Validator)
    Validator.__init__(validator, tree, {"#s": "status"}, {":s": {"S": "x"}}, None, None)  # type: ignore[arg-type]
    assert validator.node_to_validate is not tree
    assert type(validator.node_to_validate) is type(tree)


def test_the_caches_stay_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    moto_speedups.install()
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser

    monkeypatch.setattr(moto_expressions, "MAX_REMEMBERED", 3)
    for i in range(10):
        UpdateExpressionParser.make(f"SET a{i} = :v")
    assert len(moto_expressions._parsed) <= 3  # noqa: SLF001
