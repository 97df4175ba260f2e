"""Recording an inbound message and queuing its webhook exactly once (the outbox, as for statuses).

``InboundStore.create_inbound`` writes the record with its ``"inbound"`` webhook decided (its
lease); ``receive`` then queues the webhook. A provider retry of the same message (same
``dedupe_key``) finds the first record: if its webhook was never attempted and its lease ran out
(the first attempt failed to queue it) it is queued now, otherwise nothing happens.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

from switchboard.domain.provider_events import InboundMessage
from switchboard.notifier.outbox import NotificationInProgress, Outbox, OutboxRecords, Publisher, Republish
from switchboard.domain.outbox_markers import INBOUND_NOTIFICATION


class InboundEffect(str, Enum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class InboundResult:
    effect: InboundEffect
    message_uuid: str | None


class InboundRecords(OutboxRecords, Protocol):
    """What the intake needs of the messages table (``adapters.dynamodb.messages_table``)."""

    def create_inbound(self, message_uuid: str, *args: Any, **kwargs: Any) -> dict[str, Any] | None: ...

    def find_inbound(self, api_key: str, dedupe_key: str) -> dict[str, Any] | None: ...


class InboundIntake:
    """Any exception means "not recorded or not queued": answer the provider 5xx so it retries."""

    def __init__(self, records: InboundRecords, notifications: Publisher) -> None:
        self.records = records
        self.outbox = Outbox(records, notifications)

    def receive(
        self,
        inbound: InboundMessage,
        api_key: str,
        application_id: str | None,
        dedupe_key: str | None,
        webhook_version: str | None = None,
    ) -> InboundResult:
        """``webhook_version``: the owner's explicit webhook shape, recorded with the message."""
        message_uuid = str(uuid.uuid4())
        record = self.records.create_inbound(
            message_uuid, inbound, api_key, application_id, dedupe_key, webhook_version=webhook_version
        )
        if record is not None:
            self.outbox.publish(record, INBOUND_NOTIFICATION)
            return InboundResult(InboundEffect.ACCEPTED, message_uuid)
        assert dedupe_key is not None  # only a dedupe key makes create_inbound return None
        first = self.records.find_inbound(api_key, dedupe_key)
        if first is None:
            return InboundResult(InboundEffect.DUPLICATE, None)
        if self.outbox.republish(first, INBOUND_NOTIFICATION) is Republish.HELD:
            raise NotificationInProgress(first["message_uuid"])
        return InboundResult(InboundEffect.DUPLICATE, first["message_uuid"])
