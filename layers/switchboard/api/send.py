"""Moved to ``switchboard.api.message_acceptor``; this shim is removed when the restructuring completes."""
from switchboard.api.message_acceptor import (  # noqa: F401
    REFUSED_SENDER_REASON,
    VIBER_FIRST_MESSAGE_REASON,
    Contacts,
    MessageAcceptor,
    MessageRecords,
    Queue,
    SenderLinks,
    parse_message,
)
