"""Message records in the MessagesTable (hash key ``message_uuid``).

A record is the message's canonical form (``OutboundMessage.to_item()``, flattened into the item, so
``OutboundMessage.from_item(record)`` rebuilds it) plus its bookkeeping:

- ``status``: accepted -> sending -> submitted (-> delivered/read/undeliverable), or rejected.
- ``history``: every status change, oldest first: ``{"status", "timestamp"}`` plus, where relevant,
  ``error``, ``attempt``, ``event`` and ``retry_in_seconds``.
- ``api_key``, ``application_id`` (JWT only), ``auth_method``: who sent it.
- ``created_at``, ``updated_at``: ISO-8601 UTC; ``expires_at``: epoch seconds, the table's TTL.
- ``attempts``: provider attempts so far (incremented by every claim).
- ``claim_token``, ``lease_expires_at`` (epoch seconds): present only while a sender holds the record.
- ``provider_message_id``, ``provider_ref`` (``"<channel>#<provider id>"``, the ProviderRefIndex key).
- ``error``: ``{"code", "reason"}`` when rejected; ``last_error`` for the latest transient failure;
  ``enqueue_failed``: true when the API could not queue the message.

Every change made on behalf of a sender is conditional on its claim token, so a worker that lost
its claim (lease expired and taken over) cannot overwrite what the new holder wrote.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from switchboard import aws, clock
from switchboard.config import settings
from switchboard.domain import status
from switchboard.domain.error_codes import error
from switchboard.domain.message import OutboundMessage, Principal
from switchboard.observability import logger

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

ENQUEUE_FAILED_CODE = 1030
_IN_PROGRESS = frozenset({status.ACCEPTED, status.SENDING})


class MessageAlreadyExists(Exception):
    """A record with this message uuid exists already (``create`` never overwrites)."""


class StaleClaim(Exception):
    """A conditional update lost: the record is no longer held under the given claim token."""


class ClaimState(Enum):
    CLAIMED = "claimed"  # the caller now holds the record
    MISSING = "missing"  # no record with this uuid
    FINAL = "final"  # past sending: nothing left to do
    IN_FLIGHT = "in_flight"  # another worker holds it under a live lease
    LEASE_EXPIRED = "lease_expired"  # held by a worker that died mid-send: the provider outcome is unknown


@dataclass(frozen=True)
class ClaimAttempt:
    state: ClaimState
    record: dict[str, Any] | None  # the claimed record (CLAIMED) or the record as found (otherwise)


def to_python(value: Any) -> Any:
    """DynamoDB numbers come back as ``Decimal``: integral ones become ``int``, others ``float``."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, set):
        return {to_python(v) for v in value}
    return value


