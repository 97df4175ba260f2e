"""Creating accounts and applications, changing their credentials over their lifetime, and generating
JWTs for them (used by the CLI and the local stack). See ``docs/security.md``, "Credentials and rotation".

``cryptography`` and ``jwt`` are imported inside the functions that need them: this module is
imported by code that otherwise never touches them.
"""
from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from switchboard import clock
from switchboard.adapters.dynamodb.account_store import AccountStore
from switchboard.domain.tenancy import Application, NoSuchApplication, UnknownAccount, check_rate_limit
from switchboard.domain.webhook_bodies import checked_version

if TYPE_CHECKING:
    from switchboard.adapters.dynamodb.link_store import ChannelLinkStore
    from switchboard.settings import ProvisioningSettings

MAX_URL_LENGTH = 2000
MAX_APPLICATION_NAME_LENGTH = 200
MIN_JWT_TTL_SECONDS = 1
MAX_JWT_TTL_SECONDS = 86400
RSA_KEY_BITS = 2048


def validate_webhook_url(url: str) -> str:
    """``url`` unchanged if the SSRF guard accepts it (``adapters/webhook_http/ssrf_guard.py``: an absolute http(s) URL
    without user information or backslashes, whose host resolves only to public addresses; hosts in
    ALLOWED_PRIVATE_WEBHOOK_HOSTS are exempt from the address check); ``ValueError`` otherwise."""
    if not isinstance(url, str) or not url:
        raise ValueError("webhook URL must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"webhook URL is longer than {MAX_URL_LENGTH} characters")
    from switchboard.adapters.webhook_http.ssrf_guard import check_webhook_url
    from switchboard.settings import WebhookUrlSettings, load_settings

    allowed = load_settings(WebhookUrlSettings).allowed_private_webhook_hosts
    check_webhook_url(url, allowed)  # UnsafeWebhookUrl is a ValueError
    return url


def provision_account(
    store: AccountStore,
    inbound_url: str | None = None,
    status_url: str | None = None,
    *,
    rate_limit_per_second: int | None = None,
) -> dict:
    """Create an account: ``{"api_key", "api_secret", "signature_secret"}``. The secret is shown only here.

    ``rate_limit_per_second`` gives it its own request limit instead of the deployment's default.
    """
    inbound_url, status_url = _optional_urls(inbound_url, status_url)
    if rate_limit_per_second is not None:
        check_rate_limit(rate_limit_per_second)
    account, api_secret = store.create_account(inbound_url=inbound_url, status_url=status_url)
    if rate_limit_per_second is not None:
        store.set_rate_limit(account.api_key, rate_limit_per_second)
    return {"api_key": account.api_key, "api_secret": api_secret, "signature_secret": account.signature_secret}


def set_account_rate_limit(store: AccountStore, api_key: str, per_second: int | None) -> dict:
    """Set (or with ``None`` remove) an account's own request limit: ``{"api_key", "rate_limit_per_second"}``.

    ``rate_limit_per_second`` is ``None`` when the account follows the deployment's default. Warm API
    functions see the change within their credential cache's lifetime (60 s).
    """
    store.set_rate_limit(api_key, per_second)
    return {"api_key": api_key, "rate_limit_per_second": per_second}


def provision_application(
    store: AccountStore,
    api_key: str,
    name: str,
    inbound_url: str | None = None,
    status_url: str | None = None,
    private_key_out: str | Path | None = None,
    webhook_version: str | None = None,
) -> dict:
    """Create an application with a new RSA key pair: ``{"application_id", "private_key_path"}``
    (and ``webhook_version`` when one was chosen: ``v0.1`` or ``v1``, the shape of its webhooks).

    The public key is stored; the PKCS#8 private key is written to ``private_key_out`` (a directory:
    ``<directory>/<application_id>.key``; default ``./<application_id>.key``), created with mode 0600.
    An existing file is never overwritten
    (``FileExistsError``). Raises ``UnknownAccount`` (a ``LookupError``) for an unknown ``api_key``
    and ``ValueError`` for a bad name or URL.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("application name must not be empty")
    if len(name) > MAX_APPLICATION_NAME_LENGTH:
        raise ValueError(f"application name is longer than {MAX_APPLICATION_NAME_LENGTH} characters")
    inbound_url, status_url = _optional_urls(inbound_url, status_url)
    if webhook_version is not None:
        checked_version(webhook_version)
    if store.get_account(api_key) is None:
        raise UnknownAccount(f"no account with api key {api_key!r}")

    application_id = str(uuid.uuid4())
    path = _key_path(private_key_out, f"{application_id}.key")
    private_pem, public_pem = _new_key_pair()

    def create() -> None:
        store.create_application(
            api_key, name.strip(), public_pem, inbound_url, status_url,
            application_id=application_id, webhook_version=webhook_version,
        )

    _write_private_key_then(path, private_pem, create)
    created = {"application_id": application_id, "private_key_path": str(path)}
    return created | ({"webhook_version": webhook_version} if webhook_version else {})


# Passed to ``update_application`` / ``set_account_webhook_version`` to remove a setting.
DEFAULT = "default"


def update_application(store: AccountStore, application_id: str, **settings: str | None) -> dict:
    """Change an application's webhook URLs or webhook version; returns its settings as JSON-able dict.

    ``settings`` are ``inbound_url``, ``status_url`` and ``webhook_version`` (``v0.1`` | ``v1``);
    a value of ``DEFAULT`` removes the setting (URLs: the account's apply; version: the rule in
    ``docs/webhooks.md``), ``None`` leaves it as it is. ``ValueError`` when nothing is to change or
    a value is bad.
    """
    changes: dict[str, str | None] = {}
    for name, value in settings.items():
        if value is None:
            continue
        if value == DEFAULT:
            changes[name] = None
        elif name == "webhook_version":
            changes[name] = checked_version(value)
        else:
            changes[name] = validate_webhook_url(value)
    if not changes:
        raise ValueError("nothing to change: give --inbound-url, --status-url or --webhook-version")
    application = store.update_application(application_id, changes)
    return {
        "application_id": application.application_id,
        "inbound_url": application.inbound_url,
        "status_url": application.status_url,
        "webhook_version": application.webhook_version,
    }


def set_account_webhook_version(store: AccountStore, api_key: str, version: str) -> dict:
    """Choose the webhook shape of the account's Basic-auth traffic (``v0.1`` | ``v1``, or ``DEFAULT`` to
    remove the choice): ``{"api_key", "webhook_version"}``. Applications have their own setting."""
    account = store.set_webhook_version(api_key, None if version == DEFAULT else checked_version(version))
    return {"api_key": account.api_key, "webhook_version": account.webhook_version}


# -- credentials over their lifetime --------------------------------------------------------------


def rotate_api_secret(store: AccountStore, api_key: str, grace_seconds: int) -> dict:
    """A new API secret: ``{"api_key", "api_secret", "previous_secret_expires_at"}``, the secret shown only here.

    The old secret keeps working until ``previous_secret_expires_at`` (ISO-8601; ``None`` when
    ``grace_seconds`` is 0 and it stops at once).
    """
    account, api_secret = store.rotate_api_secret(api_key, grace_seconds)
    expires_at = account.previous_secret_expires_at
    return {
        "api_key": account.api_key,
        "api_secret": api_secret,
        "previous_secret_expires_at": None if expires_at is None else clock.iso(expires_at),
    }


def rotate_signature_secret(store: AccountStore, api_key: str, effective_at: float | None = None) -> dict:
    """A new webhook signature secret, signing from ``effective_at`` (epoch seconds; default and at the
    earliest: now): ``{"api_key", "signature_secret", "effective_at"}``. The old secret signs until then."""
    now = clock.now()
    effective = now if effective_at is None else max(float(effective_at), now)
    account = store.rotate_signature_secret(api_key, effective, now=now)
    return {
        "api_key": account.api_key,
        "signature_secret": account.next_signature_secret,
        "effective_at": clock.iso(effective),
    }


def set_account_disabled(store: AccountStore, api_key: str, disabled: bool) -> dict:
    """Disable or enable an account: ``{"api_key", "disabled"}``."""
    account = store.set_disabled(api_key, disabled)
    return {"api_key": account.api_key, "disabled": account.disabled}


def application_keys(store: AccountStore, application_id: str) -> dict:
    """``{"application_id", "key_ids"}``: the ids (RFC 7638 thumbprints) of the application's public keys."""
    return {"application_id": application_id, "key_ids": list(_key_ids(_application(store, application_id)))}


