"""Signed webhooks as Vonage signs them (protocols.md 3.5).

``Authorization: Bearer <JWT>``: HS256 with the account's signature secret, claims ``iat``,
``jti``, ``iss`` = ``"Vonage"``, ``api_key``, ``application_id`` (when known) and
``payload_hash``, the hex SHA-256 of the exact request body bytes. Customers verify it with the
official SDKs (``vonage_jwt.verify_jwt.verify_signature(token, secret)``) and compare the hash.
"""
from __future__ import annotations

import hashlib
import uuid

import jwt

from switchboard import clock

ISSUER = "Vonage"


def payload_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def webhook_token(
    body: bytes, signature_secret: str, api_key: str, application_id: str | None = None, issued_at: float | None = None
) -> str:
    """The JWT that signs ``body`` for the account ``api_key``."""
    if not signature_secret:
        raise ValueError("a signature secret is required to sign a webhook")
    claims: dict[str, object] = {
        "iat": int(clock.now() if issued_at is None else issued_at),
        "jti": str(uuid.uuid4()),
        "iss": ISSUER,
        "payload_hash": payload_hash(body),
        "api_key": api_key,
    }
    if application_id:
        claims["application_id"] = application_id
    return jwt.encode(claims, signature_secret, algorithm="HS256", headers={"typ": "JWT"})


def authorization_header(
    body: bytes, signature_secret: str, api_key: str, application_id: str | None = None
) -> str:
    return "Bearer " + webhook_token(body, signature_secret, api_key, application_id)
