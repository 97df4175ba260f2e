"""Our uuid of the message a WhatsApp customer replied to: only the number owner's, in that conversation."""
from __future__ import annotations

from typing import Any

from local_stack.provision import link_senders
from switchboard import clock
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage, Principal
from switchboard.provisioning import provision_account
from switchboard.receipts.whatsapp_replies import RepliedMessages
from tests.support.stores import AccountStore, ChannelLinkStore, MessagesTable

BUSINESS, CUSTOMER = "447700900100", "447700900123"


def sent(message_uuid: str, api_key: str, wamid: str, sender: str = BUSINESS, to: str = CUSTOMER) -> None:
    store = MessagesTable()
    message = OutboundMessage(
        channel=Channel.WHATSAPP, sender=Endpoint("whatsapp", number=sender), recipient=Endpoint("whatsapp", number=to),
        content=Content(type="text", text="hi"), api_version=ApiVersion.V1,
    )
    store.create(message_uuid, message, Principal(api_key=api_key))
    store.claim(message_uuid, "token", int(clock.now()) + 60)
    store.mark_submitted(message_uuid, "token", wamid, f"whatsapp#{wamid}")


def test_only_the_owners_message_in_this_conversation_is_named(aws: Any) -> None:
    owner = provision_account(AccountStore())["api_key"]
    other = provision_account(AccountStore())["api_key"]
    link_senders(owner, [("whatsapp", BUSINESS)])
    sent("m-owner", owner, "wamid.A")
    sent("m-other", other, "wamid.B")
    sent("m-elsewhere", owner, "wamid.C", to="447700900999")
    replies = RepliedMessages(MessagesTable(), ChannelLinkStore())

    assert replies.message_uuid(BUSINESS, CUSTOMER, "wamid.A") == "m-owner"
    assert replies.message_uuid(BUSINESS, CUSTOMER, "wamid.B") is None
    assert replies.message_uuid(BUSINESS, CUSTOMER, "wamid.C") is None
    assert replies.message_uuid(BUSINESS, CUSTOMER, "wamid.unknown") is None
    assert replies.message_uuid("447700900555", CUSTOMER, "wamid.A") is None
