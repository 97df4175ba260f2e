"""Accounts and applications in the AccountsTable (hash key ``pk``), and a cached lookup of both.

Items: ``account#<api_key>`` and ``application#<application_id>``; their attributes, and which
function reads and writes each, are in ``docs/data-model.md``. The credential rules (secret
hashing, rotation, grace periods) are in ``switchboard.domain.tenancy`` and ``docs/security.md``.

Every change is one conditional ``UpdateItem`` on the values it was computed from, so two changes
made at once never lose one of them (the loser re-reads and tries again).
"""
from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import ClientError

from switchboard import clock
from switchboard.adapters.dynamodb.account_items import (
    ACCOUNT_PREFIX,
    APPLICATION_PREFIX,
    STAND_IN_ACCOUNT_ITEM,
    account_from,
    application_from,
    attribute_value,
    plain_values,
)
from switchboard.adapters.dynamodb.conditional_table import ConditionalTable, is_condition_failure
from switchboard.domain.webhook_bodies import checked_version
from switchboard.domain.tenancy import (
    MAX_GRACE_SECONDS,
    Account,
    Application,
    NoSuchApplication,
    UnknownAccount,
    check_rate_limit,
    hash_api_secret,
    new_api_key,
    new_api_secret,
    new_signature_secret,
)

_MAX_ID_LENGTH = 256  # longer keys/ids cannot be ours; refuse them before they reach DynamoDB
_CREATE_ATTEMPTS = 5  # api keys are 32 random bits: a collision is rare, several in a row is not credible
_UPDATE_ATTEMPTS = 5  # optimistic updates: re-read and retry when another change landed in between
# What ``update_application`` may change (a value of None removes the attribute).
APPLICATION_SETTINGS = ("inbound_url", "status_url", "webhook_version")


class ConcurrentChange(RuntimeError):
    """The item kept changing under an update; nothing was written."""


class AccountStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self.table_name = table_name
        self._table = ConditionalTable(client, table_name, "pk")

    # -- accounts ---------------------------------------------------------------------------

    def create_account(self, inbound_url: str | None = None, status_url: str | None = None) -> tuple[Account, str]:
        """Create an account; returns it with the plaintext API secret, which exists only in this return value."""
        api_secret = new_api_secret()
        salt = secrets.token_hex(16)
        for _ in range(_CREATE_ATTEMPTS):
            account = Account(
                api_key=new_api_key(),
                secret_salt=salt,
                secret_hash=hash_api_secret(salt, api_secret),
                signature_secret=new_signature_secret(),
                inbound_url=inbound_url,
                status_url=status_url,
            )
            item = {
                "pk": ACCOUNT_PREFIX + account.api_key,
                "kind": "account",
                "api_key": account.api_key,
                "secret_salt": account.secret_salt,
                "secret_hash": account.secret_hash,
                "signature_secret": account.signature_secret,
                "inbound_url": inbound_url,
                "status_url": status_url,
                "created_at": clock.iso(),
            }
            if self._put_new(item):
                return account, api_secret
        raise RuntimeError("could not allocate a unique api key")

    def get_account(self, api_key: str) -> Account | None:
        if not _plausible_id(api_key):
            return None
        raw = self._get_raw(ACCOUNT_PREFIX + api_key)
        # A miss converts a stand-in item of the same shape, so looking up an unknown key costs our
        # code what a known key costs (the authenticator then checks a dummy secret hash).
        account = account_from(plain_values(raw if raw is not None else STAND_IN_ACCOUNT_ITEM))
        return None if raw is None else account

    def rotate_api_secret(self, api_key: str, grace_seconds: int, now: float | None = None) -> tuple[Account, str]:
        """A new API secret for ``api_key``; returns the account and the plaintext secret (only here).

        The replaced secret keeps working for ``grace_seconds`` (0: it stops at once). A secret
        still in its grace period from an earlier rotation stops now: there is one previous secret.
        Raises ``UnknownAccount`` and ``ValueError`` (grace out of range).
        """
        if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, int):
            raise ValueError("grace period must be a whole number of seconds")
        if not 0 <= grace_seconds <= MAX_GRACE_SECONDS:
            raise ValueError(f"grace period must be between 0 and {MAX_GRACE_SECONDS} seconds")
        now = clock.now() if now is None else now
        api_secret = new_api_secret()
        salt = secrets.token_hex(16)
        new_hash = hash_api_secret(salt, api_secret)

        def change(item: dict[str, Any]) -> _Update:
            values: dict[str, Any] = {":salt": salt, ":hash": new_hash, ":at": clock.iso(now)}
            sets = ["secret_salt = :salt", "secret_hash = :hash", "secret_rotated_at = :at"]
            removes: list[str] = []
            previous = ("previous_secret_salt", "previous_secret_hash", "previous_secret_expires_at")
            if grace_seconds > 0:
                values.update({":psalt": item["secret_salt"], ":phash": item["secret_hash"], ":pexp": now + grace_seconds})
                sets += ["previous_secret_salt = :psalt", "previous_secret_hash = :phash",
                         "previous_secret_expires_at = :pexp"]
            else:
                removes += previous
            return _Update(sets, removes, values, {"secret_hash": item["secret_hash"]})

        item = self._update(ACCOUNT_PREFIX + api_key, change, UnknownAccount(f"no account with api key {api_key!r}"))
        return account_from(item), api_secret

    def rotate_signature_secret(self, api_key: str, effective_at: float, now: float | None = None) -> Account:
        """A new webhook signature secret for ``api_key``, signing from ``effective_at`` (epoch seconds).

        Until then the current secret signs. A next secret that is already in effect becomes the
        current one first; one that is not yet in effect is replaced (it never signed anything).
        """
        now = clock.now() if now is None else now
        new_secret = new_signature_secret()

        def change(item: dict[str, Any]) -> _Update:
            current = account_from(item).signature_secret_at(now)
            values = {":cur": current, ":next": new_secret, ":eff": float(effective_at)}
            sets = ["signature_secret = :cur", "next_signature_secret = :next", "next_signature_secret_effective_at = :eff"]
            expected = {
                "signature_secret": item["signature_secret"],
                "next_signature_secret": item.get("next_signature_secret"),
            }
            return _Update(sets, [], values, expected)

        item = self._update(ACCOUNT_PREFIX + api_key, change, UnknownAccount(f"no account with api key {api_key!r}"))
        return account_from(item)

    def set_disabled(self, api_key: str, disabled: bool) -> Account:
        """Disable (refuse every request of) or enable the account ``api_key``; ``UnknownAccount`` if none."""

        def change(item: dict[str, Any]) -> _Update:
            values = {":d": bool(disabled), ":at": clock.iso()}
            return _Update(["disabled = :d", "disabled_changed_at = :at"], [], values, {})

        item = self._update(ACCOUNT_PREFIX + api_key, change, UnknownAccount(f"no account with api key {api_key!r}"))
        return account_from(item)

    def set_webhook_version(self, api_key: str, version: str | None) -> Account:
        """Choose the webhook shape for the account's Basic-auth traffic (``None``: remove the choice).

        ``ValueError`` for a version other than ``v0.1`` / ``v1``; ``UnknownAccount`` if none.
        """
        if version is not None:
            checked_version(version)
        if not _plausible_id(api_key):
            raise UnknownAccount(f"no account with api key {api_key!r}")

        def change(item: dict[str, Any]) -> _Update:
            values: dict[str, Any] = {":at": clock.iso()}
            if version is None:
                return _Update(["settings_changed_at = :at"], ["webhook_version"], values, {})
            values[":v"] = version
            return _Update(["webhook_version = :v", "settings_changed_at = :at"], [], values, {})

        item = self._update(ACCOUNT_PREFIX + api_key, change, UnknownAccount(f"no account with api key {api_key!r}"))
        return account_from(item)

    def set_rate_limit(self, api_key: str, per_second: int | None) -> None:
        """Give the account its own request limit (``None``: back to the deployment's default).

        Raises ``UnknownAccount`` for an unknown key and ``ValueError`` for a limit outside
        1..``MAX_RATE_LIMIT_PER_SECOND``.
        """
        if per_second is not None:
            check_rate_limit(per_second)
        if not _plausible_id(api_key):
            raise UnknownAccount(f"no account with api key {api_key!r}")
        if per_second is None:
            update: dict[str, Any] = {"UpdateExpression": "REMOVE rate_limit_per_second"}
        else:
            update = {
                "UpdateExpression": "SET rate_limit_per_second = :limit",
                "ExpressionAttributeValues": {":limit": {"N": str(per_second)}},
            }
        try:
            self._table.request(
                "update_item",
                TableName=self.table_name,
                Key={"pk": {"S": ACCOUNT_PREFIX + api_key}},
                ConditionExpression="attribute_exists(pk)",
                **update,
            )
        except ClientError as exc:
            if not is_condition_failure(exc):
                raise
            raise UnknownAccount(f"no account with api key {api_key!r}") from None

    # -- applications -----------------------------------------------------------------------

    def create_application(
        self,
        api_key: str,
        name: str,
        public_key_pem: str,
        inbound_url: str | None = None,
        status_url: str | None = None,
        *,
        application_id: str | None = None,
        webhook_version: str | None = None,
    ) -> Application:
        """Create an application owned by ``api_key``; raises ``UnknownAccount`` if there is no such account.

        ``application_id`` lets the caller choose the id up front (a uuid4 is generated otherwise);
        ``webhook_version`` (``v0.1`` | ``v1``) chooses its webhook shape (None: not set).
        """
        if webhook_version is not None:
            checked_version(webhook_version)
        if self.get_account(api_key) is None:
            raise UnknownAccount(f"no account with api key {api_key!r}")
        application = Application(
            application_id=application_id or str(uuid.uuid4()),
            api_key=api_key,
            name=name,
            public_key_pem=public_key_pem,
            inbound_url=inbound_url,
            status_url=status_url,
            webhook_version=webhook_version,
        )
        item = {
            "pk": APPLICATION_PREFIX + application.application_id,
            "kind": "application",
            "application_id": application.application_id,
            "api_key": api_key,
            "name": name,
            "public_key_pem": public_key_pem,
            "inbound_url": inbound_url,
            "status_url": status_url,
            "webhook_version": webhook_version,
            "created_at": clock.iso(),
        }
        if not self._put_new(item):
            raise ValueError(f"application {application.application_id} already exists")
        return application

    def get_application(self, application_id: str) -> Application | None:
        if not _plausible_id(application_id):
            return None
        item = self._get(APPLICATION_PREFIX + application_id)
        return None if item is None else application_from(item)

    def update_application(self, application_id: str, changes: dict[str, str | None]) -> Application:
        """Change the application's settings named in ``changes`` (``APPLICATION_SETTINGS``; None removes one).

        Callers validate names and URLs; the webhook version is checked here. ``ValueError`` for
        nothing to change or an unknown setting, ``NoSuchApplication`` if there is no such application.
        """
        unknown = sorted(set(changes) - set(APPLICATION_SETTINGS))
        if unknown or not changes:
            raise ValueError(f"nothing to change, or not a setting of an application: {', '.join(unknown) or '-'}")
        if changes.get("webhook_version") is not None:
            checked_version(str(changes["webhook_version"]))
        if not _plausible_id(application_id):
            raise _unknown_application(application_id)

        def change(item: dict[str, Any]) -> _Update:
            sets, removes, values = ["settings_changed_at = :at"], [], {":at": clock.iso()}
            for index, (name, value) in enumerate(sorted(changes.items())):
                if value is None:
                    removes.append(name)
                else:
                    sets.append(f"{name} = :s{index}")
                    values[f":s{index}"] = value
            return _Update(sets, removes, values, {})

        item = self._update(APPLICATION_PREFIX + application_id, change, _unknown_application(application_id))
        return application_from(item)

    def add_public_key(self, application_id: str, public_key_pem: str) -> Application:
        """Store ``public_key_pem`` beside the application's current key: tokens signed by either verify.

        ``ValueError`` if the application already has two keys (remove one first) or has this one;
        ``NoSuchApplication`` if there is no such application.
        """

        def change(item: dict[str, Any]) -> _Update:
            if item.get("second_public_key_pem"):
                raise ValueError(
                    f"application {application_id} already has two keys; remove one first (apps remove-key)"
                )
            if item["public_key_pem"] == public_key_pem:
                raise ValueError(f"application {application_id} already has this key")
            values = {":k": public_key_pem, ":at": clock.iso()}
            expected = {"public_key_pem": item["public_key_pem"], "second_public_key_pem": None}
            return _Update(["second_public_key_pem = :k", "keys_changed_at = :at"], [], values, expected)

        item = self._update(APPLICATION_PREFIX + application_id, change, _unknown_application(application_id))
        return application_from(item)

    def remove_public_key(self, application_id: str, public_key_pem: str) -> Application:
        """Stop accepting tokens signed with ``public_key_pem``; the other key stays (and becomes the only one).

        ``ValueError`` if that is the application's only key or not one of its keys.
        """

        def change(item: dict[str, Any]) -> _Update:
            first, second = item["public_key_pem"], item.get("second_public_key_pem")
            if public_key_pem not in (first, second):
                raise ValueError(f"application {application_id} has no such key")
            if not second:
                raise ValueError(f"that is application {application_id}'s only key; add a new one first (apps add-key)")
            values = {":k": second if public_key_pem == first else first, ":at": clock.iso()}
            expected = {"public_key_pem": first, "second_public_key_pem": second}
            return _Update(["public_key_pem = :k", "keys_changed_at = :at"], ["second_public_key_pem"], values, expected)

        item = self._update(APPLICATION_PREFIX + application_id, change, _unknown_application(application_id))
        return application_from(item)

    # -- DynamoDB ---------------------------------------------------------------------------

    def _put_new(self, item: dict[str, str | None]) -> bool:
        """Conditional put; False if an item with this ``pk`` already exists."""
        return self._table.try_put_new({k: v for k, v in item.items() if v is not None})

    def _get(self, pk: str) -> dict[str, Any] | None:
        raw = self._get_raw(pk)
        return None if raw is None else plain_values(raw)

    def _get_raw(self, pk: str) -> dict[str, Any] | None:
        """The item in DynamoDB's attribute-value format."""
        # Consistent read: a key provisioned a moment ago must work on its first request.
        return self._table.get_raw(pk, consistent=True)

    def _update(self, pk: str, change: Callable[[dict[str, Any]], "_Update"], missing: Exception) -> dict[str, Any]:
        """Read the item, compute ``change`` from it, and write it only if the item is still as read.

        Retries on a concurrent change; raises ``missing`` if there is no item, ``ConcurrentChange``
        if the item kept changing. Returns the item as written.
        """
        for _ in range(_UPDATE_ATTEMPTS):
            item = self._get(pk)
            if item is None:
                raise missing
            update = change(item)
            names: dict[str, str] = {}
            values: dict[str, Any] = {}
            conditions = ["attribute_exists(pk)"]
            for index, (attribute, expected) in enumerate(sorted(update.expected.items())):
                names[f"#e{index}"] = attribute
                if expected is None:
                    conditions.append(f"attribute_not_exists(#e{index})")
                else:
                    values[f":e{index}"] = attribute_value(expected)
                    conditions.append(f"#e{index} = :e{index}")
            values.update({name: attribute_value(value) for name, value in update.values.items()})
            expression = "SET " + ", ".join(update.sets)
            if update.removes:
                expression += " REMOVE " + ", ".join(update.removes)
            request: dict[str, Any] = {
                "TableName": self.table_name,
                "Key": {"pk": {"S": pk}},
                "UpdateExpression": expression,
                "ConditionExpression": " AND ".join(conditions),
                "ExpressionAttributeValues": values,
                "ReturnValues": "ALL_NEW",
            }
            if names:
                request["ExpressionAttributeNames"] = names
            try:
                response = self._table.request("update_item", **request)
            except ClientError as exc:
                if not is_condition_failure(exc):
                    raise
                continue
            return plain_values(response["Attributes"])
        raise ConcurrentChange(f"{pk} kept changing while it was being updated; try again")


@dataclass(frozen=True)
class _Update:
    sets: list[str]
    removes: list[str]
    values: dict[str, Any]  # ":name" -> a str, bool or number
    expected: dict[str, Any]  # attribute -> the value read (None: absent) that the write is conditional on


def _unknown_application(application_id: str) -> NoSuchApplication:
    return NoSuchApplication(f"no application with id {application_id!r}")


def _plausible_id(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= _MAX_ID_LENGTH