def deserialize(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if not item:
        return None
    return to_python({k: _deserializer.deserialize(v) for k, v in item.items()})


def _serialize(value: Any) -> dict[str, Any]:
    return _serializer.serialize(value)


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _history_entry(state: str, timestamp: str, **details: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": state, "timestamp": timestamp}
    entry.update({k: v for k, v in details.items() if v is not None})
    return entry


class _Update:
    """Builds one UpdateItem: SET/REMOVE clauses, a history append and a condition, with placeholders."""

    def __init__(self) -> None:
        self._sets: list[str] = []
        self._removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attr: str) -> str:
        placeholder = f"#{attr}"
        self.names[placeholder] = attr
        return placeholder

    def value(self, key: str, value: Any) -> str:
        placeholder = f":{key}"
        self.values[placeholder] = _serialize(value)
        return placeholder

    def set(self, attr: str, value: Any) -> "_Update":
        self._sets.append(f"{self.name(attr)} = {self.value(attr, value)}")
        return self

    def set_expression(self, attr: str, expression: str) -> "_Update":
        self._sets.append(f"{self.name(attr)} = {expression}")
        return self

    def append_history(self, entry: dict[str, Any]) -> "_Update":
        history = self.name("history")
        self._sets.append(
            f"{history} = list_append(if_not_exists({history}, {self.value('empty_list', [])}), "
            f"{self.value('history_entry', [entry])})"
        )
        return self

    def remove(self, *attrs: str) -> "_Update":
        self._removes.extend(self.name(a) for a in attrs)
        return self

    def expression(self) -> str:
        parts = [f"SET {', '.join(self._sets)}"]
        if self._removes:
            parts.append(f"REMOVE {', '.join(self._removes)}")
        return " ".join(parts)


class MessageStore:
    def __init__(self, table_name: str | None = None) -> None:
        self.table_name = table_name or settings().messages_table
        self._client = aws.client("dynamodb")

    # ------------------------------------------------------------------ API side

    def create(self, message_uuid: str, message: OutboundMessage, principal: Principal) -> None:
        """Write a new ``accepted`` record; raises ``MessageAlreadyExists`` rather than overwrite one."""
        now = clock.now()
        timestamp = clock.iso(now)
        item: dict[str, Any] = {
            **message.to_item(),
            "message_uuid": message_uuid,
            "status": status.ACCEPTED,
            "history": [_history_entry(status.ACCEPTED, timestamp)],
            "api_key": principal.api_key,
            "auth_method": principal.auth_method,
            "attempts": 0,
            "created_at": timestamp,
            "updated_at": timestamp,
            "expires_at": int(now) + settings().retention_seconds,
        }
        if principal.application_id is not None:
            item["application_id"] = principal.application_id
        try:
            self._client.put_item(
                TableName=self.table_name,
                Item={k: _serialize(v) for k, v in item.items()},
                ConditionExpression="attribute_not_exists(message_uuid)",
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise MessageAlreadyExists(message_uuid) from exc
            raise

    def mark_enqueue_failed(self, message_uuid: str, detail: str) -> bool:
        """The enqueue failed: reject the record if it is still ``accepted``; True if it was rejected.

        False means the record moved on already: the enqueue did land (e.g. a timeout after SQS
        stored it) and a sender picked it up, so the message is on its way and must not be refused.
        """
        timestamp = clock.iso()
        err = error(ENQUEUE_FAILED_CODE, detail)
        update = (
            _Update()
            .set("status", status.REJECTED)
            .set("error", err)
            .set("enqueue_failed", True)
            .set("updated_at", timestamp)
            .append_history(_history_entry(status.REJECTED, timestamp, error=err, event="enqueue_failed"))
        )
        condition = f"{update.name('status')} = {update.value('expected_status', status.ACCEPTED)}"
        try:
            self._apply(message_uuid, update, condition)
        except StaleClaim:
            logger.warning(
                "enqueue failure not recorded: the message is no longer accepted",
                extra={"message_uuid": message_uuid},
            )
            return False
        return True

    def get(self, message_uuid: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self.table_name,
            Key={"message_uuid": {"S": message_uuid}},
            ConsistentRead=True,
        )
        return deserialize(response.get("Item"))

    # ------------------------------------------------------------------ sender side

    def claim(self, message_uuid: str, claim_token: str, lease_expires_at: int) -> ClaimAttempt:
        """Take an ``accepted`` record for sending (accepted -> sending, attempts + 1).

        One conditional UpdateItem: on success it returns the new record (no separate read); on
        failure it says why, from the record as DynamoDB found it.
        """
        timestamp = clock.iso()
        update = self._claim_update(claim_token, lease_expires_at, timestamp, event=None)
        condition = f"{update.name('status')} = {update.value('expected_status', status.ACCEPTED)}"
        try:
            return ClaimAttempt(ClaimState.CLAIMED, self._apply(message_uuid, update, condition, return_new=True))
        except StaleClaim as lost:
            current = lost.args[1] if len(lost.args) > 1 else None
            return ClaimAttempt(self._why_not_claimed(current), current)

    def take_over(
        self, message_uuid: str, expired_token: str, claim_token: str, lease_expires_at: int
    ) -> dict[str, Any]:
        """Claim a record whose holder's lease expired (sending -> sending under a new token)."""
        timestamp = clock.iso()
        update = self._claim_update(claim_token, lease_expires_at, timestamp, event="lease_expired_resend")
        condition = self._expired_claim_condition(update, expired_token)
        record = self._apply(message_uuid, update, condition, return_new=True)
        assert record is not None
        return record

    def reject_abandoned(self, message_uuid: str, expired_token: str, err: dict[str, Any]) -> None:
        """Reject a record whose holder's lease expired (the send must not be repeated)."""
        timestamp = clock.iso()
        update = self._final_update(status.REJECTED, timestamp, error=err, event="lease_expired").set("error", err)
        self._apply(message_uuid, update, self._expired_claim_condition(update, expired_token))

    def mark_submitted(
        self, message_uuid: str, claim_token: str, provider_message_id: str | None, provider_ref: str | None
    ) -> None:
        timestamp = clock.iso()
        update = self._final_update(status.SUBMITTED, timestamp)
        if provider_message_id is not None:
            update.set("provider_message_id", provider_message_id)
        if provider_ref is not None:
            update.set("provider_ref", provider_ref)
        self._apply(message_uuid, update, self._held_condition(update, claim_token))

    def mark_rejected(self, message_uuid: str, claim_token: str, err: dict[str, Any]) -> None:
        timestamp = clock.iso()
        update = self._final_update(status.REJECTED, timestamp, error=err).set("error", err)
        self._apply(message_uuid, update, self._held_condition(update, claim_token))

    def release_for_retry(
        self, message_uuid: str, claim_token: str, attempt: int, err: dict[str, Any], retry_in_seconds: int
    ) -> None:
        """Give the record back (sending -> accepted) after a transient failure, for a later attempt."""
        timestamp = clock.iso()
        update = (
            _Update()
            .set("status", status.ACCEPTED)
            .set("last_error", err)
            .set("updated_at", timestamp)
            .append_history(
                _history_entry(
                    status.ACCEPTED,
                    timestamp,
                    event="retry_scheduled",
                    attempt=attempt,
                    error=err,
                    retry_in_seconds=retry_in_seconds,
                )
            )
            .remove("claim_token", "lease_expires_at")
        )
        self._apply(message_uuid, update, self._held_condition(update, claim_token))

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _claim_update(claim_token: str, lease_expires_at: int, timestamp: str, event: str | None) -> _Update:
        update = _Update()
        attempts = update.name("attempts")
        return (
            update.set("status", status.SENDING)
            .set("claim_token", claim_token)
            .set("lease_expires_at", lease_expires_at)
            .set("updated_at", timestamp)
            .set_expression(
                "attempts", f"if_not_exists({attempts}, {update.value('zero', 0)}) + {update.value('one', 1)}"
            )
            .append_history(_history_entry(status.SENDING, timestamp, event=event))
        )

    @staticmethod
    def _final_update(state: str, timestamp: str, **details: Any) -> _Update:
        return (
            _Update()
            .set("status", state)
            .set("updated_at", timestamp)
            .append_history(_history_entry(state, timestamp, **details))
            .remove("claim_token", "lease_expires_at")
        )

    @staticmethod
    def _held_condition(update: _Update, claim_token: str) -> str:
        return (
            f"{update.name('status')} = {update.value('expected_status', status.SENDING)} "
            f"AND {update.name('claim_token')} = {update.value('expected_token', claim_token)}"
        )

    @staticmethod
    def _expired_claim_condition(update: _Update, expired_token: str) -> str:
        return (
            f"{MessageStore._held_condition(update, expired_token)} "
            f"AND {update.name('lease_expires_at')} <= {update.value('now', int(clock.now()))}"
        )

    @staticmethod
    def _why_not_claimed(current: dict[str, Any] | None) -> ClaimState:
        if current is None:
            return ClaimState.MISSING
        state = current.get("status")
        if state not in _IN_PROGRESS:
            return ClaimState.FINAL
        if state == status.SENDING and int(current.get("lease_expires_at", 0)) <= clock.now():
            return ClaimState.LEASE_EXPIRED
        # sending under a live lease, or accepted again by the time we looked (released for a retry)
        return ClaimState.IN_FLIGHT

    def _apply(
        self, message_uuid: str, update: _Update, condition: str, return_new: bool = False
    ) -> dict[str, Any] | None:
        """Run the update; on a failed condition raise ``StaleClaim(uuid, record as found)``."""
        try:
            response = self._client.update_item(
                TableName=self.table_name,
                Key={"message_uuid": {"S": message_uuid}},
                UpdateExpression=update.expression(),
                ConditionExpression=f"attribute_exists(message_uuid) AND {condition}",
                ExpressionAttributeNames=update.names,
                ExpressionAttributeValues=update.values,
                ReturnValues="ALL_NEW" if return_new else "NONE",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise
            found = exc.response.get("Item")
            current = deserialize(found) if found else self.get(message_uuid)
            raise StaleClaim(message_uuid, current) from exc
        return deserialize(response.get("Attributes")) if return_new else None