def add_application_key(
    store: AccountStore, application_id: str, private_key_out: str | Path | None = None
) -> dict:
    """A new key pair for an application, its public key stored beside the current one (both verify).

    The PKCS#8 private key is written to ``private_key_out`` (default ``./<application_id>-<key id
    prefix>.key``), mode 0600, never over an existing file. Returns ``{"application_id", "key_id",
    "private_key_path", "key_ids"}``. ``ValueError`` when the application already has two keys.
    """
    from switchboard.auth.key_ids import key_id_of_pem

    application = _application(store, application_id)
    if application.second_public_key_pem:
        raise ValueError(f"application {application_id} already has two keys; remove one first (apps remove-key)")
    private_pem, public_pem = _new_key_pair()
    new_key_id = key_id_of_pem(public_pem)
    path = _key_path(private_key_out, f"{application_id}-{new_key_id[:8]}.key")
    updated: list[Application] = []

    def store_key() -> None:
        updated.append(store.add_public_key(application_id, public_pem))

    _write_private_key_then(path, private_pem, store_key)
    return {
        "application_id": application_id,
        "key_id": new_key_id,
        "private_key_path": str(path),
        "key_ids": list(_key_ids(updated[0])),
    }


def remove_application_key(store: AccountStore, application_id: str, key_id: str) -> dict:
    """Stop accepting tokens signed with the key ``key_id``: ``{"application_id", "removed_key_id", "key_ids"}``.

    ``ValueError`` if it is the application's only key or not one of its keys.
    """
    application = _application(store, application_id)
    pems = dict(zip(_key_ids(application), application.public_key_pems))
    if key_id not in pems:
        known = ", ".join(pems) or "none"
        raise ValueError(f"application {application_id} has no key {key_id!r} (its keys: {known})")
    updated = store.remove_public_key(application_id, pems[key_id])
    return {"application_id": application_id, "removed_key_id": key_id, "key_ids": list(_key_ids(updated))}


