"""Signed webhooks: the official Vonage SDK's verifier accepts them and the payload hash matches the body."""
from __future__ import annotations

import hashlib
import uuid

import jwt
import pytest
from vonage_jwt.verify_jwt import verify_signature

from switchboard import clock
from switchboard.notifier.webhook_signing import authorization_header, payload_hash, webhook_token

SECRET = "sig-secret-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ"
BODY = b'{"message_uuid":"aaaaaaaa-bbbb-cccc-dddd-0123456789ab","status":"delivered","note":"caf\xc3\xa9"}'
T0 = 1_790_000_000.0


@pytest.fixture
def fixed_clock():
    clock.set_clock(lambda: T0)
    yield
    clock.set_clock(None)


def claims_of(token: str) -> dict:
    return jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_iat": False})


def test_the_official_sdk_verifies_the_token() -> None:
    token = webhook_token(BODY, SECRET, "abcd1234", "app-1")

    assert verify_signature(token, SECRET) is True
    assert verify_signature(token, "another-secret-of-the-same-sort-0123456789abcdef") is False


def test_the_payload_hash_is_the_sha256_of_the_exact_body_bytes() -> None:
    claims = claims_of(webhook_token(BODY, SECRET, "abcd1234"))

    assert claims["payload_hash"] == hashlib.sha256(BODY).hexdigest() == payload_hash(BODY)
    assert claims["payload_hash"] != payload_hash(BODY + b" ")


def test_claims_and_header_follow_vonage_signed_webhooks(fixed_clock) -> None:
    token = webhook_token(BODY, SECRET, "abcd1234", "app-1")

    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = claims_of(token)
    assert set(claims) == {"iat", "jti", "iss", "payload_hash", "api_key", "application_id"}
    assert claims["iat"] == int(T0)
    assert claims["iss"] == "Vonage"
    assert claims["api_key"] == "abcd1234"
    assert claims["application_id"] == "app-1"
    assert uuid.UUID(claims["jti"]).version == 4


def test_application_id_is_left_out_when_unknown_and_jti_is_unique() -> None:
    first, second = (claims_of(webhook_token(BODY, SECRET, "abcd1234")) for _ in range(2))

    assert "application_id" not in first
    assert first["jti"] != second["jti"]


def test_authorization_header_is_a_bearer_token() -> None:
    header = authorization_header(BODY, SECRET, "abcd1234", "app-1")

    scheme, token = header.split(" ", 1)
    assert scheme == "Bearer"
    assert verify_signature(token, SECRET)
    assert claims_of(token)["payload_hash"] == payload_hash(BODY)


def test_a_webhook_cannot_be_signed_without_a_secret() -> None:
    with pytest.raises(ValueError):
        webhook_token(BODY, "", "abcd1234")
