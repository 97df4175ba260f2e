"""The send lifecycle of a message record in the MessagesTable (hash key ``message_uuid``).

The API creates the record (``accepted``); a sender claims it (``sending``, under a claim token
and a lease) and ends it (``submitted`` or ``rejected``), releases it for a retry, or holds it as
``outcome_unknown`` (the provider may have taken it; see ``hold_unknown``). Every change
made on behalf of a sender is conditional on its claim token, so a worker that lost its claim
cannot overwrite what the new holder wrote. The record's attributes: ``docs/data-model.md``.
"""
from __future__ import annotations

from typing import Any

from switchboard import clock
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable
from switchboard.adapters.dynamodb.outbox_store import mark_pending
from switchboard.adapters.dynamodb.update_builder import UpdateBuilder
from switchboard.domain import status
from switchboard.domain.error_codes import INTERNAL_ERROR, error
from switchboard.domain.message import OutboundMessage, Principal
from switchboard.domain.message_record import (
    NETWORK_CODE,
    OWNER_WEBHOOK_VERSION,
    SMS_PART_COUNT,
    part_key,
    ClaimAttempt,
    ClaimState,
    MessageAlreadyExists,
    StaleClaim,
)
from switchboard.domain.outbox_markers import lease_until
from switchboard.observability import logger

MESSAGE_KEY = "message_uuid"
IN_PROGRESS = frozenset({status.ACCEPTED, status.SENDING})


def history_entry(state: str, timestamp: str, **details: Any) -> dict[str, Any]:
    """A history entry: ``{"status", "timestamp"}`` plus the details that are not None."""
    entry: dict[str, Any] = {"status": state, "timestamp": timestamp}
    entry.update({k: v for k, v in details.items() if v is not None})
    return entry


def messages_table(client: Any, table_name: str) -> ConditionalTable:
    return ConditionalTable(client, table_name, MESSAGE_KEY)


