"""Channel links in the AccountsTable: ``pk = "link#<channel>#<key>"`` (``key``: the address lower-cased).

What a link means and how addresses are normalized: ``switchboard.domain.tenancy``; the item:
``docs/data-model.md``. Lookups are cached in memory for ``CACHE_TTL_SECONDS`` (misses too), so a
warm function reads a busy page's owner once a minute at most. A link created or deleted
elsewhere is therefore seen by running functions within that time, not at once.
"""
from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from switchboard import clock
from switchboard.adapters.dynamodb.account_store import AccountStore
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable, dynamodb_errors, is_condition_failure
from switchboard.domain.message import Channel
from switchboard.domain.tenancy import (
    ChannelLink,
    LinkExists,
    UnknownAccount,
    UnknownApplication,
    UnknownLink,
    normalize_address,
    parse_channel,
)
from switchboard.ttl_cache import MISSING, TtlCache

LINK_PREFIX = "link#"
CACHE_TTL_SECONDS = 60.0
CACHE_MAX_ENTRIES = 10_000


def link_key(channel: Channel | str, address: str) -> str:
    """The item key of a normalized address; case-insensitive (only sender ids have letters)."""
    return f"{LINK_PREFIX}{parse_channel(channel).value}#{address.lower()}"


class ChannelLinkStore:
    def __init__(self, client: Any, table_name: str, cache_ttl_seconds: float = CACHE_TTL_SECONDS) -> None:
        self.table_name = table_name
        self._table = ConditionalTable(client, table_name, "pk")
        self._cache: TtlCache[str, ChannelLink | None] = TtlCache(cache_ttl_seconds, CACHE_MAX_ENTRIES)
        # (api_key, link key) -> whether that account owns the address; see ``is_linked_to``.
        self._ownership: TtlCache[tuple[str, str], bool] = TtlCache(cache_ttl_seconds, CACHE_MAX_ENTRIES)

    def link(
        self, channel: Channel | str, address: str, api_key: str, application_id: str | None = None
    ) -> ChannelLink:
        """Create a link; ``LinkExists`` if the address is linked already (links are never overwritten)."""
        kind = parse_channel(channel)
        link = ChannelLink(kind, normalize_address(kind, address), api_key, application_id or None)
        item = {
            "pk": link_key(kind, link.address),
            "kind": "link",
            **link.to_dict(),
            "created_at": clock.iso(),
        }
        if not self._table.try_put_new(item):
            raise LinkExists(f"{kind.value} address {link.address} is linked already", self._read(item["pk"]))
        self._remember(item["pk"], link)
        return link

    def get(self, channel: Channel | str, address: str) -> ChannelLink | None:
        try:
            kind = parse_channel(channel)
            key = link_key(kind, normalize_address(kind, address))
        except ValueError:
            return None
        cached = self._cache.get(key)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        link = self._read(key)
        self._remember(key, link)
        return link

    def is_linked_to(self, api_key: str, channel: Channel | str, address: str) -> bool:
        """Whether account ``api_key`` owns this sender: the ownership check of every send.

        Cached per account and address for ``CACHE_TTL_SECONDS`` (a warm send reads nothing), and
        kept apart from ``get``'s cache on purpose: an account's first send from an address always
        costs one read, whoever owns it and whether anyone sent from it recently, so the time of
        the answer tells nothing about other accounts' senders.
        """
        try:
            kind = parse_channel(channel)
            key = link_key(kind, normalize_address(kind, address))
        except ValueError:
            return False
        cached = self._ownership.get((api_key, key))
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        link = self._read(key)
        owned = link is not None and link.api_key == api_key
        self._ownership.put((api_key, key), owned)
        return owned

    def links_of(self, api_key: str) -> list[ChannelLink]:
        """Every link of an account, by channel then address.

        An operator's query, not a request path: it scans the AccountsTable (accounts, applications
        and links), so it reads the whole table once.
        """
        paginator = self._table.client.get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table_name,
            ConsistentRead=True,
            FilterExpression="#kind = :link AND api_key = :api_key",
            ExpressionAttributeNames={"#kind": "kind"},
            ExpressionAttributeValues={":link": {"S": "link"}, ":api_key": {"S": api_key}},
        )
        with dynamodb_errors():
            links = [_link_from(item) for page in pages for item in page.get("Items", [])]
        return sorted(links, key=lambda link: (link.channel.value, link.address.lower()))

    def unlink(self, channel: Channel | str, address: str, api_key: str | None = None) -> ChannelLink:
        """Delete a link and return it; with ``api_key``, only if it is that account's.

        ``UnknownLink`` when there is no such link (or it belongs to another account).
        """
        kind = parse_channel(channel)
        key = link_key(kind, normalize_address(kind, address))
        condition = "attribute_exists(pk)"
        values: dict[str, Any] = {}
        if api_key is not None:
            condition += " AND api_key = :api_key"
            values[":api_key"] = {"S": api_key}
        try:
            response: dict[str, Any] = self._table.request(
                "delete_item",
                TableName=self.table_name,
                Key={"pk": {"S": key}},
                ConditionExpression=condition,
                ReturnValues="ALL_OLD",
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            owner = f"account {api_key} has no link for" if api_key is not None else "no link for"
            raise UnknownLink(f"{owner} {kind.value} address {address}") from None
        removed = _link_from(response["Attributes"])
        self._remember(key, None)
        self._ownership.put((removed.api_key, key), False)
        return removed

    def clear_cache(self) -> None:
        self._cache.clear()
        self._ownership.clear()

    def _read(self, key: str) -> ChannelLink | None:
        item = self._table.get_raw(key, consistent=True)
        return _link_from(item) if item else None

    def _remember(self, key: str, link: ChannelLink | None) -> None:
        self._cache.put(key, link)
        if link is not None:
            self._ownership.put((link.api_key, key), True)


def _link_from(item: dict[str, Any]) -> ChannelLink:
    values = {k: v["S"] for k, v in item.items() if "S" in v}
    return ChannelLink(
        channel=Channel(values["channel"]),
        address=values["address"],
        api_key=values["api_key"],
        application_id=values.get("application_id"),
    )


def provision_link(
    accounts: AccountStore,
    links: ChannelLinkStore,
    channel: Channel | str,
    address: str,
    api_key: str,
    application_id: str | None = None,
) -> ChannelLink:
    """Link an address after checking the account exists and the application (if any) is the account's.

    Raises ``UnknownAccount`` / ``UnknownApplication`` (``LookupError``), ``LinkExists`` or
    ``ValueError`` (bad channel or address).
    """
    kind = parse_channel(channel)
    normalize_address(kind, address)
    if accounts.get_account(api_key) is None:
        raise UnknownAccount(f"no account with api key {api_key!r}")
    if application_id is not None:
        application = accounts.get_application(application_id)
        if application is None or application.api_key != api_key:
            raise UnknownApplication(f"account {api_key} has no application {application_id!r}")
    return links.link(kind, address, api_key, application_id)

