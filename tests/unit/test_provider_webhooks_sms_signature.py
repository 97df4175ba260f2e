"""SMS API request signing: every method against the official SDK, and the freshness window."""
from __future__ import annotations

import hashlib

import pytest
from vonage_http_client.auth import Auth

from switchboard.receipts.sms_signature import (
    FRESHNESS_WINDOW_SECONDS,
    SignatureCheck,
    normalize_method,
    sign,
    signing_string,
    verify,
)

SECRET = "signature-secret-0123"
NOW = 1_795_780_800
DLR = {
    "msisdn": "447700900000",
    "to": "AcmeInc",
    "messageId": "0A0000001234567B",
    "status": "delivered",
    "err-code": "0",
    "message-timestamp": "2026-11-27 11:59:58",
    "client-ref": "a&b=c",
    "timestamp": str(NOW),
    "nonce": "8f2c6a4e",
}


def sdk_signature(params: dict[str, str], method: str) -> str:
    """What vonage-http-client computes for an HMAC method (it signs a copy; ``sig`` excluded)."""
    auth = Auth(api_key="abcd1234", signature_secret=SECRET, signature_method=method)
    return auth.sign_params({k: v for k, v in params.items() if k != "sig"})


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_hmac_methods_match_the_official_sdk(method: str) -> None:
    assert sign(DLR, SECRET, method) == sdk_signature(DLR, method)


@pytest.mark.parametrize("method", ["md5", "sha1", "sha256", "sha512"])
def test_a_request_signed_by_the_sdk_verifies(method: str) -> None:
    signed = {**DLR, "sig": sdk_signature(DLR, method)}

    assert Auth(api_key="k", signature_secret=SECRET, signature_method=method).check_signature(dict(signed))
    assert verify(signed, SECRET, method, NOW) is SignatureCheck.VALID


def test_md5hash_matches_the_sdk_reference_vector() -> None:
    # The nexmo/vonage Python SDK's own test vector for the plain MD5 method (secret "secret").
    params = {"a": "1", "b": "2", "timestamp": "1461605396"}

    assert sign(params, "secret", "md5hash") == "6af838ef94998832dbfc29020b564830"
    assert verify({**params, "sig": "6af838ef94998832dbfc29020b564830"}, "secret", "md5hash", 1461605396) is (
        SignatureCheck.VALID
    )


def test_md5hash_is_md5_of_the_sorted_pairs_then_the_secret() -> None:
    expected = hashlib.md5((signing_string(DLR) + SECRET).encode()).hexdigest()

    assert sign(DLR, SECRET, "md5hash") == expected
    assert sign(DLR, SECRET, "") == expected  # the default method


def test_signing_string_sorts_escapes_and_leaves_out_sig() -> None:
    assert signing_string({"b": "x=y", "a": "1&2", "sig": "ignored"}) == "&a=1_2&b=x_y"


def test_upper_case_signatures_are_accepted() -> None:
    signed = {**DLR, "sig": sign(DLR, SECRET, "sha256").upper()}

    assert verify(signed, SECRET, "sha256", NOW) is SignatureCheck.VALID


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"status": "failed"}, SignatureCheck.MISMATCH),  # tampered after signing
        ({"sig": "0" * 32}, SignatureCheck.MISMATCH),
        ({"sig": "é" * 32}, SignatureCheck.MISMATCH),  # non-ASCII never raises
        ({"sig": ""}, SignatureCheck.MISSING),
        ({"timestamp": "yesterday"}, SignatureCheck.MISSING),
    ],
)
def test_bad_signatures_are_refused(change: dict[str, str], expected: SignatureCheck) -> None:
    signed = {**DLR, "sig": sign(DLR, SECRET, "md5hash"), **change}

    assert verify(signed, SECRET, "md5hash", NOW) is expected


def test_a_missing_sig_or_timestamp_is_refused() -> None:
    without_timestamp = {k: v for k, v in DLR.items() if k != "timestamp"}

    assert verify(DLR, SECRET, "md5hash", NOW) is SignatureCheck.MISSING
    signed = {**without_timestamp, "sig": sign(without_timestamp, SECRET, "md5hash")}
    assert verify(signed, SECRET, "md5hash", NOW) is SignatureCheck.MISSING


@pytest.mark.parametrize("offset", [-FRESHNESS_WINDOW_SECONDS - 1, FRESHNESS_WINDOW_SECONDS + 1, -86400])
def test_a_replayed_stale_signature_is_refused(offset: int) -> None:
    signed = {**DLR, "sig": sign(DLR, SECRET, "sha256")}

    assert verify(signed, SECRET, "sha256", NOW - offset) is SignatureCheck.STALE


@pytest.mark.parametrize("offset", [-FRESHNESS_WINDOW_SECONDS, 0, FRESHNESS_WINDOW_SECONDS])
def test_signatures_inside_the_window_are_fresh(offset: int) -> None:
    signed = {**DLR, "sig": sign(DLR, SECRET, "sha256")}

    assert verify(signed, SECRET, "sha256", NOW + offset) is SignatureCheck.VALID


def test_an_unknown_configured_method_refuses_everything() -> None:
    signed = {**DLR, "sig": sign(DLR, SECRET, "md5hash")}

    assert verify(signed, SECRET, "sha3", NOW) is SignatureCheck.UNSUPPORTED_METHOD
    with pytest.raises(ValueError, match="unknown SMS signature method"):
        normalize_method("sha3")
    assert normalize_method(" SHA256 ") == "sha256"
    assert normalize_method(None) == "md5hash"
