"""The sender's ports with AWS calls as network waits, for measuring the sender's own concurrency.

Real DynamoDB and SQS calls are network round-trips that other threads run through; moto's are CPU
work under this interpreter's lock, which serialises them. These in-memory ports keep the same
semantics the sender relies on (a conditional claim, conditional final writes) and spend each call
in ``time.sleep(call_seconds)``, which releases the lock as a socket wait does.
"""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from switchboard.domain import status
from switchboard.domain.message import OutboundMessage
from switchboard.store.messages import ClaimAttempt, ClaimState, StaleClaim


class WaitingMessageRecords:
    """``MessageRecords`` in memory; every call waits like one DynamoDB request."""

    def __init__(self, call_seconds: float) -> None:
        self._call_seconds = call_seconds
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}

    def add(self, message: OutboundMessage) -> str:
        message_uuid = str(uuid.uuid4())
        self._records[message_uuid] = {**message.to_item(), "message_uuid": message_uuid, "status": status.ACCEPTED}
        return message_uuid

    def _update(self, message_uuid: str, claim_token: str, **changes: Any) -> dict[str, Any]:
        time.sleep(self._call_seconds)
        with self._lock:
            record = self._records[message_uuid]
            if record.get("claim_token") != claim_token or record["status"] != status.SENDING:
                raise StaleClaim(message_uuid)
            record.update(changes)
            record.pop("claim_token", None)
            return dict(record)

    def claim(self, message_uuid: str, claim_token: str, lease_expires_at: int) -> ClaimAttempt:
        time.sleep(self._call_seconds)
        with self._lock:
            record = self._records.get(message_uuid)
            if record is None:
                return ClaimAttempt(ClaimState.MISSING, None)
            if record["status"] != status.ACCEPTED:
                return ClaimAttempt(ClaimState.FINAL, dict(record))
            record.update(status=status.SENDING, claim_token=claim_token, attempts=record.get("attempts", 0) + 1)
            return ClaimAttempt(ClaimState.CLAIMED, dict(record))

    def mark_submitted(
        self,
        message_uuid: str,
        claim_token: str,
        provider_message_id: str | None,
        provider_ref: str | None,
        conversation: str | None = None,
        sent_at_ms: int | None = None,
    ) -> dict[str, Any]:
        return self._update(message_uuid, claim_token, status=status.SUBMITTED, provider_ref=provider_ref)

    def mark_rejected(self, message_uuid: str, claim_token: str, err: dict[str, Any]) -> dict[str, Any]:
        return self._update(message_uuid, claim_token, status=status.REJECTED, error=err)

    def release_for_retry(
        self, message_uuid: str, claim_token: str, attempt: int, err: dict[str, Any], retry_in_seconds: int
    ) -> None:
        self._update(message_uuid, claim_token, status=status.ACCEPTED)

    def take_over(self, message_uuid: str, expired_token: str, claim_token: str, lease_expires_at: int) -> dict[str, Any]:
        raise StaleClaim(message_uuid)  # leases never expire within a benchmark batch

    def reject_abandoned(self, message_uuid: str, expired_token: str, err: dict[str, Any]) -> dict[str, Any]:
        raise StaleClaim(message_uuid)

    def statuses(self) -> list[str]:
        with self._lock:
            return [record["status"] for record in self._records.values()]


class WaitingCalls:
    """The sender's other ports (webhook outbox, Viber contacts, SQS visibility): one wait per call."""

    def __init__(self, call_seconds: float) -> None:
        self._call_seconds = call_seconds

    def publish(self, record: dict[str, Any], marker: str) -> None:
        time.sleep(2 * self._call_seconds)  # queue the webhook, then clear the pending marker

    def republish(self, message_uuid: str, marker: str) -> None:
        time.sleep(self._call_seconds)

    def record_transaction_contact(self, service_id: str, number: str) -> None:
        time.sleep(self._call_seconds)

    def delay_redelivery(self, receipt_handle: str, seconds: int) -> None:
        time.sleep(self._call_seconds)


class NoMetrics:
    def count(self, channel: str, outcome: str) -> None:
        return None

    def flush(self) -> None:
        return None
