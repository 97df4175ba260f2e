"""Message records in the MessagesTable (hash key ``message_uuid``).

A record is the message's canonical form (``OutboundMessage.to_item()``, flattened into the item, so
``OutboundMessage.from_item(record)`` rebuilds it) plus its bookkeeping:

- ``status``: accepted -> sending -> submitted (-> delivered -> read), or rejected; receipts can
  also end a submitted or delivered message as undeliverable or rejected (``apply_status``).
- ``history``: every status change, oldest first: ``{"status", "timestamp"}`` plus, where relevant,
  ``error``, ``attempt``, ``event``, ``retry_in_seconds``, ``occurred_at`` (the provider's time of a
  receipt) and ``"late": true`` (a receipt for a status the message was already past). One entry
  is not a status change: ``{"timestamp", "event": "webhook_undeliverable", "webhook", "attempts"}``
  when a customer webhook was given up on after 24 hours.
- ``api_key``, ``application_id`` (JWT only), ``auth_method``: who sent it.
- ``created_at``, ``updated_at``: ISO-8601 UTC; ``expires_at``: epoch seconds, the table's TTL.
- ``attempts``: provider attempts so far (incremented by every claim).
- ``claim_token``, ``lease_expires_at`` (epoch seconds): present only while a sender holds the record.
- ``provider_message_id``, ``provider_ref`` (``"<channel>#<provider id>"``, the ProviderRefIndex key).
- ``error``: ``{"code", "reason"}`` when rejected or undeliverable; ``last_error`` for the latest
  transient failure; ``enqueue_failed``: true when the API could not queue the message.
- ``conversation`` (``"messenger#<page id>#<psid>"``) and ``sent_at_ms`` (epoch ms, taken just
  before the provider call): Messenger only, the ConversationIndex key that watermarks query.
- ``seen_statuses``: string set of every public status recorded so far, applied or late. Every
  status write is conditional on its status not being in it, so a repeated receipt changes nothing.
- ``pending_notifications``: string set of customer webhooks a status write decided on but that
  are not yet on the NotifyQueue (``"status:<status>"``, ``"inbound"``): the outbox, see
  ``switchboard.notifications.outbox``. ``notify_lease_<marker>`` (epoch seconds) goes with each:
  until then only the writer that added the marker may queue it.
- ``webhook_attempts``: every delivery attempt of a customer webhook (see ``record_webhook_attempt``).

Inbound records (``direction`` = ``"inbound"``, written by ``create_inbound``) hold what a user
sent to a customer: ``channel``, ``from`` (the user), ``to`` (the customer's page, service or
number), ``content``, ``timestamp``, ``status`` = ``"received"``, ``api_key``, ``application_id``,
``provider_message_id``, ``history``, ``expires_at``. Outbound records have no ``direction``.

Every change made on behalf of a sender is conditional on its claim token, so a worker that lost
its claim (lease expired and taken over) cannot overwrite what the new holder wrote. Receipt
writes (``apply_status``) are conditional on the current status and ``seen_statuses``.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from switchboard import aws, clock
from switchboard.config import settings
from switchboard.domain import status
from switchboard.domain.error_codes import INTERNAL_ERROR, error
from switchboard.domain.message import OutboundMessage, Principal
from switchboard.domain.message_record import (  # noqa: F401 -- re-exported until the restructuring completes
    CONVERSATION_INDEX,
    INBOUND_DIRECTION,
    PROVIDER_REF_INDEX,
    RECEIVED,
    ClaimAttempt,
    ClaimState,
    MessageAlreadyExists,
    StaleClaim,
    StatusWrite,
    StatusWriteOutcome,
    transition_entry,
)
from switchboard.domain.outbox_markers import (  # noqa: F401 -- re-exported until the restructuring completes
    INBOUND_NOTIFICATION,
    NOTIFY_LEASE_SECONDS,
    LeaseState,
    NotifyLease,
    lease_until,
    notify_lease_attribute,
    status_notification,
)
from switchboard.domain.provider_events import InboundMessage
from switchboard.observability import logger

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

_IN_PROGRESS = frozenset({status.ACCEPTED, status.SENDING})

_DEDUPE_PREFIX = "inbound-dedupe#"
# Each round of apply_status follows a status change made under it; statuses only move forward.
_MAX_STATUS_ROUNDS = 8


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
    return _serializer.serialize(_with_decimals(value))


def _with_decimals(value: Any) -> Any:
    """boto3 refuses floats: store them as the Decimal of their shortest repr."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _with_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_decimals(v) for v in value]
    return value


