"""The sender's ``MessageRecords`` port in memory: the conditional claim and final writes it relies on."""
from __future__ import annotations

import threading
import uuid
from typing import Any

from switchboard.domain import status
from switchboard.domain.message import OutboundMessage
from switchboard.domain.message_record import ClaimAttempt, ClaimState, StaleClaim
from tests.support.fakes.waits import wait


class FakeMessageRecords:
    """Message records by uuid; every call first waits ``call_seconds`` like one DynamoDB request.

    Leases never expire here: ``take_over`` and ``reject_abandoned`` always find the claim stale.
    """

    def __init__(self, call_seconds: float = 0.0) -> None:
        self._call_seconds = call_seconds
        self._lock = threading.Lock()
        self._records: dict[str, dict[str, Any]] = {}

    def add(self, message: OutboundMessage, message_uuid: str | None = None) -> str:
        message_uuid = message_uuid or str(uuid.uuid4())
        with self._lock:
            self._records[message_uuid] = {**message.to_item(), "message_uuid": message_uuid, "status": status.ACCEPTED}
        return message_uuid

    def record(self, message_uuid: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._records[message_uuid])

    def statuses(self) -> list[str]:
        with self._lock:
            return [record["status"] for record in self._records.values()]

    def claim(self, message_uuid: str, claim_token: str, lease_expires_at: int) -> ClaimAttempt:
        wait(self._call_seconds)
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
        part_refs: tuple[str, ...] = (),
        part_count: int = 1,
        network_code: str | None = None,
    ) -> dict[str, Any]:
        parts = {"sms_part_count": part_count, "part_refs": part_refs} if part_count > 1 else {}
        return self._update(
            message_uuid, claim_token, status=status.SUBMITTED,
            provider_message_id=provider_message_id, provider_ref=provider_ref, **parts,
        )

    def mark_rejected(self, message_uuid: str, claim_token: str, err: dict[str, Any]) -> dict[str, Any]:
        return self._update(message_uuid, claim_token, status=status.REJECTED, error=err)

    def release_for_retry(
        self,
        message_uuid: str,
        claim_token: str,
        attempt: int,
        err: dict[str, Any],
        retry_in_seconds: int,
        maybe_sent: bool = False,
    ) -> None:
        changes: dict[str, Any] = {"maybe_sent": True} if maybe_sent else {}
        self._update(message_uuid, claim_token, status=status.ACCEPTED, last_error=err, **changes)

    def hold_unknown(
        self, message_uuid: str, claim_token: str, err: dict[str, Any], unknown_until: int, abandoned: bool = False
    ) -> dict[str, Any]:
        if abandoned:
            raise StaleClaim(message_uuid)
        return self._update(
            message_uuid, claim_token, status=status.OUTCOME_UNKNOWN, last_error=err, unknown_until=unknown_until
        )

    def reject_unknown(self, message_uuid: str, err: dict[str, Any]) -> dict[str, Any]:
        wait(self._call_seconds)
        with self._lock:
            record = self._records[message_uuid]
            if record["status"] != status.OUTCOME_UNKNOWN:
                raise StaleClaim(message_uuid)
            record.update(status=status.REJECTED, error=err)
            return dict(record)

    def take_over(self, message_uuid: str, expired_token: str, claim_token: str, lease_expires_at: int) -> dict[str, Any]:
        raise StaleClaim(message_uuid)

    def reject_abandoned(self, message_uuid: str, expired_token: str, err: dict[str, Any]) -> dict[str, Any]:
        raise StaleClaim(message_uuid)

    def _update(self, message_uuid: str, claim_token: str, **changes: Any) -> dict[str, Any]:
        wait(self._call_seconds)
        with self._lock:
            record = self._records[message_uuid]
            if record.get("claim_token") != claim_token or record["status"] != status.SENDING:
                raise StaleClaim(message_uuid)
            record.update(changes)
            record.pop("claim_token", None)
            return dict(record)
