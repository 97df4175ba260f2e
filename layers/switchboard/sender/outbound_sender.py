"""Sending one queued message: claim its record, call the provider at most once, record the outcome.

The SQS record only names the message; the record in the MessagesTable decides what happens:

- ``accepted``: claim it (accepted -> sending, new claim token, lease, attempts + 1) and send.
- past ``sending`` (submitted, delivered, read, rejected, undeliverable): a duplicate or late
  delivery; acknowledge it. If a status webhook of the record may not have been queued (its
  queuing failed), queue it first (see ``OutboundSender._republish_pending``).
- ``sending`` under a live lease: another worker is sending it right now; report a batch item
  failure so SQS brings it back, by when it is final and gets acknowledged.
- ``sending`` under an expired lease: see ``OutboundSender._recover_abandoned``.
- ``outcome_unknown``: a send whose answer was lost, waiting for evidence; see
  ``OutboundSender._settle_unknown``.
- no record, or a body that names none: log and acknowledge (see ``OutboundSender.process``).

Every final outcome (submitted, rejected) is written together with its decided status webhook,
which is then queued with the batch's others once the batch is handled (``BatchScope.webhooks``,
``switchboard.sender.webhook_batch``, through the outbox ``switchboard.notifier.outbox``). If
queuing fails, the SQS record becomes a batch item failure; its redelivery finds the message final
with the webhook decided but never attempted, and queues it then.
"""
from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from typing import Any

from switchboard import clock
from switchboard.domain import status
from switchboard.domain.error_codes import COMMUNICATION_FAILED, INTERNAL_ERROR, UNKNOWN, error
from switchboard.domain.message import Channel, OutboundMessage
from switchboard.domain.message_record import MAX_DELAY_SECONDS, ClaimState, StaleClaim
from switchboard.domain.outbox_markers import decided_markers, status_notification
from switchboard.domain.provider_events import conversation_key
from switchboard.domain.queue_record import Disposition, QueueDelivery
from switchboard.domain.sending import (
    AbandonedSend,
    ChannelAdapter,
    SendOutcome,
    SendResult,
    TransactionContact,
    outcome_unknown_error,
)
from switchboard.observability import logger
from switchboard.sender.backoff import retry_delay_seconds
from switchboard.sender.outcome_metrics import HELD_UNKNOWN, REJECTED, RETRIED, SUBMITTED
from switchboard.sender.sender_ports import (
    AdapterLookup,
    DecidedWebhooks,
    MessageRecords,
    OutcomeRecorder,
    RedeliveryDelay,
    StatusWebhooks,
    TransactionContacts,
)

INTERRUPTED = "the send was interrupted (its worker stopped mid-send)"
OUTCOME_UNKNOWN_REASON = str(outcome_unknown_error(INTERRUPTED)["reason"])
# How long a message whose outcome is unknown waits for evidence (an SMS delivery receipt carrying its
# uuid) before it is rejected: SQS's longest delay, so one redelivery of its record settles it.
DEFAULT_UNKNOWN_OUTCOME_WINDOW_SECONDS = 900


@dataclass(frozen=True)
class SenderPolicy:
    max_attempts: int
    retry_base_seconds: int
    max_receive_count: int  # the OutboundQueue's redrive maxReceiveCount (template parameter)
    unknown_outcome_window_seconds: int = DEFAULT_UNKNOWN_OUTCOME_WINDOW_SECONDS


@dataclass(frozen=True)
class BatchScope:
    """What every record of one batch shares."""

    channel_config: dict[str, Any]  # loaded once per batch
    lease_expires_at: int  # epoch seconds; later than the invocation can possibly run
    webhooks: DecidedWebhooks  # the final outcomes' status webhooks, queued together after the batch


