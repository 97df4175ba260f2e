"""Inbound messages: from a provider webhook to the customer who owns the page, service or number.

``InboundService.accept`` finds the owner through the channel link of the message's recipient and
hands the message to the intake (``switchboard.receipts.inbound_intake.InboundIntake`` in
production), which records it under a new ``message_uuid`` and queues its inbound webhook exactly
once. The webhook goes to the link's application's inbound URL when the link names one, else to
the account's (the intake resolves that from the ``api_key`` / ``application_id`` recorded here).
The owner's explicit webhook shape (the application's, else the account's; ``docs/webhooks.md``) is
looked up here, through a cache, and recorded with the message, so its webhook has that shape.

Provider retries carry the same ``dedupe_key`` (channel, recipient, provider message id and, for a
message split into parts, the part index): the intake records nothing new for them, and queues the
webhook only if the first attempt failed to.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from switchboard.domain.message import Channel
from switchboard.domain.provider_events import InboundMessage
from switchboard.observability import logger
from switchboard.domain.tenancy import ChannelLink

if TYPE_CHECKING:
    from switchboard.domain.tenancy import Account, Application

PART_INDEX = "part_index"  # InboundMessage.extra: which part of one provider message (Messenger text + attachments)

UNLINKED = "unlinked"


class ChannelLinks(Protocol):
    def get(self, channel: Channel | str, address: str) -> ChannelLink | None: ...


class Owners(Protocol):
    """Cached account and application lookups (``switchboard.auth.cached_accounts.CachedAccounts``)."""

    def account(self, api_key: str) -> Account | None: ...

    def application(self, application_id: str) -> Application | None: ...


class IntakeResult(Protocol):
    effect: Any  # accepted | duplicate (a str or a str-valued Enum)
    message_uuid: str | None


class InboundIntake(Protocol):
    def receive(
        self,
        inbound: InboundMessage,
        api_key: str,
        application_id: str | None,
        dedupe_key: str | None,
        webhook_version: str | None = None,
    ) -> IntakeResult: ...


@dataclass(frozen=True)
class InboundResult:
    effect: str  # accepted | duplicate | unlinked
    message_uuid: str | None = None


def dedupe_key(inbound: InboundMessage) -> str | None:
    """``<channel>#<recipient>#<provider message id>[#<part index>]``; None when the provider gave no id."""
    if not inbound.provider_message_id:
        return None
    key = f"{inbound.channel.value}#{inbound.recipient.address}#{inbound.provider_message_id}"
    part = inbound.extra.get(PART_INDEX)
    return key if part is None else f"{key}#{part}"


class InboundService:
    def __init__(self, links: ChannelLinks, intake: InboundIntake, owners: Owners | None = None) -> None:
        self.links = links
        self.intake = intake
        self.owners = owners

    def accept(self, inbound: InboundMessage) -> InboundResult:
        """Record and publish ``inbound`` for its owner. Storage and queue errors propagate (answer 5xx)."""
        channel, address = inbound.channel.value, inbound.recipient.address
        link = self.links.get(inbound.channel, address)
        if link is None:
            logger.info(
                "inbound message for an unlinked address dropped", extra={"channel": channel, "address": address}
            )
            return InboundResult(UNLINKED)
        result = self.intake.receive(
            inbound, link.api_key, link.application_id, dedupe_key(inbound), self._webhook_version(link)
        )
        effect = str(getattr(result.effect, "value", result.effect))
        logger.info(
            "inbound message received",
            extra={"channel": channel, "effect": effect, "message_uuid": result.message_uuid},
        )
        return InboundResult(effect, result.message_uuid)

    def _webhook_version(self, link: ChannelLink) -> str | None:
        """The link owner's explicit webhook shape: its application's, else its account's; None if neither chose."""
        if self.owners is None:
            return None
        if link.application_id:
            application = self.owners.application(link.application_id)
            if application is not None and application.api_key == link.api_key and application.webhook_version:
                return application.webhook_version
        account = self.owners.account(link.api_key)
        return account.webhook_version if account is not None else None
