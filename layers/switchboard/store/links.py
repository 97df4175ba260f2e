"""Channel links: which account (and optionally which application) owns a Messenger page, a Viber
service, an SMS number or an alphanumeric SMS sender id.

A link does two things: inbound messages to the address reach the owner's inbound webhook, and
only the owning account may send from the address (``is_linked_to``, checked on every send).

Items live in the AccountsTable next to accounts and applications::

    {"pk": "link#<channel>#<key>", "kind": "link", "channel", "address", "api_key",
     "application_id"?, "created_at"}

``address`` is as the operator gave it (an SMS number without its ``+``); ``key`` is the address
lower-cased. Only SMS sender ids have letters, so ``Acme`` and ``ACME`` are one sender id with one
owner: two accounts cannot both pose as the same brand by changing the case.

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

# [0-9] and [A-Za-z], not \d or str.isalpha(): those also match non-ASCII digits and letters.
_SMS_NUMBER = re.compile(r"[0-9]{1,15}")  # E.164 without the leading +
_SMS_SENDER_ID = re.compile(r"[A-Za-z0-9 ]{1,11}")  # as the send API accepts them, with a letter
_LETTER = re.compile(r"[A-Za-z]")
_PROVIDER_ID = re.compile(r"[0-9]{1,50}")  # Messenger page ids and Viber service ids are numeric
SMS_ADDRESS_RULE = (
    "a phone number in E.164 form (up to 15 digits, + optional) or an alphanumeric sender id "
    "(1 to 11 letters, digits and spaces, with at least one letter)"
)


class LinkExists(ValueError):
    """The address is linked already (delete that link first).

    The message does not say to whom; ``existing`` does, for callers entitled to know (operators).
    """

    def __init__(self, message: str, existing: ChannelLink | None = None) -> None:
        super().__init__(message)
        self.existing = existing


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
    """The address as providers report it: digits (an SMS number may be given with a leading +), or
    an SMS sender id with surrounding spaces removed and inner runs of spaces made one."""
    kind = parse_channel(channel)
    value = address.strip() if isinstance(address, str) else ""
    if kind is Channel.SMS:
        number = value.removeprefix("+")
        if _SMS_NUMBER.fullmatch(number):
            return number
        sender_id = re.sub(" +", " ", value)
        if _SMS_SENDER_ID.fullmatch(sender_id) and _LETTER.search(sender_id):
            return sender_id
        raise ValueError(f"an sms address is {SMS_ADDRESS_RULE}, not {address!r}")
    if not _PROVIDER_ID.fullmatch(value):
        what = "page id" if kind is Channel.MESSENGER else "service id"
        raise ValueError(f"a {kind.value} address is a numeric {what}, not {address!r}")
    return value


def link_key(channel: Channel | str, address: str) -> str:
    """The item key of a normalized address; case-insensitive (only sender ids have letters)."""
    return f"{LINK_PREFIX}{parse_channel(channel).value}#{address.lower()}"


class ChannelLinkStore:
    def __init__(self, table_name: str | None = None, cache_ttl_seconds: float = CACHE_TTL_SECONDS) -> None:
        self.table_name = table_name or settings().accounts_table
        self._cache: TtlCache[str, ChannelLink | None] = TtlCache(cache_ttl_seconds, CACHE_MAX_ENTRIES)
        # (api_key, link key) -> whether that account owns the address; see ``is_linked_to``.
        self._ownership: TtlCache[tuple[str, str], bool] = TtlCache(cache_ttl_seconds, CACHE_MAX_ENTRIES)
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
            raise LinkExists(
                f"{kind.value} address {link.address} is linked already", self._read(item["pk"])
            ) from None
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
        with self._lock:
            cached = self._ownership.get((api_key, key))
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        link = self._read(key)
        owned = link is not None and link.api_key == api_key
        with self._lock:
            self._ownership.put((api_key, key), owned)
        return owned

    def links_of(self, api_key: str) -> list[ChannelLink]:
        """Every link of an account, by channel then address.

        An operator's query, not a request path: it scans the AccountsTable (accounts, applications
        and links), so it reads the whole table once.
        """
        paginator = aws.client("dynamodb").get_paginator("scan")
        pages = paginator.paginate(
            TableName=self.table_name,
            ConsistentRead=True,
            FilterExpression="#kind = :link AND api_key = :api_key",
            ExpressionAttributeNames={"#kind": "kind"},
            ExpressionAttributeValues={":link": {"S": "link"}, ":api_key": {"S": api_key}},
        )
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
        removed = _link_from(response["Attributes"])
        self._remember(key, None)
        with self._lock:
            self._ownership.put((removed.api_key, key), False)
        return removed

    def clear_cache(self) -> None:
        with self._lock:
            self._cache = TtlCache(self._cache.ttl_seconds, CACHE_MAX_ENTRIES)
            self._ownership = TtlCache(self._ownership.ttl_seconds, CACHE_MAX_ENTRIES)

    def _read(self, key: str) -> ChannelLink | None:
        response: dict[str, Any] = aws.client("dynamodb").get_item(
            TableName=self.table_name, Key={"pk": {"S": key}}, ConsistentRead=True
        )
        item = response.get("Item")
        return _link_from(item) if item else None

    def _remember(self, key: str, link: ChannelLink | None) -> None:
        with self._lock:
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

