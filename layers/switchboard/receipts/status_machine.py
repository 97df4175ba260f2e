"""The status state machine for provider receipts: submitted -> delivered -> read, or undeliverable/rejected.

Rules (each enforced by one conditional write on the record, so concurrent Lambdas agree):

- A status never goes backwards. ``delivered`` applies from ``submitted``; ``read`` from
  ``submitted`` or ``delivered``; ``rejected`` and ``undeliverable`` (SMS DLRs) from
  ``submitted`` or ``delivered``, and end the message.
- A receipt for a message already past its status is **late**: it is appended to the history
  (``"late": true``) but changes nothing else and sends no webhook.
- Every status is recorded in the record's ``seen_statuses``; a receipt whose status is there is a
  **duplicate** and writes nothing, not even history.
- Each applied change sends exactly one status webhook, through the outbox
  (``switchboard.notifier.outbox``).

A ``submitted`` receipt (WhatsApp's ``sent``) only confirms the send: it can settle an unknown
outcome (below) and is otherwise a duplicate.

Finding the message: receipts by ``provider_ref`` (ProviderRefIndex), Messenger watermarks by
``conversation`` and ``sent_at_ms`` (ConversationIndex). The sender writes both in the same write
that makes the message ``submitted``, so a receipt can only find a submitted (or later) message.
The indexes are eventually consistent: a receipt arriving within a moment of the send may not
find it yet and is answered ``unknown_message`` with no effect, unless it carries our reference.

A multipart SMS (``sms_part_count`` on the record): every part has its own provider id, indexed
(the first on the record, each later one on an index item of its own), and its own receipts. The
message is ``delivered`` once every part is: a part's ``delivered`` receipt adds the part to the
record's ``delivered_parts`` (a set, so repeats change nothing), and the receipt that completes the
set applies ``delivered`` as usual (two completing at once: one applies, the other is a duplicate).
A part that fails (``rejected`` / ``undeliverable``) ends the message at once, whatever the other
parts do. A single SMS is unchanged: its ``delivered`` write carries one more condition clause.

Reconciling an unknown outcome: a receipt that carries our reference (SMS ``client-ref``, the
message uuid) and finds nothing by provider id reads the record by uuid. If the record is
``outcome_unknown`` (the send's answer was lost), the receipt is the evidence the provider took
it: the record becomes ``submitted`` with the receipt's provider id indexed (its webhook sent),
then the receipt applies as usual. If the record is still ``accepted``/``sending`` (the receipt
outran the sender's own outcome write), the webhook answers 503 so the provider resends it later.
If it is ``submitted`` or later under the same provider id (the index lagging), the receipt applies.
A later part of a multipart SMS the index does not show yet is found by reading the message's part
index items. Anything else (a message rejected once its window ran out, another channel) stays
``unknown_message``.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from switchboard.domain import status
from switchboard.domain.errors import ServiceUnavailable
from switchboard.domain.provider_events import StatusReceipt, WatermarkReceipt
from switchboard.notifier.outbox import NotificationInProgress, Outbox, OutboxRecords, Publisher, Republish
from switchboard.observability import logger
from switchboard.domain.message import Channel
from switchboard.domain.message_record import (
    DELIVERED_PARTS,
    SMS_PART_COUNT,
    StatusWriteOutcome,
    part_key,
    split_part_key,
)
from switchboard.domain.outbox_markers import status_notification

__all__ = ["NotificationInProgress", "ReceiptEffect", "ReceiptResult", "StatusService"]

ALLOWED_FROM: dict[str, frozenset[str]] = {
    status.DELIVERED: frozenset({status.SUBMITTED}),
    status.READ: frozenset({status.SUBMITTED, status.DELIVERED}),
    status.REJECTED: frozenset({status.SUBMITTED, status.DELIVERED}),
    status.UNDELIVERABLE: frozenset({status.SUBMITTED, status.DELIVERED}),
}
WATERMARK_STATUSES = frozenset({status.DELIVERED, status.READ})
WATERMARK_EVENT = "watermark"
# Watermarks walk a conversation newest first; a page where nothing changed means the older
# messages were covered by an earlier watermark, so the walk stops there.
WATERMARK_PAGE_SIZE = 25


class ReceiptEffect(str, Enum):
    APPLIED = "applied"
    LATE = "late"
    DUPLICATE = "duplicate"
    UNKNOWN_MESSAGE = "unknown_message"
    PART_DELIVERED = "part_delivered"  # one part of a multipart SMS; the message waits for the others


@dataclass(frozen=True)
class ReceiptResult:
    effect: ReceiptEffect
    message_uuid: str | None
    status: str


class ReceiptRecords(OutboxRecords, Protocol):
    """What the status machine needs of the messages table (``adapters.dynamodb.messages_table``)."""

    def apply_status(self, message_uuid: str, *args: Any, **kwargs: Any) -> Any: ...

    def record_delivered_part(self, message_uuid: str, part: int) -> dict[str, Any] | None: ...

    def message_uuids_by_provider_ref(self, provider_ref: str) -> list[str]: ...

    def conversation_message_uuids(self, *args: Any, **kwargs: Any) -> list[str]: ...

    def get(self, message_uuid: str) -> dict[str, Any] | None: ...

    def settle_unknown_as_submitted(
        self, message_uuid: str, provider_message_id: str, provider_ref: str
    ) -> dict[str, Any] | None: ...


class StatusService:
    """Applies provider receipts. Any exception means "not done": answer the provider 5xx so it retries."""

    def __init__(self, records: ReceiptRecords, notifications: Publisher) -> None:
        self.records = records
        self.outbox = Outbox(records, notifications)

    def apply_receipt(self, receipt: StatusReceipt) -> ReceiptResult:
        if receipt.status != status.SUBMITTED:
            _check_status(receipt.status, ALLOWED_FROM)
        found = self.records.message_uuids_by_provider_ref(receipt.provider_ref)
        if not found and receipt.client_ref:
            found = self._by_client_ref(receipt)
        if not found:
            logger.info("receipt for an unknown message", extra={"channel": receipt.channel.value, "status": receipt.status})
            return ReceiptResult(ReceiptEffect.UNKNOWN_MESSAGE, None, receipt.status)
        if len(found) > 1:
            logger.warning("several messages share a provider id; applying to the first", extra={"count": len(found)})
        message_uuid, part = split_part_key(found[0])
        if receipt.status == status.SUBMITTED:
            # WhatsApp "sent": evidence of the send (it settled an unknown outcome above); the message
            # is submitted already, so it changes nothing else.
            return ReceiptResult(ReceiptEffect.DUPLICATE, message_uuid, receipt.status)
        if receipt.channel is Channel.SMS and receipt.status == status.DELIVERED:
            return self._apply_delivered_part(message_uuid, part, receipt)
        return self._apply(message_uuid, receipt.status, receipt.occurred_at, receipt.error, event=None)

    def _apply_delivered_part(self, message_uuid: str, part: int, receipt: StatusReceipt) -> ReceiptResult:
        """``delivered`` for part ``part`` of an SMS (0: the first, or the only one); module docstring."""
        if part == 0:
            result = self._apply(
                message_uuid, status.DELIVERED, receipt.occurred_at, receipt.error, event=None, single_part_only=True
            )
            if result.effect is not ReceiptEffect.PART_DELIVERED:
                return result  # a single SMS (or a decided one): done
        record = self.records.record_delivered_part(message_uuid, part)
        if record is None:
            return ReceiptResult(ReceiptEffect.UNKNOWN_MESSAGE, None, status.DELIVERED)
        delivered, total = len(record.get(DELIVERED_PARTS) or ()), int(record.get(SMS_PART_COUNT) or 1)
        log_keys = {"message_uuid": message_uuid, "part": part, "delivered_parts": delivered, "part_count": total}
        if delivered < total:
            logger.info("sms part delivered; waiting for the others", extra=log_keys)
            return ReceiptResult(ReceiptEffect.PART_DELIVERED, message_uuid, status.DELIVERED)
        logger.info("every sms part delivered", extra=log_keys)
        return self._apply(message_uuid, status.DELIVERED, receipt.occurred_at, receipt.error, event=None)

    def _by_client_ref(self, receipt: StatusReceipt) -> list[str]:
        """The message ``receipt.client_ref`` names, when the receipt is evidence about it (module docstring)."""
        message_uuid = str(receipt.client_ref)
        record = self.records.get(message_uuid)
        if record is None or record.get("channel") != receipt.channel.value or record.get("direction") == "inbound":
            return []
        current = record.get("status")
        log_keys = {"message_uuid": message_uuid, "status": receipt.status}
        if current == status.OUTCOME_UNKNOWN:
            settled = self.records.settle_unknown_as_submitted(
                message_uuid, receipt.provider_message_id, receipt.provider_ref
            )
            if settled is not None:
                logger.info("unknown outcome settled by a receipt: submitted", extra=log_keys)
                self.outbox.publish(settled, status_notification(status.SUBMITTED))
                return [message_uuid]
            record = self.records.get(message_uuid) or {}
            current = record.get("status")
        if current in (status.ACCEPTED, status.SENDING):
            logger.info("receipt for a message whose send outcome is not recorded yet; asking for a resend", extra=log_keys)
            raise ServiceUnavailable("The message's send outcome is not recorded yet; resend the receipt.")
        if record.get("provider_message_id") == receipt.provider_message_id:
            return [message_uuid]
        return self._later_part(message_uuid, record, receipt)

    def _later_part(self, message_uuid: str, record: dict[str, Any], receipt: StatusReceipt) -> list[str]:
        """The index item of the later part ``receipt`` is about, read directly (the index lagging).

        Only a multipart SMS has such items; one consistent read per later part, on this rare path only.
        """
        for part in range(1, int(record.get(SMS_PART_COUNT) or 1)):
            item = self.records.get(part_key(message_uuid, part))
            if item is not None and item.get("provider_ref") == receipt.provider_ref:
                return [part_key(message_uuid, part)]
        return []

    def apply_watermark(self, receipt: WatermarkReceipt) -> list[ReceiptResult]:
        """Apply ``receipt.status`` to every message of the conversation sent at or before the watermark.

        Every message is tried even if one fails; the first failure is raised afterwards (the
        provider's retry finds the others already applied: duplicates).
        """
        _check_status(receipt.status, WATERMARK_STATUSES)
        results: list[ReceiptResult] = []
        failure: Exception | None = None
        pages = self.records.conversation_message_uuids(
            receipt.conversation, receipt.watermark_ms, page_size=WATERMARK_PAGE_SIZE
        )
        for page in pages:
            changed = False
            for message_uuid in page:
                try:
                    result = self._apply(message_uuid, receipt.status, receipt.occurred_at, None, WATERMARK_EVENT)
                except Exception as exc:
                    logger.exception("watermark not applied to a message", extra={"message_uuid": message_uuid})
                    failure = failure or exc
                    changed = True  # unknown: keep walking
                    continue
                results.append(result)
                changed = changed or result.effect is ReceiptEffect.APPLIED
            if not changed:
                break
        if failure is not None:
            raise failure
        return results

    def _apply(
        self, message_uuid: str, new_status: str, occurred_at: float, error: dict | None, event: str | None,
        single_part_only: bool = False,
    ) -> ReceiptResult:
        extra = {"single_part_only": True} if single_part_only else {}
        write = self.records.apply_status(
            message_uuid, new_status, ALLOWED_FROM[new_status], occurred_at, error, event, **extra
        )
        if write.outcome is StatusWriteOutcome.PARTS_PENDING:
            return ReceiptResult(ReceiptEffect.PART_DELIVERED, message_uuid, new_status)
        marker = status_notification(new_status)
        if write.outcome is StatusWriteOutcome.APPLIED:
            assert write.record is not None
            logger.info("status applied", extra={"message_uuid": message_uuid, "status": new_status})
            self.outbox.publish(write.record, marker)
            return ReceiptResult(ReceiptEffect.APPLIED, message_uuid, new_status)
        if write.outcome is StatusWriteOutcome.LATE:
            logger.info("late receipt recorded", extra={"message_uuid": message_uuid, "status": new_status})
            return ReceiptResult(ReceiptEffect.LATE, message_uuid, new_status)
        if write.outcome is StatusWriteOutcome.DUPLICATE:
            assert write.record is not None
            if self.outbox.republish(write.record, marker) is Republish.HELD:
                raise NotificationInProgress(message_uuid)
            return ReceiptResult(ReceiptEffect.DUPLICATE, message_uuid, new_status)
        # MISSING (expired or never existed) or NOT_READY (not submitted yet, so not findable
        # through the indexes either; only possible for a record reached another way).
        logger.info(
            "receipt for a message that cannot take it",
            extra={"message_uuid": message_uuid, "status": new_status, "reason": write.outcome.value},
        )
        return ReceiptResult(ReceiptEffect.UNKNOWN_MESSAGE, message_uuid if write.record else None, new_status)


def _check_status(state: str, allowed: object) -> None:
    if state not in allowed:  # type: ignore[operator]
        raise ValueError(f"not a receipt status: {state!r}")