def _is_condition_failure(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


def _history_entry(state: str, timestamp: str, **details: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"status": state, "timestamp": timestamp}
    entry.update({k: v for k, v in details.items() if v is not None})
    return entry


class _Update:
    """Builds one UpdateItem: SET/REMOVE/ADD/DELETE clauses and list appends, with placeholders."""

    def __init__(self) -> None:
        self._sets: list[str] = []
        self._removes: list[str] = []
        self._adds: list[str] = []
        self._deletes: list[str] = []
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
        return self.append("history", entry)

    def append(self, attr: str, item: dict[str, Any]) -> "_Update":
        target = self.name(attr)
        self._sets.append(
            f"{target} = list_append(if_not_exists({target}, {self.value('empty_list', [])}), "
            f"{self.value(f'{attr}_entry', [item])})"
        )
        return self

    def remove(self, *attrs: str) -> "_Update":
        self._removes.extend(self.name(a) for a in attrs)
        return self

    def add_to_set(self, attr: str, *members: str) -> "_Update":
        self._adds.append(f"{self.name(attr)} {self.value(f'add_{attr}', set(members))}")
        return self

    def delete_from_set(self, attr: str, *members: str) -> "_Update":
        self._deletes.append(f"{self.name(attr)} {self.value(f'delete_{attr}', set(members))}")
        return self

    def notify(self, state: str, lease_until: int, notify: bool = True) -> "_Update":
        """Record ``state`` as seen and, with ``notify``, mark its webhook pending under a lease."""
        self.add_to_set("seen_statuses", state)
        if notify:
            marker = status_notification(state)
            self.add_to_set("pending_notifications", marker)
            self.set(notify_lease_attribute(marker), lease_until)
        return self

    def expression(self) -> str:
        parts = []
        for keyword, clauses in (("SET", self._sets), ("REMOVE", self._removes), ("ADD", self._adds),
                                 ("DELETE", self._deletes)):
            if clauses:
                parts.append(f"{keyword} {', '.join(clauses)}")
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
        err = error(INTERNAL_ERROR, detail)
        update = (
            _Update()
            .set("status", status.REJECTED)
            .set("error", err)
            .set("enqueue_failed", True)
            .set("updated_at", timestamp)
            .append_history(_history_entry(status.REJECTED, timestamp, error=err, event="enqueue_failed"))
            # The client was answered 503 ("not sent"), so no status webhook follows.
            .notify(status.REJECTED, 0, notify=False)
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

    def reject_abandoned(self, message_uuid: str, expired_token: str, err: dict[str, Any]) -> dict[str, Any]:
        """Reject a record whose holder's lease expired (the send must not be repeated).

        Like every final write of the sender, it marks the status webhook pending and returns the
        new record, from which the caller publishes it.
        """
        timestamp = clock.iso()
        update = self._final_update(status.REJECTED, timestamp, error=err, event="lease_expired").set("error", err)
        return self._final(message_uuid, update, self._expired_claim_condition(update, expired_token))

    def mark_submitted(
        self,
        message_uuid: str,
        claim_token: str,
        provider_message_id: str | None,
        provider_ref: str | None,
        conversation: str | None = None,
        sent_at_ms: int | None = None,
    ) -> dict[str, Any]:
        """``sending`` -> ``submitted``; ``conversation`` and ``sent_at_ms`` index Messenger sends for watermarks."""
        timestamp = clock.iso()
        update = self._final_update(status.SUBMITTED, timestamp)
        optional = {
            "provider_message_id": provider_message_id,
            "provider_ref": provider_ref,
            "conversation": conversation,
            "sent_at_ms": sent_at_ms,
        }
        for attr, value in optional.items():
            if value is not None:
                update.set(attr, value)
        return self._final(message_uuid, update, self._held_condition(update, claim_token))

    def mark_rejected(self, message_uuid: str, claim_token: str, err: dict[str, Any]) -> dict[str, Any]:
        timestamp = clock.iso()
        update = self._final_update(status.REJECTED, timestamp, error=err).set("error", err)
        return self._final(message_uuid, update, self._held_condition(update, claim_token))

    def _final(self, message_uuid: str, update: _Update, condition: str) -> dict[str, Any]:
        record = self._apply(message_uuid, update, condition, return_new=True)
        assert record is not None
        return record

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

    # ------------------------------------------------------------------ receipts (status state machine)

    def apply_status(
        self,
        message_uuid: str,
        new_status: str,
        allowed_from: Collection[str],
        occurred_at: float,
        error: dict[str, Any] | None = None,
        event: str | None = None,
    ) -> StatusWrite:
        """Move the record to ``new_status`` if it is in one of ``allowed_from`` and the status is new.

        One conditional UpdateItem changes the status, adds it to ``seen_statuses``, appends the
        history entry and marks its webhook pending (``status_notification(new_status)`` plus its
        lease). If the record is already past ``new_status`` the status is recorded as late
        (history entry with ``"late": true`` and ``seen_statuses``), without changing the status or
        marking a webhook. A status already in ``seen_statuses`` writes nothing. ``occurred_at`` is
        when the provider says it happened; it becomes the entry's ``occurred_at`` and the webhook's
        ``timestamp``.
        """
        occurred_at_iso = clock.iso(occurred_at)
        for _ in range(_MAX_STATUS_ROUNDS):
            timestamp = clock.iso()
            entry = _history_entry(new_status, timestamp, occurred_at=occurred_at_iso, error=error, event=event)
            update = _Update().set("status", new_status).set("updated_at", timestamp).append_history(entry)
            if error is not None:
                update.set("error", error)
            update.notify(new_status, lease_until())
            condition = f"{self._status_in(update, allowed_from)} AND {self._not_seen(update, new_status)}"
            written, record = self._try_update(message_uuid, update, condition)
            if written:
                return StatusWrite(StatusWriteOutcome.APPLIED, record)
            if record is None:
                return StatusWrite(StatusWriteOutcome.MISSING, None)
            if new_status in _seen(record):
                return StatusWrite(StatusWriteOutcome.DUPLICATE, record)
            current = record.get("status")
            if current in allowed_from:
                continue  # changed between the condition check and our read: decide again
            if current in _IN_PROGRESS:
                return StatusWrite(StatusWriteOutcome.NOT_READY, record)
            late = (
                _Update()
                .set("updated_at", timestamp)
                .append_history({**entry, "late": True})
                .notify(new_status, 0, notify=False)
            )
            condition = (
                f"{late.name('status')} = {late.value('expected_status', current)} "
                f"AND {self._not_seen(late, new_status)}"
            )
            written, record = self._try_update(message_uuid, late, condition)
            if written:
                return StatusWrite(StatusWriteOutcome.LATE, record)
            if record is None:
                return StatusWrite(StatusWriteOutcome.MISSING, None)
        raise RuntimeError(f"message {message_uuid} kept changing while recording {new_status}")

    def message_uuids_by_provider_ref(self, provider_ref: str) -> list[str]:
        """The messages the ProviderRefIndex has for ``provider_ref`` (eventually consistent)."""
        response = self._client.query(
            TableName=self.table_name,
            IndexName=PROVIDER_REF_INDEX,
            KeyConditionExpression="provider_ref = :ref",
            ExpressionAttributeValues={":ref": {"S": provider_ref}},
        )
        return [item["message_uuid"]["S"] for item in response.get("Items", [])]

    def conversation_message_uuids(
        self, conversation: str, sent_up_to_ms: int, page_size: int = 25
    ) -> Iterator[list[str]]:
        """Pages of the conversation's messages sent at or before ``sent_up_to_ms``, newest first."""
        start_key: dict[str, Any] | None = None
        while True:
            kwargs: dict[str, Any] = {
                "TableName": self.table_name,
                "IndexName": CONVERSATION_INDEX,
                "KeyConditionExpression": "conversation = :conversation AND sent_at_ms <= :watermark",
                "ExpressionAttributeValues": {
                    ":conversation": {"S": conversation},
                    ":watermark": {"N": str(int(sent_up_to_ms))},
                },
                "ScanIndexForward": False,
                "Limit": page_size,
            }
            if start_key:
                kwargs["ExclusiveStartKey"] = start_key
            response = self._client.query(**kwargs)
            page = [item["message_uuid"]["S"] for item in response.get("Items", [])]
            if page:
                yield page
            start_key = response.get("LastEvaluatedKey")
            if not start_key:
                return

    # ------------------------------------------------------------------ outbox and webhook attempts

    def take_notify_lease(self, message_uuid: str, marker: str) -> NotifyLease:
        """Take the lease of a pending marker whose lease ran out (its writer failed to queue it)."""
        update = _Update()
        lease = update.name(notify_lease_attribute(marker))
        update.set(notify_lease_attribute(marker), lease_until())
        condition = (
            f"contains({update.name('pending_notifications')}, {update.value('marker', marker)}) "
            f"AND (attribute_not_exists({lease}) OR {lease} <= {update.value('now', int(clock.now()))})"
        )
        written, record = self._try_update(message_uuid, update, condition)
        if written:
            return NotifyLease(LeaseState.TAKEN, record)
        if record is None:
            return NotifyLease(LeaseState.MISSING, None)
        if marker not in (record.get("pending_notifications") or ()):
            return NotifyLease(LeaseState.NOT_PENDING, record)
        return NotifyLease(LeaseState.HELD, record)

    def clear_notification(self, message_uuid: str, marker: str) -> None:
        """The notification is on the queue: drop its marker and lease."""
        update = _Update().delete_from_set("pending_notifications", marker).remove(notify_lease_attribute(marker))
        self._try_update(message_uuid, update, None)

    def release_notify_lease(self, message_uuid: str, marker: str, lease_until: int) -> None:
        """Give up a lease after failing to queue, so a retry need not wait for it to run out."""
        update = _Update()
        lease = update.name(notify_lease_attribute(marker))
        update.remove(notify_lease_attribute(marker))
        self._try_update(message_uuid, update, f"{lease} = {update.value('held_until', lease_until)}")

    def record_webhook_attempt(
        self, message_uuid: str, attempt: dict[str, Any], history_note: dict[str, Any] | None = None
    ) -> bool:
        """Append to ``webhook_attempts`` (and ``history_note`` to history); False if there is no record."""
        update = _Update().append("webhook_attempts", attempt)
        if history_note is not None:
            update.append_history(history_note)
        written, _ = self._try_update(message_uuid, update, None)
        return written

    # ------------------------------------------------------------------ inbound messages

    def create_inbound(
        self,
        message_uuid: str,
        inbound: InboundMessage,
        api_key: str,
        application_id: str | None,
        dedupe_key: str | None,
    ) -> dict[str, Any] | None:
        """Record an inbound message with its webhook marked pending; returns the record.

        With ``dedupe_key`` (e.g. ``"messenger#<mid>"``) a second record for the same key and
        account is never created: the record and a marker item ``inbound-dedupe#<api_key>#<key>``
        (holding ``record_uuid``) are written in one transaction, and ``None`` is returned when the
        marker exists. ``find_inbound`` finds the first record. Raises ``MessageAlreadyExists`` if
        ``message_uuid`` is taken.
        """
        now = clock.now()
        timestamp = clock.iso(now)
        until = lease_until()
        expires_at = int(now) + settings().retention_seconds
        item: dict[str, Any] = {
            "message_uuid": message_uuid,
            "direction": INBOUND_DIRECTION,
            "channel": inbound.channel.value,
            "from": inbound.sender.to_dict(),
            "to": inbound.recipient.to_dict(),
            "content": inbound.content,
            "timestamp": clock.iso(inbound.occurred_at),
            "status": RECEIVED,
            "history": [_history_entry(RECEIVED, timestamp)],
            "api_key": api_key,
            "created_at": timestamp,
            "updated_at": timestamp,
            "expires_at": expires_at,
            "pending_notifications": {INBOUND_NOTIFICATION},
            notify_lease_attribute(INBOUND_NOTIFICATION): until,
        }
        optional = {
            "application_id": application_id,
            "provider_message_id": inbound.provider_message_id,
            "dedupe_key": dedupe_key,
        }
        item.update({k: v for k, v in optional.items() if v is not None})
        record_put = {
            "TableName": self.table_name,
            "Item": {k: _serialize(v) for k, v in item.items()},
            "ConditionExpression": "attribute_not_exists(message_uuid)",
        }
        if dedupe_key is None:
            try:
                self._client.put_item(**record_put)
            except ClientError as exc:
                if _is_condition_failure(exc):
                    raise MessageAlreadyExists(message_uuid) from exc
                raise
            return deserialize({k: _serialize(v) for k, v in item.items()})
        marker = {
            "message_uuid": _dedupe_item_key(api_key, dedupe_key),
            "kind": "inbound_dedupe",
            "record_uuid": message_uuid,
            "expires_at": expires_at,
        }
        marker_put = {
            "TableName": self.table_name,
            "Item": {k: _serialize(v) for k, v in marker.items()},
            "ConditionExpression": "attribute_not_exists(message_uuid)",
        }
        try:
            self._client.transact_write_items(TransactItems=[{"Put": record_put}, {"Put": marker_put}])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if len(reasons) > 1 and reasons[1] == "ConditionalCheckFailed":
                return None
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise MessageAlreadyExists(message_uuid) from exc
            raise
        return deserialize({k: _serialize(v) for k, v in item.items()})

    def find_inbound(self, api_key: str, dedupe_key: str) -> dict[str, Any] | None:
        """The inbound record first created for ``dedupe_key`` in this account, if any."""
        marker = self.get(_dedupe_item_key(api_key, dedupe_key))
        if marker is None or not marker.get("record_uuid"):
            return None
        return self.get(str(marker["record_uuid"]))

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
            .notify(state, lease_until())
        )

    @staticmethod
    def _status_in(update: _Update, states: Collection[str]) -> str:
        placeholders = ", ".join(update.value(f"from_{i}", state) for i, state in enumerate(sorted(states)))
        return f"{update.name('status')} IN ({placeholders})"

    @staticmethod
    def _not_seen(update: _Update, state: str) -> str:
        return f"NOT contains({update.name('seen_statuses')}, {update.value('new_status', state)})"

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
        written, record = self._try_update(message_uuid, update, condition)
        if not written:
            raise StaleClaim(message_uuid, record)
        return record if return_new else None

    def _try_update(self, message_uuid: str, update: _Update, condition: str | None) -> tuple[bool, dict[str, Any] | None]:
        """Run a conditional update: ``(True, record after)`` or ``(False, record as found or None)``."""
        full_condition = "attribute_exists(message_uuid)" + (f" AND {condition}" if condition else "")
        try:
            response = self._client.update_item(
                TableName=self.table_name,
                Key={"message_uuid": {"S": message_uuid}},
                UpdateExpression=update.expression(),
                ConditionExpression=full_condition,
                ExpressionAttributeNames=update.names,
                ExpressionAttributeValues=update.values,
                ReturnValues="ALL_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if not _is_condition_failure(exc):
                raise
            found = exc.response.get("Item")
            return False, deserialize(found) if found else self.get(message_uuid)
        return True, deserialize(response.get("Attributes"))


def _seen(record: dict[str, Any]) -> set[str]:
    return set(record.get("seen_statuses") or ())


def _dedupe_item_key(api_key: str, dedupe_key: str) -> str:
    return f"{_DEDUPE_PREFIX}{api_key}#{dedupe_key}"
