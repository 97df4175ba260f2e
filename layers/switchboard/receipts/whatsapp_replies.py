"""Which of our messages a WhatsApp customer replied to: the ``context`` of an inbound message names
the WhatsApp id (``wamid``) of the message it quotes; customers know our message uuids.

The uuid is given only for a message of this conversation that the business number's owner sent
(found by its provider id, sent from that business number to that customer, by the account the
number is linked to); anything else keeps only the provider id, so no account learns another's ids.
"""
from __future__ import annotations

from typing import Any, Protocol

from switchboard.domain.message import Channel
from switchboard.domain.tenancy import ChannelLink


class MessageRecords(Protocol):
    def message_uuids_by_provider_ref(self, provider_ref: str) -> list[str]: ...

    def get(self, message_uuid: str) -> dict[str, Any] | None: ...


class Links(Protocol):
    def get(self, channel: Channel | str, address: str) -> ChannelLink | None: ...


class RepliedMessages:
    def __init__(self, records: MessageRecords, links: Links) -> None:
        self.records = records
        self.links = links

    def message_uuid(self, business_number: str, customer_number: str, provider_message_id: str) -> str | None:
        link = self.links.get(Channel.WHATSAPP, business_number)
        if link is None:
            return None
        for message_uuid in self.records.message_uuids_by_provider_ref(f"{Channel.WHATSAPP.value}#{provider_message_id}"):
            record = self.records.get(message_uuid) or {}
            if (
                record.get("api_key") == link.api_key
                and (record.get("from") or {}).get("number") == business_number
                and (record.get("to") or {}).get("number") == customer_number
            ):
                return message_uuid
        return None
