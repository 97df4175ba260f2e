"""Channel links: which account (and optionally which application) owns a Messenger page, a Viber
service or an SMS number, so inbound messages reach that customer's inbound webhook.

Items live in the AccountsTable next to accounts and applications::

    {"pk": "link#<channel>#<address>", "kind": "link", "channel", "address", "api_key",
     "application_id"?, "created_at"}

Lookups are cached in memory for ``CACHE_TTL_SECONDS`` (misses too), so a warm function reads a
busy page's owner once a minute at most. A link created or deleted elsewhere is therefore seen by
running functions within that time, not at once.
"""
from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

from switchboard import aws, clock
from switchboard.auth.ttl_cache import MISSING, TtlCache
from switchboard.config import settings
from switchboard.domain.message import Channel
from switchboard.store.accounts import AccountStore, UnknownAccount

LINK_PREFIX = "link#"
CACHE_TTL_SECONDS = 60.0
CACHE_MAX_ENTRIES = 10_000

_SMS_NUMBER = re.compile(r"\d{1,15}")  # E.164 without the leading +
_PROVIDER_ID = re.compile(r"\d{1,50}")  # Messenger page ids and Viber service ids are numeric


class LinkExists(ValueError):
    """The address is linked already (delete that link first)."""


class UnknownLink(LookupError):
    """No link for this channel and address."""


class UnknownApplication(LookupError):
    """No application with this id, or it belongs to another account."""


@dataclass(frozen=True)
class ChannelLink:
    channel: Channel
    address: str
    api_key: str
    application_id: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"channel": self.channel.value, "address": self.address, "api_key": self.api_key}
        if self.application_id is not None:
            out["application_id"] = self.application_id
        return out


def parse_channel(channel: Channel | str) -> Channel:
    try:
        return Channel(channel)
    except ValueError:
        names = ", ".join(c.value for c in Channel)
        raise ValueError(f"unknown channel {channel!r}; expected one of {names}") from None


def normalize_address(channel: Channel | str, address: str) -> str:
    """The address as providers report it: digits only (an SMS number may be given with a leading +)."""
    kind = parse_channel(channel)
    value = address.strip() if isinstance(address, str) else ""
    if kind is Channel.SMS:
        value = value.removeprefix("+")
        if not _SMS_NUMBER.fullmatch(value):
            raise ValueError(f"an sms address is a phone number in E.164 form (up to 15 digits), not {address!r}")
    elif not _PROVIDER_ID.fullmatch(value):
        what = "page id" if kind is Channel.MESSENGER else "service id"
        raise ValueError(f"a {kind.value} address is a numeric {what}, not {address!r}")
    return value


def link_key(channel: Channel | str, address: str) -> str:
    return f"{LINK_PREFIX}{parse_channel(channel).value}#{address}"


class ChannelLinkStore:
    def __init__(self, table_name: str | None = None, cache_ttl_seconds: float = CACHE_TTL_SECONDS) -> None:
        self.table_name = table_name or settings().accounts_table
        self._cache: TtlCache[str, ChannelLink | None] = TtlCache(cache_ttl_seconds, CACHE_MAX_ENTRIES)
        self._lock = threading.Lock()  # functions may run on several threads (the local stack does)

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
        ddb = aws.client("dynamodb")
        try:
            ddb.put_item(
                TableName=self.table_name,
                Item={k: {"S": v} for k, v in item.items()},
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            raise LinkExists(_already_linked(kind, link.address, self._read(item["pk"]))) from None
        self._remember(item["pk"], link)
        return link

    def get(self, channel: Channel | str, address: str) -> ChannelLink | None:
        try:
            kind = parse_channel(channel)
            key = link_key(kind, normalize_address(kind, address))
        except ValueError:
            return None
        with self._lock:
            cached = self._cache.get(key)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        link = self._read(key)
        self._remember(key, link)
        return link

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
        ddb = aws.client("dynamodb")
        try:
            response: dict[str, Any] = ddb.delete_item(
                TableName=self.table_name,
                Key={"pk": {"S": key}},
                ConditionExpression=condition,
                ReturnValues="ALL_OLD",
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            owner = f"account {api_key} has no link for" if api_key is not None else "no link for"
            raise UnknownLink(f"{owner} {kind.value} address {address}") from None
        self._remember(key, None)
        return _link_from(response["Attributes"])

    def clear_cache(self) -> None:
        with self._lock:
            self._cache = TtlCache(self._cache.ttl_seconds, CACHE_MAX_ENTRIES)

    def _read(self, key: str) -> ChannelLink | None:
        response: dict[str, Any] = aws.client("dynamodb").get_item(
            TableName=self.table_name, Key={"pk": {"S": key}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _link_from(item) if item else None

    def _remember(self, key: str, link: ChannelLink | None) -> None:
        with self._lock:
            self._cache.put(key, link)


def _already_linked(kind: Channel, address: str, existing: ChannelLink | None) -> str:
    """Says to whom (links are managed by the operator, who may see every account's links)."""
    owner = ""
    if existing is not None:
        owner = f" to account {existing.api_key}"
        if existing.application_id:
            owner += f" (application {existing.application_id})"
    return (
        f"{kind.value} address {address} is linked already{owner}; delete that link first "
        f"(switchboard links delete --channel {kind.value} --address {address})"
    )


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