def parse_instant(text: str) -> float:
    """Epoch seconds of an ISO-8601 date and time with a UTC offset (``2026-12-01T09:00:00Z``); ``ValueError`` otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except (AttributeError, ValueError):
        raise ValueError(f"not an ISO-8601 date and time: {text!r}") from None
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset; add Z or +HH:MM")
    return moment.timestamp()


def _application(store: AccountStore, application_id: str) -> Application:
    application = store.get_application(application_id)
    if application is None:
        raise NoSuchApplication(f"no application with id {application_id!r}")
    return application


def _key_ids(application: Application) -> tuple[str, ...]:
    from switchboard.auth.key_ids import key_id_of_pem

    ids = []
    for pem in application.public_key_pems:
        try:
            ids.append(key_id_of_pem(pem))
        except ValueError:
            ids.append("unusable-key")
    return tuple(ids)


def _key_path(private_key_out: str | Path | None, file_name: str) -> Path:
    """``private_key_out`` itself, or ``file_name`` inside it when it is a directory (default: the current one)."""
    path = Path(private_key_out if private_key_out is not None else file_name).absolute()
    return path / file_name if path.is_dir() else path


def _new_key_pair() -> tuple[bytes, str]:
    """A new RSA key pair: (PKCS#8 private key PEM, SubjectPublicKeyInfo public key PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")
    return private_pem, public_pem


def _write_private_key_then(path: Path, private_pem: bytes, store_public_key: Callable[[], None]) -> None:
    """Claim ``path`` (mode 0600, never an existing file), run ``store_public_key``, then write the key.

    Claiming the file first means a bad path stores no key nobody holds; if storing fails, the file goes.
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            store_public_key()
            fh.write(private_pem)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def generate_jwt(
    application_id: str, private_key_pem: str | bytes, ttl_seconds: int = 900, now: float | None = None
) -> str:
    """An RS256 JWT for ``application_id``: claims ``application_id``, ``iat``, ``jti`` (uuid4), ``exp``.

    ``ttl_seconds`` must be 1..86400; ``ValueError`` for that, an empty id or an unusable key.
    """
    if not isinstance(application_id, str) or not application_id:
        raise ValueError("application id must not be empty")
    if isinstance(ttl_seconds, bool) or not isinstance(ttl_seconds, int):
        raise ValueError("ttl must be a whole number of seconds")
    if not MIN_JWT_TTL_SECONDS <= ttl_seconds <= MAX_JWT_TTL_SECONDS:
        raise ValueError(f"ttl must be between {MIN_JWT_TTL_SECONDS} and {MAX_JWT_TTL_SECONDS} seconds")

    import jwt
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    pem = private_key_pem.encode("utf-8") if isinstance(private_key_pem, str) else private_key_pem
    try:
        key = load_pem_private_key(pem, password=None)
    except (ValueError, TypeError):
        key = None
    if not isinstance(key, RSAPrivateKey):
        raise ValueError("private key is not an unencrypted PEM RSA private key")

    iat = int(clock.now() if now is None else now)
    claims = {"application_id": application_id, "iat": iat, "jti": str(uuid.uuid4()), "exp": iat + ttl_seconds}
    return jwt.encode(claims, key, algorithm="RS256", headers={"typ": "JWT"})


def _optional_urls(*urls: str | None) -> tuple[str | None, ...]:
    return tuple(None if url is None else validate_webhook_url(url) for url in urls)


def account_store(settings: "ProvisioningSettings | None" = None) -> AccountStore:
    """The accounts table of ``settings`` (default: from the environment), for the operator tools."""
    from switchboard.adapters import aws_clients
    from switchboard.settings import ProvisioningSettings, load_settings

    table = (settings or load_settings(ProvisioningSettings)).accounts_table
    return AccountStore(aws_clients.DeferredClient("dynamodb"), table)


def link_store(accounts: AccountStore) -> "ChannelLinkStore":
    """The sender links, kept in the same table as ``accounts``."""
    from switchboard.adapters import aws_clients
    from switchboard.adapters.dynamodb.link_store import ChannelLinkStore

    return ChannelLinkStore(aws_clients.DeferredClient("dynamodb"), accounts.table_name)
