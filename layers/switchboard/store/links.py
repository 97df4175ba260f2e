"""Moved: links and address rules to ``switchboard.domain.tenancy``, their storage to
``switchboard.adapters.dynamodb.link_store``. This module is removed when the restructuring completes.
"""
from __future__ import annotations

from switchboard.adapters import aws_clients
from switchboard.adapters.dynamodb import link_store
from switchboard.adapters.dynamodb.link_store import (  # noqa: F401
    CACHE_MAX_ENTRIES,
    CACHE_TTL_SECONDS,
    LINK_PREFIX,
    link_key,
    provision_link,
)
from switchboard.config import settings
from switchboard.domain.tenancy import (  # noqa: F401
    SMS_ADDRESS_RULE,
    ChannelLink,
    LinkExists,
    UnknownAccount,
    UnknownApplication,
    UnknownLink,
    normalize_address,
    parse_channel,
)


class ChannelLinkStore(link_store.ChannelLinkStore):
    """The link store on the settings' AccountsTable, looking the client up at every use as before."""

    def __init__(self, table_name: str | None = None, cache_ttl_seconds: float = CACHE_TTL_SECONDS) -> None:
        super().__init__(
            aws_clients.DeferredClient("dynamodb"), table_name or settings().accounts_table, cache_ttl_seconds
        )