class MessageStore:
    def __init__(self, client: Any, table_name: str, retention_seconds: int) -> None:
        self.table_name = table_name
        self.retention_seconds = retention_seconds
        self._table = messages_table(client, table_name)

    # ------------------------------------------------------------------ API side

    def create(self, message_uuid: str, message: OutboundMessage, principal: Principal) -> None:
        """Write a new ``accepted`` record; raises ``MessageAlreadyExists`` rather than overwrite one."""
        now = clock.now()
        timestamp = clock.iso(now)
        item: dict[str, Any] = {
            **message.to_item(),
            "message_uuid": message_uuid,
            "status": status.ACCEPTED,
            "history": [history_entry(status.ACCEPTED, timestamp)],
            "api_key": principal.api_key,
            "auth_method": principal.auth_method,
            "attempts": 0,
            "created_at": timestamp,
            "updated_at": timestamp,
            "expires_at": int(now) + self.retention_seconds,
        }
        if principal.application_id is not None:
            item["application_id"] = principal.application_id
        if principal.webhook_version is not None:
            item[OWNER_WEBHOOK_VERSION] = principal.webhook_version
        self._table.put_new(item, MessageAlreadyExists)

    def mark_enqueue_failed(self, message_uuid: str, detail: str) -> bool:
        """The enqueue failed: reject the record if it is still ``accepted``; True if it was rejected.

        False means the record moved on already: the enqueue did land (e.g. a timeout after SQS
        stored it) and a sender picked it up, so the message is on its way and must not be refused.
        """
        timestamp = clock.iso()
        err = error(INTERNAL_ERROR, detail)
        update = (
            UpdateBuilder()
            .set("status", status.REJECTED)
            .set("error", err)
            .set("enqueue_failed", True)
            .set("updated_at", timestamp)
            .append_history(history_entry(status.REJECTED, timestamp, error=err, event="enqueue_failed"))
        )
        # The client was answered 503 ("not sent"), so no status webhook follows.
        mark_pending(update, status.REJECTED, 0, notify=False)
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
        return self._table.get(message_uuid)

    def tag_workflow_step(self, message_uuid: str, workflow_uuid: str, step: int) -> None:
        """Mark a record as step ``step`` of a workflow (before it is queued for sending)."""
        self._table.request(
            "update_item",
            TableName=self.table_name,
            Key=self._table.key(message_uuid),
            UpdateExpression="SET workflow_uuid = :workflow, workflow_step = :step",
            ConditionExpression="attribute_exists(message_uuid)",
            ExpressionAttributeValues={":workflow": {"S": workflow_uuid}, ":step": {"N": str(step)}},
        )

    # ------------------------------------------------------------------ sender side

    def claim(self, message_uuid: str, claim_token: str, lease_expires_at: int) -> ClaimAttempt:
        """Take an ``accepted`` record for sending (accepted -> sending, attempts + 1).

        One conditional UpdateItem: on success it returns the new record (no separate read); on
        failure it says why, from the record as DynamoDB found it.
        """
        timestamp = clock.iso()
        update = _claim_update(claim_token, lease_expires_at, timestamp, event=None)
        condition = f"{update.name('status')} = {update.value('expected_status', status.ACCEPTED)}"
        try:
            return ClaimAttempt(ClaimState.CLAIMED, self._apply(message_uuid, update, condition, return_new=True))
        except StaleClaim as lost:
            current = lost.args[1] if len(lost.args) > 1 else None
            return ClaimAttempt(_why_not_claimed(current), current)

    def take_over(
        self, message_uuid: str, expired_token: str, claim_token: str, lease_expires_at: int
    ) -> dict[str, Any]:
        """Claim a record whose holder's lease expired (sending -> sending under a new token)."""
        timestamp = clock.iso()
        update = _claim_update(claim_token, lease_expires_at, timestamp, event="lease_expired_resend")
        condition = _expired_claim_condition(update, expired_token)
        record = self._apply(message_uuid, update, condition, return_new=True)
        assert record is not None
        return record

    def reject_abandoned(self, message_uuid: str, expired_token: str, err: dict[str, Any]) -> dict[str, Any]:
        """Reject a record whose holder's lease expired (the send must not be repeated).

        Like every final write of the sender, it marks the status webhook pending and returns the
        new record, from which the caller publishes it.
        """
        timestamp = clock.iso()
        update = _final_update(status.REJECTED, timestamp, error=err, event="lease_expired").set("error", err)
        return self._final(message_uuid, update, _expired_claim_condition(update, expired_token))

    def hold_unknown(
        self, message_uuid: str, claim_token: str, err: dict[str, Any], unknown_until: int, abandoned: bool = False
    ) -> dict[str, Any]:
        """``sending`` -> ``outcome_unknown``: the provider may have accepted the message, its answer was lost.

        No webhook: the public status set has no such value. The record waits for evidence (an SMS
        delivery receipt carrying its uuid) until ``unknown_until`` (epoch seconds), after which
        the sender rejects it (``reject_unknown``). Conditional on the claim, or with ``abandoned`` on
        the expired claim of a worker that died mid-send.
        """
        timestamp = clock.iso()
        event = "lease_expired" if abandoned else None
        update = (
            UpdateBuilder()
            .set("status", status.OUTCOME_UNKNOWN)
            .set("last_error", err)
            .set("unknown_until", unknown_until)
            .set("updated_at", timestamp)
            .append_history(
                history_entry(status.OUTCOME_UNKNOWN, timestamp, event=event, error=err, unknown_until=unknown_until)
            )
            .remove("claim_token", "lease_expires_at")
        )
        condition = (
            _expired_claim_condition(update, claim_token) if abandoned else _held_condition(update, claim_token)
        )
        return self._final(message_uuid, update, condition)

    def reject_unknown(self, message_uuid: str, err: dict[str, Any]) -> dict[str, Any]:
        """``outcome_unknown`` -> ``rejected``: no evidence came in time (status webhook pending)."""
        timestamp = clock.iso()
        update = _final_update(status.REJECTED, timestamp, error=err, event="outcome_unknown_expired").set("error", err)
        condition = f"{update.name('status')} = {update.value('expected_status', status.OUTCOME_UNKNOWN)}"
        return self._final(message_uuid, update, condition)

    def mark_submitted(
        self,
        message_uuid: str,
        claim_token: str,
        provider_message_id: str | None,
        provider_ref: str | None,
        conversation: str | None = None,
        sent_at_ms: int | None = None,
        part_refs: tuple[str, ...] = (),
        part_count: int = 1,
        network_code: str | None = None,
    ) -> dict[str, Any]:
        """``sending`` -> ``submitted``; ``conversation`` and ``sent_at_ms`` index Messenger sends for watermarks.

        A multipart SMS: ``part_refs`` are the ``provider_ref`` of each part after the first. Each
        gets its own index item (``part_key``; one PutItem per extra part, written first, so a
        receipt for any part finds the message once it is submitted), and the record keeps the
        ``sms_part_count``. ``network_code``: the destination network the provider named.
        """
        timestamp = clock.iso()
        now = int(clock.now())
        for part, ref in enumerate(part_refs, start=1):
            # A repeat after a lost claim writes the same item again: harmless.
            self._table.put({
                MESSAGE_KEY: part_key(message_uuid, part),
                "provider_ref": ref,
                "part_of": message_uuid,
                "expires_at": now + self.retention_seconds,
            })
        update = _final_update(status.SUBMITTED, timestamp)
        optional = {
            "provider_message_id": provider_message_id,
            "provider_ref": provider_ref,
            "conversation": conversation,
            "sent_at_ms": sent_at_ms,
            SMS_PART_COUNT: part_count if part_count > 1 else None,
            NETWORK_CODE: network_code,
        }
        for attr, value in optional.items():
            if value is not None:
                update.set(attr, value)
        return self._final(message_uuid, update, _held_condition(update, claim_token))

    def mark_rejected(self, message_uuid: str, claim_token: str, err: dict[str, Any]) -> dict[str, Any]:
        timestamp = clock.iso()
        update = _final_update(status.REJECTED, timestamp, error=err).set("error", err)
        return self._final(message_uuid, update, _held_condition(update, claim_token))

    def release_for_retry(
        self,
        message_uuid: str,
        claim_token: str,
        attempt: int,
        err: dict[str, Any],
        retry_in_seconds: int,
        maybe_sent: bool = False,
    ) -> None:
        """Give the record back (sending -> accepted) after a transient failure, for a later attempt.

        ``maybe_sent``: this attempt's outcome is unknown (a provider that de-duplicates repeats);
        kept on the record, so running out of attempts later says the outcome is unknown.
        """
        timestamp = clock.iso()
        update = (
            UpdateBuilder()
            .set("status", status.ACCEPTED)
            .set("last_error", err)
            .set("updated_at", timestamp)
            .append_history(
                history_entry(
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
        if maybe_sent:
            update.set("maybe_sent", True)
        self._apply(message_uuid, update, _held_condition(update, claim_token))

    # ------------------------------------------------------------------ helpers

    def _final(self, message_uuid: str, update: UpdateBuilder, condition: str) -> dict[str, Any]:
        record = self._apply(message_uuid, update, condition, return_new=True)
        assert record is not None
        return record

    def _apply(
        self, message_uuid: str, update: UpdateBuilder, condition: str, return_new: bool = False
    ) -> dict[str, Any] | None:
        """Run the update; on a failed condition raise ``StaleClaim(uuid, record as found)``."""
        written, record = self._table.try_update(message_uuid, update, condition)
        if not written:
            raise StaleClaim(message_uuid, record)
        return record if return_new else None


def _claim_update(claim_token: str, lease_expires_at: int, timestamp: str, event: str | None) -> UpdateBuilder:
    update = UpdateBuilder()
    attempts = update.name("attempts")
    return (
        update.set("status", status.SENDING)
        .set("claim_token", claim_token)
        .set("lease_expires_at", lease_expires_at)
        .set("updated_at", timestamp)
        .set_expression(
            "attempts", f"if_not_exists({attempts}, {update.value('zero', 0)}) + {update.value('one', 1)}"
        )
        .append_history(history_entry(status.SENDING, timestamp, event=event))
    )


def _final_update(state: str, timestamp: str, **details: Any) -> UpdateBuilder:
    update = (
        UpdateBuilder()
        .set("status", state)
        .set("updated_at", timestamp)
        .append_history(history_entry(state, timestamp, **details))
        .remove("claim_token", "lease_expires_at")
    )
    return mark_pending(update, state, lease_until())


def _held_condition(update: UpdateBuilder, claim_token: str) -> str:
    return (
        f"{update.name('status')} = {update.value('expected_status', status.SENDING)} "
        f"AND {update.name('claim_token')} = {update.value('expected_token', claim_token)}"
    )


def _expired_claim_condition(update: UpdateBuilder, expired_token: str) -> str:
    return (
        f"{_held_condition(update, expired_token)} "
        f"AND {update.name('lease_expires_at')} <= {update.value('now', int(clock.now()))}"
    )


def _why_not_claimed(current: dict[str, Any] | None) -> ClaimState:
    if current is None:
        return ClaimState.MISSING
    state = current.get("status")
    if state == status.OUTCOME_UNKNOWN:
        return ClaimState.OUTCOME_UNKNOWN
    if state not in IN_PROGRESS:
        return ClaimState.FINAL
    if state == status.SENDING and int(current.get("lease_expires_at", 0)) <= clock.now():
        return ClaimState.LEASE_EXPIRED
    # sending under a live lease, or accepted again by the time we looked (released for a retry)
    return ClaimState.IN_FLIGHT
