"""Creating accounts and applications, and generating JWTs for them (used by the CLI and the local stack).

``cryptography`` and ``jwt`` are imported inside the functions that need them: this module is
imported by code that otherwise never touches them.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit

from switchboard import clock
from switchboard.store.accounts import AccountStore, UnknownAccount

MAX_URL_LENGTH = 2000
MAX_APPLICATION_NAME_LENGTH = 200
MIN_JWT_TTL_SECONDS = 1
MAX_JWT_TTL_SECONDS = 86400
RSA_KEY_BITS = 2048


def validate_webhook_url(url: str) -> str:
    """``url`` unchanged if it is an absolute http(s) URL with a host that resolves only to public
    addresses (the SSRF guard; hosts in ALLOWED_PRIVATE_WEBHOOK_HOSTS are exempt); ``ValueError`` otherwise."""
    if not isinstance(url, str) or not url:
        raise ValueError("webhook URL must be a non-empty string")
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"webhook URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError("webhook URL must not contain whitespace or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise ValueError(f"webhook URL is malformed: {url}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"webhook URL must use http or https: {url}")
    if not parts.hostname:
        raise ValueError(f"webhook URL has no host: {url}")
    from switchboard.config import settings
    from switchboard.webhooks.ssrf import check_webhook_url

    check_webhook_url(url, settings().allowed_private_webhook_hosts)  # UnsafeWebhookUrl is a ValueError
    return url


def provision_account(store: AccountStore, inbound_url: str | None = None, status_url: str | None = None) -> dict:
    """Create an account: ``{"api_key", "api_secret", "signature_secret"}``. The secret is shown only here."""
    inbound_url, status_url = _optional_urls(inbound_url, status_url)
    account, api_secret = store.create_account(inbound_url=inbound_url, status_url=status_url)
    return {"api_key": account.api_key, "api_secret": api_secret, "signature_secret": account.signature_secret}


def provision_application(
    store: AccountStore,
    api_key: str,
    name: str,
    inbound_url: str | None = None,
    status_url: str | None = None,
    private_key_out: str | Path | None = None,
) -> dict:
    """Create an application with a new RSA key pair: ``{"application_id", "private_key_path"}``.

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
    if store.get_account(api_key) is None:
        raise UnknownAccount(f"no account with api key {api_key!r}")

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    application_id = str(uuid.uuid4())
    key_file = f"{application_id}.key"
    path = Path(private_key_out if private_key_out is not None else key_file).absolute()
    if path.is_dir():
        path = path / key_file
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)
    private_pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")

    # Claim the file before creating the application, so a bad path leaves no keyless application.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            store.create_application(
                api_key, name.strip(), public_pem, inbound_url, status_url, application_id=application_id
            )
            fh.write(private_pem)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return {"application_id": application_id, "private_key_path": str(path)}


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
