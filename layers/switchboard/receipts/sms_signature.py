"""SMS API signed requests (protocols.md 3.5): the ``sig`` parameter of DLR and inbound SMS webhooks.

The signed string is every parameter except ``sig``, sorted by name, each written ``&name=value``
with ``&`` and ``=`` inside values replaced by ``_``. ``md5hash`` (the dashboard default) is the hex
MD5 of that string followed by the secret; ``md5``, ``sha1``, ``sha256`` and ``sha512`` are hex HMACs
of it keyed with the secret. Signatures are compared case-insensitively (some SDKs send upper-case
hex) and in constant time.

A signature is only accepted with a ``timestamp`` (epoch seconds, part of what is signed) within
``FRESHNESS_WINDOW_SECONDS`` of our clock in either direction, so a captured request cannot be
replayed later. Replays inside the window are harmless: receipts and inbound messages are
de-duplicated downstream.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from enum import Enum

MD5_HASH = "md5hash"
HMAC_METHODS: dict[str, str] = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}
SIGNATURE_METHODS = (MD5_HASH, *HMAC_METHODS)
DEFAULT_METHOD = MD5_HASH
FRESHNESS_WINDOW_SECONDS = 300
SIGNATURE_PARAM = "sig"
TIMESTAMP_PARAM = "timestamp"


class SignatureCheck(str, Enum):
    VALID = "valid"
    MISSING = "missing"  # no sig, or no usable timestamp
    MISMATCH = "mismatch"
    STALE = "stale"  # correctly signed, but the timestamp is outside the freshness window
    UNSUPPORTED_METHOD = "unsupported_method"  # the configured method is not one we know


def signing_string(params: Mapping[str, str]) -> str:
    """``&k=v`` for every parameter but ``sig``, sorted by name, ``&``/``=`` in values as ``_``."""
    return "".join(
        f"&{name}={_escaped(params[name])}" for name in sorted(params) if name != SIGNATURE_PARAM
    )


def sign(params: Mapping[str, str], secret: str, method: str = DEFAULT_METHOD) -> str:
    """The lower-case hex ``sig`` for ``params``; ``ValueError`` for an unknown method."""
    payload = signing_string(params).encode("utf-8")
    method = normalize_method(method)
    if method == MD5_HASH:
        return hashlib.md5(payload + secret.encode("utf-8")).hexdigest()
    return hmac.new(secret.encode("utf-8"), payload, HMAC_METHODS[method]).hexdigest()


def normalize_method(method: str | None) -> str:
    """The configured method in canonical form (empty means the default); ``ValueError`` if unknown."""
    name = (method or DEFAULT_METHOD).strip().lower()
    if name not in SIGNATURE_METHODS:
        raise ValueError(f"unknown SMS signature method {method!r}; expected one of {', '.join(SIGNATURE_METHODS)}")
    return name


def verify(
    params: Mapping[str, str],
    secret: str,
    method: str | None,
    now: float,
    window_seconds: int = FRESHNESS_WINDOW_SECONDS,
) -> SignatureCheck:
    try:
        canonical = normalize_method(method)
    except ValueError:
        return SignatureCheck.UNSUPPORTED_METHOD
    presented = params.get(SIGNATURE_PARAM)
    timestamp = _epoch_seconds(params.get(TIMESTAMP_PARAM))
    if not presented or timestamp is None:
        return SignatureCheck.MISSING
    expected = sign(params, secret, canonical)
    if not constant_time_equal(expected, presented.strip().lower()):
        return SignatureCheck.MISMATCH
    if abs(now - timestamp) > window_seconds:
        return SignatureCheck.STALE
    return SignatureCheck.VALID


def constant_time_equal(expected: str, presented: str) -> bool:
    """``hmac.compare_digest`` on UTF-8 bytes (it refuses non-ASCII ``str``, which a header may hold)."""
    return hmac.compare_digest(expected.encode("utf-8"), presented.encode("utf-8"))


def _escaped(value: str) -> str:
    return value.replace("&", "_").replace("=", "_")


def _epoch_seconds(value: str | None) -> int | None:
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())
