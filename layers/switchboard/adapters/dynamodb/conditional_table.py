"""One DynamoDB table under one string hash key: conditional puts and updates, reads, and errors.

Every store runs its requests here, so DynamoDB's errors mean the same thing everywhere:

- a failed condition (``ConditionalCheckFailedException``) is an answer, not an error:
  ``try_put_new`` / ``try_update`` return it, ``put_new`` raises the caller's domain error;
- throttling that outlasted botocore's retries (``THROTTLING_CODES``), and DynamoDB's own
  transient failures that did (``UNAVAILABLE_CODES``: a 500 or 503 from DynamoDB, whose write may
  or may not have been applied), become ``ServiceUnavailable`` (HTTP 503 with ``Retry-After`` on
  the API, a retry for queues and provider webhooks), not an "unexpected" 500;
- anything else propagates unchanged.

Conditions stay strings over the placeholders of ``UpdateBuilder``: the low-level client takes
expression strings, and ``boto3.dynamodb.conditions`` would rename every placeholder (and change
the requests) for no gain in the simple ``attribute_not_exists(<key>)`` puts.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from switchboard.adapters.dynamodb.codec import deserialize, serialize_item
from switchboard.adapters.dynamodb.update_builder import UpdateBuilder
from switchboard.domain.errors import ServiceUnavailable

CONDITION_FAILED = "ConditionalCheckFailedException"
THROTTLING_CODES = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
)
UNAVAILABLE_CODES = frozenset({"InternalServerError", "ServiceUnavailable"})
BUSY_DETAIL = "The data store is busy; please retry."
UNAVAILABLE_DETAIL = "The data store is unavailable; please retry."


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def is_condition_failure(exc: ClientError) -> bool:
    return error_code(exc) == CONDITION_FAILED


@contextmanager
def dynamodb_errors() -> Iterator[None]:
    """Throttling and transient failures that botocore's retries did not absorb become ``ServiceUnavailable``."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in THROTTLING_CODES:
            raise ServiceUnavailable(BUSY_DETAIL) from exc
        if error_code(exc) in UNAVAILABLE_CODES:
            raise ServiceUnavailable(UNAVAILABLE_DETAIL) from exc
        raise


class ConditionalTable:
    def __init__(self, client: Any, table_name: str, key_name: str) -> None:
        self.client = client
        self.table_name = table_name
        self.key_name = key_name

    def key(self, key: str) -> dict[str, Any]:
        return {self.key_name: {"S": key}}

    def request(self, operation: str, **kwargs: Any) -> Any:
        """Any other client call (query, scan, transaction, ...), with throttling mapped."""
        with dynamodb_errors():
            return getattr(self.client, operation)(**kwargs)

    def put(self, item: dict[str, Any]) -> None:
        """Unconditional put (overwrites)."""
        self.request("put_item", TableName=self.table_name, Item=serialize_item(item))

    def try_put_new(self, item: dict[str, Any]) -> bool:
        """Put ``item`` unless an item with its key exists; False if one does."""
        try:
            self.request(
                "put_item",
                TableName=self.table_name,
                Item=serialize_item(item),
                ConditionExpression=f"attribute_not_exists({self.key_name})",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise
        return True

    def put_new(self, item: dict[str, Any], already_exists: Callable[[str], Exception]) -> None:
        """Put ``item`` unless its key is taken; raises ``already_exists(key)`` if it is."""
        if not self.try_put_new(item):
            raise already_exists(item[self.key_name])

    def get_raw(self, key: str, consistent: bool = True, projection: str | None = None) -> dict[str, Any] | None:
        """The item in DynamoDB's attribute-value format, or None."""
        kwargs: dict[str, Any] = {"TableName": self.table_name, "Key": self.key(key)}
        if consistent:
            kwargs["ConsistentRead"] = True
        if projection is not None:
            kwargs["ProjectionExpression"] = projection
        response: dict[str, Any] = self.request("get_item", **kwargs)
        return response.get("Item")

    def get(self, key: str, consistent: bool = True) -> dict[str, Any] | None:
        """The item as plain Python values, or None."""
        return deserialize(self.get_raw(key, consistent))

    def try_update(
        self, key: str, update: UpdateBuilder, condition: str | None, returning: bool = True
    ) -> tuple[bool, dict[str, Any] | None]:
        """Run ``update`` if the item exists and ``condition`` holds.

        ``(True, item after)``, or ``(False, item as found)`` when the condition failed, with
        ``None`` for a missing item. Without ``returning`` the item is neither asked for nor
        decoded (it is ``None`` either way): a whole message record is the largest part of an
        UpdateItem's answer, and parsing it costs the caller CPU time for nothing.
        """
        full_condition = f"attribute_exists({self.key_name})" + (f" AND {condition}" if condition else "")
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "Key": self.key(key),
            "UpdateExpression": update.expression(),
            "ConditionExpression": full_condition,
            "ExpressionAttributeNames": update.names,
            "ReturnValues": "ALL_NEW" if returning else "NONE",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD" if returning else "NONE",
        }
        if update.values:  # DynamoDB refuses an empty map (a REMOVE-only update has no values)
            kwargs["ExpressionAttributeValues"] = update.values
        try:
            response = self.request("update_item", **kwargs)
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            if not returning:
                return False, None
            found = exc.response.get("Item")
            return False, deserialize(found) if found else self.get(key)
        return True, deserialize(response.get("Attributes")) if returning else None
