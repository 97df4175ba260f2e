"""The stack's message and workflow records and its channels secret, read through boto3 (the moto endpoint).

Records come back as plain JSON values: DynamoDB numbers as ``int`` or ``float``, sets as sorted lists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer

from local_stack.console.state import StackState
from switchboard.domain.outbox_markers import WEBHOOK_ATTEMPTS_KIND, WEBHOOK_ATTEMPTS_PREFIX
from local_stack.template import LOCAL_REGION
from switchboard.domain.message_record import SMS_PART_COUNT, part_key

LOCAL_CREDENTIALS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
_deserializer = TypeDeserializer()


def plain(value: Any) -> Any:
    """A DynamoDB value as JSON would hold it."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("utf-8", errors="replace")
    return value


def item_to_record(item: dict[str, Any]) -> dict[str, Any]:
    return {name: plain(_deserializer.deserialize(value)) for name, value in item.items()}


def _with_attempts(record: dict[str, Any], attempts: list[Any] | None) -> dict[str, Any]:
    """The record as the console shows it: its webhook attempts under ``webhook_attempts``."""
    if not attempts:
        return record
    return {**record, "webhook_attempts": [*(record.get("webhook_attempts") or []), *attempts]}


class StackTables:
    def __init__(self, state: StackState, session: boto3.session.Session | None = None) -> None:
        self.state = state
        session = session or boto3.session.Session()
        credentials = LOCAL_CREDENTIALS if state.aws_endpoint_url else {}
        options: dict[str, Any] = {"region_name": LOCAL_REGION, **credentials}
        if state.aws_endpoint_url:
            options["endpoint_url"] = state.aws_endpoint_url
        self._dynamodb = session.client("dynamodb", **options)
        self._secrets = session.client("secretsmanager", **options)

    def messages(self) -> list[dict[str, Any]]:
        """Every item of the MessagesTable, each record with its webhook attempts (kept in their own item)."""
        items = list(self._scan(self.state.messages_table))
        attempts = {
            str(item["message_uuid"]).removeprefix(WEBHOOK_ATTEMPTS_PREFIX): item.get("webhook_attempts") or []
            for item in items
            if item.get("kind") == WEBHOOK_ATTEMPTS_KIND
        }
        return [_with_attempts(item, attempts.get(str(item.get("message_uuid")))) for item in items]

    def message(self, message_uuid: str) -> dict[str, Any] | None:
        record = self._get(self.state.messages_table, "message_uuid", message_uuid)
        if record is None:
            return None
        attempts = self._get(self.state.messages_table, "message_uuid", WEBHOOK_ATTEMPTS_PREFIX + message_uuid)
        return _with_attempts(record, (attempts or {}).get("webhook_attempts"))

    def sms_part_ids(self, record: dict[str, Any]) -> list[str]:
        """The provider ids of a multipart SMS's later parts, from their index items (none for one part)."""
        ids = []
        for part in range(1, int(record.get(SMS_PART_COUNT) or 1)):
            item = self.message(part_key(str(record["message_uuid"]), part))
            if item and isinstance(item.get("provider_ref"), str):
                ids.append(item["provider_ref"].partition("#")[2])
        return ids

    def workflows(self) -> list[dict[str, Any]]:
        return list(self._scan(self.state.workflows_table))

    def workflow(self, workflow_uuid: str) -> dict[str, Any] | None:
        return self._get(self.state.workflows_table, "workflow_uuid", workflow_uuid)

    def change_markers(self) -> list[Any]:
        """What changes whenever a message or workflow does: keys, statuses, times, webhook attempts."""
        messages = self._scan(
            self.state.messages_table,
            ProjectionExpression="message_uuid, updated_at, #status, webhook_attempts",
            ExpressionAttributeNames={"#status": "status"},
        )
        workflows = self._scan(
            self.state.workflows_table,
            ProjectionExpression="workflow_uuid, updated_at, #status, current_step",
            ExpressionAttributeNames={"#status": "status"},
        )
        return sorted((json.dumps(item, sort_keys=True) for item in [*messages, *workflows]))

    def channels_secret(self) -> dict[str, Any]:
        value = self._secrets.get_secret_value(SecretId=self.state.channels_secret_arn)["SecretString"]
        secret = json.loads(value)
        return secret if isinstance(secret, dict) else {}

    def _scan(self, table: str, **options: Any) -> Iterator[dict[str, Any]]:
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=table, **options):
            for item in page.get("Items", []):
                yield item_to_record(item)

    def _get(self, table: str, key: str, value: str) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(TableName=table, Key={key: {"S": value}}, ConsistentRead=True).get("Item")
        return item_to_record(item) if item else None
