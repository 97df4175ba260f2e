"""Key ids for application public keys: the RFC 7638 JWK thumbprint (SHA-256, base64url).

A thumbprint is computed from the key itself, so it needs no storage and is the same wherever it
is computed (``switchboard apps add-key`` prints it; a client puts it in its JWT's ``kid`` header).
``cryptography`` is imported on first use.
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any


def key_id(public_key: Any) -> str:
    """The RFC 7638 thumbprint of an RSA public key object; ``ValueError`` for any other key."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

    if not isinstance(public_key, RSAPublicKey):
        raise ValueError("not an RSA public key")
    numbers = public_key.public_numbers()
    members = {"e": _b64url_uint(numbers.e), "kty": "RSA", "n": _b64url_uint(numbers.n)}  # required members, sorted
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("ascii")
    return _b64url(hashlib.sha256(canonical).digest())


def key_id_of_pem(public_key_pem: str) -> str:
    """The key id of a PEM (SubjectPublicKeyInfo) RSA public key; ``ValueError`` if it is not one."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    try:
        public_key = load_pem_public_key(public_key_pem.encode("utf-8"))
    except (ValueError, TypeError):
        raise ValueError("not a PEM public key") from None
    return key_id(public_key)


def _b64url_uint(value: int) -> str:
    return _b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