class OutboundSender:
    def __init__(
        self,
        records: MessageRecords,
        contacts: TransactionContacts,
        queue: RedeliveryDelay,
        adapter_for: AdapterLookup,
        policy: SenderPolicy,
        outcomes: OutcomeRecorder,
        webhooks: StatusWebhooks,
    ) -> None:
        self.records = records
        self.contacts = contacts
        self.queue = queue
        self.adapter_for = adapter_for
        self.policy = policy
        self.outcomes = outcomes
        self.webhooks = webhooks

    def process(self, message_uuid: str, delivery: QueueDelivery, scope: BatchScope) -> Disposition:
        """Handle one SQS record naming ``message_uuid``. Unexpected exceptions propagate (the batch
        reports them as failures).

        A message with no record is acknowledged: there is nothing to send and redelivering it can
        never change that, so it would only reach the dead-letter queue and raise an alarm meant for
        records whose processing keeps crashing. It is logged at error level instead. (A body that
        names no message is the batch runner's to acknowledge.)
        """
        try:
            return self._process(message_uuid, delivery, scope)
        finally:
            logger.thread_safe_remove_keys(["channel"])

    def _process(self, message_uuid: str, delivery: QueueDelivery, scope: BatchScope) -> Disposition:
        claim_token = uuid.uuid4().hex
        attempt = self.records.claim(message_uuid, claim_token, scope.lease_expires_at)
        found = attempt.record or {}
        if attempt.state is ClaimState.CLAIMED:
            return self._send(message_uuid, found, claim_token, delivery, scope)
        if attempt.state is ClaimState.MISSING:
            logger.error("outbound record names an unknown message; acknowledged")
            return Disposition.ACK
        if attempt.state is ClaimState.FINAL:
            logger.info("message already past sending; acknowledged", extra={"status": found.get("status")})
            self._republish_pending(message_uuid, found)
            return Disposition.ACK
        if attempt.state is ClaimState.IN_FLIGHT:
            logger.info("message is being sent by another worker; will look again later")
            return Disposition.REDELIVER
        if attempt.state is ClaimState.OUTCOME_UNKNOWN:
            return self._settle_unknown(message_uuid, found, delivery, scope)
        return self._recover_abandoned(message_uuid, found, claim_token, delivery, scope)

    def _settle_unknown(
        self, message_uuid: str, found: dict[str, Any], delivery: QueueDelivery, scope: BatchScope
    ) -> Disposition:
        """An ``outcome_unknown`` record (its answer was lost; the provider may have taken it).

        It is never sent again. Evidence settles it elsewhere (an SMS delivery receipt carrying its
        uuid makes it submitted, then delivered or failed); here, once its window has passed with
        none, it is rejected 1030 with a reason saying the outcome is unknown. Before that, its SQS
        record comes back when the window ends. A record about to reach the dead-letter queue
        settles it at once, so the message cannot stay unknown for ever.
        """
        logger.thread_safe_append_keys(channel=found.get("channel", ""))
        remaining = int(found.get("unknown_until", 0)) - int(clock.now())
        out_of_deliveries = delivery.receive_count >= self.policy.max_receive_count - 1
        if remaining > 0 and not out_of_deliveries:
            logger.info("outcome still unknown; waiting for evidence", extra={"settle_in_seconds": remaining})
            self._delay_redelivery(delivery, remaining)
            return Disposition.REDELIVER
        window = self.policy.unknown_outcome_window_seconds
        err = outcome_unknown_error(f"the provider may have accepted it; no delivery receipt came within {window} s")
        try:
            record = self.records.reject_unknown(message_uuid, err)
        except StaleClaim:
            logger.info("outcome settled by evidence meanwhile; acknowledged")
            return Disposition.ACK
        logger.warning("no evidence of the outcome in time; rejected", extra={"error_code": err["code"]})
        self.outcomes.count(str(found.get("channel", "")), REJECTED, err["code"])
        scope.webhooks.publish(record, status_notification(status.REJECTED))
        return Disposition.ACK

    def _recover_abandoned(
        self, message_uuid: str, found: dict[str, Any], claim_token: str, delivery: QueueDelivery, scope: BatchScope
    ) -> Disposition:
        """A ``sending`` record whose lease expired: its worker died mid-send, the outcome is unknown.

        The lease outlives the invocation that took it, so an expired lease means that worker is
        gone. Whether its provider call went out, and whether the provider accepted it, cannot be
        known. The rule is never to deliver a message twice:

        - ``AbandonedSend.RESEND`` (Viber): send again. The provider recognises a repeat (Viber: the
          adapter derives ``seq`` from the message uuid) and refuses the duplicate ("already sent",
          Nexmo 1320) instead of delivering it twice. Resending therefore cannot duplicate, and it
          completes a message that otherwise would be lost. On such a resend a 1320 rejection means
          the first send went through, so the message is recorded as submitted.
        - ``AbandonedSend.AWAIT_EVIDENCE`` (SMS): no idempotency key, but its delivery receipts
          carry the message uuid. The record is held as ``outcome_unknown`` like a send whose
          answer was lost (``_settle_unknown``).
        - ``AbandonedSend.REJECT_UNKNOWN`` (Messenger): the API has no idempotency key, so a
          resend may deliver twice. The record is rejected with 1030 and a reason saying the
          outcome is unknown; the customer decides whether to send again.
        """
        channel = found.get("channel", "")
        expired_token = str(found.get("claim_token", ""))
        logger.thread_safe_append_keys(channel=channel)
        try:
            capability = self.adapter_for(Channel(channel)).abandoned_send
            if capability is AbandonedSend.RESEND:
                logger.warning("lease expired mid-send; resending (the provider de-duplicates the repeat)")
                claimed = self.records.take_over(message_uuid, expired_token, claim_token, scope.lease_expires_at)
                return self._send(message_uuid, claimed, claim_token, delivery, scope, resend=True)
            if capability is AbandonedSend.AWAIT_EVIDENCE:
                self.records.hold_unknown(
                    message_uuid, expired_token, error(INTERNAL_ERROR, INTERRUPTED), self._unknown_until(), abandoned=True
                )
                return self._held_unknown(channel, delivery)
            rejected = self.records.reject_abandoned(message_uuid, expired_token, outcome_unknown_error(INTERRUPTED))
        except StaleClaim:
            # Another worker recovered it first: look again once that one is done.
            return Disposition.REDELIVER
        logger.warning("lease expired mid-send; rejected, outcome unknown", extra={"error_code": INTERNAL_ERROR})
        self.outcomes.count(channel, REJECTED, INTERNAL_ERROR)
        scope.webhooks.publish(rejected, status_notification(status.REJECTED))
        return Disposition.ACK

    def _send(
        self,
        message_uuid: str,
        record: dict[str, Any],
        claim_token: str,
        delivery: QueueDelivery,
        scope: BatchScope,
        resend: bool = False,
    ) -> Disposition:
        message = OutboundMessage.from_item(record)
        attempt = int(record.get("attempts", 1))
        logger.thread_safe_append_keys(channel=message.channel.value)
        # Taken before the call: a Messenger watermark covers messages sent before it, by Facebook's
        # clock, so the recorded time must not be later than Facebook's own.
        sent_at_ms = int(clock.now() * 1000)
        adapter = self.adapter_for(message.channel)
        result = self.outcomes.timed(message.channel.value, adapter.send, message, message_uuid, scope.channel_config)
        outcome = result.outcome
        # "Already sent" answers a repeat of a send that went through: only possible after a send
        # whose outcome was not known (an expired lease, or a lost answer: ``maybe_sent``).
        maybe_sent = bool(record.get("maybe_sent"))
        already_sent = (resend or maybe_sent) and result.already_sent
        try:
            if outcome is SendOutcome.ACCEPTED or already_sent:
                return self._submitted(message_uuid, message, claim_token, result, attempt, sent_at_ms, adapter, scope)
            if outcome is SendOutcome.REJECTED:
                code = result.error_code or UNKNOWN
                return self._reject(message_uuid, message, claim_token, error(code, result.error_reason), attempt, scope)
            if outcome is SendOutcome.UNKNOWN:
                return self._unknown(message_uuid, message, claim_token, result, attempt, delivery, adapter, scope)
            return self._retry_or_give_up(
                message_uuid, message, claim_token, result, attempt, delivery, scope, maybe_sent
            )
        except StaleClaim:
            # Only possible if this worker outlived its lease and another took the record over.
            logger.warning("claim lost before the outcome was recorded", extra={"outcome": outcome.value})
            return Disposition.ACK

    def _unknown(
        self,
        message_uuid: str,
        message: OutboundMessage,
        claim_token: str,
        result: SendResult,
        attempt: int,
        delivery: QueueDelivery,
        adapter: ChannelAdapter,
        scope: BatchScope,
    ) -> Disposition:
        """The provider may have accepted the message; its answer was lost. Never a blind resend:

        - ``RESEND`` (Viber): a transient failure; the retry carries the same ``seq``, so the
          provider refuses it as "already sent" if this one went through.
        - ``AWAIT_EVIDENCE`` (SMS): held as ``outcome_unknown`` until a delivery receipt or the window.
        - ``REJECT_UNKNOWN`` (Messenger): rejected 1030 at once, with a reason saying the outcome is unknown.
        """
        detail = result.error_reason or "the provider's answer was lost"
        capability = adapter.abandoned_send
        if capability is AbandonedSend.RESEND:
            return self._retry_or_give_up(message_uuid, message, claim_token, result, attempt, delivery, scope, True)
        if capability is AbandonedSend.AWAIT_EVIDENCE:
            err = error(result.error_code or COMMUNICATION_FAILED, detail)
            self.records.hold_unknown(message_uuid, claim_token, err, self._unknown_until())
            return self._held_unknown(message.channel.value, delivery)
        return self._reject(message_uuid, message, claim_token, outcome_unknown_error(detail), attempt, scope)

    def _held_unknown(self, channel: str, delivery: QueueDelivery) -> Disposition:
        window = self.policy.unknown_outcome_window_seconds
        logger.warning("provider outcome unknown; held for evidence, not resent", extra={"settle_in_seconds": window})
        self.outcomes.count(channel, HELD_UNKNOWN)
        self._delay_redelivery(delivery, window)
        return Disposition.REDELIVER

    def _unknown_until(self) -> int:
        return int(clock.now()) + self.policy.unknown_outcome_window_seconds

    def _delay_redelivery(self, delivery: QueueDelivery, seconds: int) -> None:
        try:
            self.queue.delay_redelivery(delivery.receipt_handle, seconds)
        except Exception:
            # The SQS record comes back after the queue's visibility timeout instead.
            logger.exception("could not set the redelivery delay")

    def _submitted(
        self,
        message_uuid: str,
        message: OutboundMessage,
        claim_token: str,
        result: SendResult,
        attempt: int,
        sent_at_ms: int,
        adapter: ChannelAdapter,
        scope: BatchScope,
    ) -> Disposition:
        provider_id = result.provider_message_id
        provider_ref = f"{message.channel.value}#{provider_id}" if provider_id else None
        conversation = _conversation(message)
        parts: dict[str, Any] = {}
        if result.part_count > 1 or result.network_code:
            parts = {  # a multipart SMS: every part's id indexed (docs/data-model.md)
                "part_refs": tuple(f"{message.channel.value}#{part_id}" for part_id in result.part_message_ids),
                "part_count": result.part_count,
                "network_code": result.network_code,
            }
        record = self.records.mark_submitted(
            message_uuid,
            claim_token,
            provider_id,
            provider_ref,
            conversation=conversation,
            sent_at_ms=sent_at_ms if conversation else None,
            **parts,
        )
        self.outcomes.count(message.channel.value, SUBMITTED)
        logger.info("message submitted", extra={"status": SUBMITTED, "attempt": attempt})
        contact = adapter.contact_after_submit(message)
        if contact is not None:
            self._record_transaction_contact(contact)
        scope.webhooks.publish(record, status_notification(status.SUBMITTED))
        return Disposition.ACK

    def _record_transaction_contact(self, contact: TransactionContact) -> None:
        # The message is submitted whatever happens here; failing the SQS record would not help
        # (its redelivery finds the message final and acknowledges it), so log and carry on.
        try:
            self.contacts.record_transaction_contact(contact.service_id, contact.number)
        except Exception:
            logger.exception("could not record the Viber transaction contact")

    def _reject(
        self,
        message_uuid: str,
        message: OutboundMessage,
        claim_token: str,
        err: dict[str, Any],
        attempt: int,
        scope: BatchScope,
    ) -> Disposition:
        record = self.records.mark_rejected(message_uuid, claim_token, err)
        self.outcomes.count(message.channel.value, REJECTED, err["code"])
        logger.info("message rejected", extra={"status": REJECTED, "error_code": err["code"], "attempt": attempt})
        scope.webhooks.publish(record, status_notification(status.REJECTED))
        return Disposition.ACK

    def _republish_pending(self, message_uuid: str, record: dict[str, Any]) -> None:
        """Queue the webhooks of a final record whose queuing is not confirmed (an earlier one may have failed).

        A webhook whose lease is held is left alone and the SQS record acknowledged anyway: its
        holder is a live writer whose own SQS record (or provider retry) comes back if it fails,
        after the lease has run out (the queue's visibility timeout is longer than the lease).
        """
        for marker in decided_markers(record):
            outcome = self.webhooks.republish(record, marker)
            logger.info("status webhook not confirmed queued", extra={"webhook": marker, "republish": getattr(outcome, "value", outcome)})

    def _retry_or_give_up(
        self,
        message_uuid: str,
        message: OutboundMessage,
        claim_token: str,
        result: SendResult,
        attempt: int,
        delivery: QueueDelivery,
        scope: BatchScope,
        maybe_sent: bool = False,
    ) -> Disposition:
        """``maybe_sent``: this or an earlier attempt's outcome was unknown (a de-duplicating provider)."""
        err = error(result.error_code or COMMUNICATION_FAILED)
        out_of_attempts = attempt >= self.policy.max_attempts
        # Safety net: the attempts counter normally ends this first, but a record that SQS is about
        # to move to the dead-letter queue must not leave its message pending forever.
        out_of_deliveries = delivery.receive_count >= self.policy.max_receive_count - 1
        if out_of_attempts or out_of_deliveries:
            if maybe_sent:
                err = outcome_unknown_error(f"an earlier attempt may have been accepted; last: {result.error_reason}")
            return self._reject(message_uuid, message, claim_token, err, attempt, scope)
        delay = retry_delay_seconds(attempt, self.policy.retry_base_seconds)
        # A provider that said how long to wait (429 Retry-After) gets at least that: no retry storm.
        delay = max(delay, min(MAX_DELAY_SECONDS, math.ceil(result.retry_after_seconds or 0)))
        self.records.release_for_retry(message_uuid, claim_token, attempt, err, delay, maybe_sent=maybe_sent)
        self.outcomes.count(message.channel.value, RETRIED)
        logger.info(
            "transient failure; retrying",
            extra={"error_code": err["code"], "attempt": attempt, "retry_in_seconds": delay},
        )
        self._delay_redelivery(delivery, delay)
        return Disposition.REDELIVER


def _conversation(message: OutboundMessage) -> str | None:
    """Messenger's ConversationIndex key (page id, PSID), which watermark receipts query."""
    if message.channel is Channel.MESSENGER and message.sender.id and message.recipient.id:
        return conversation_key(message.sender.id, message.recipient.id)
    return None

