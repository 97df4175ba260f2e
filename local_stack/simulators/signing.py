"""How each provider signs the webhooks it sends, written independently of the API's own checks.

    Messenger  ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`` and ``X-Hub-Signature: sha1=<hex
               HMAC-SHA1>`` of the raw body, keyed with the app secret.
    Viber      ``X-Viber-Content-Signature: <hex HMAC-SHA256>`` of the raw body, keyed with the
               callback secret.
    SMS API    a ``sig`` parameter over every other parameter (``timestamp`` and ``nonce`` included):
               sorted by name, each written ``&name=value`` with ``&`` and ``=`` in values replaced
               by ``_``; ``md5hash`` is the hex MD5 of that string followed by the secret, ``md5``,
               ``sha1``, ``sha256`` and ``sha512`` are hex HMACs of it keyed with the secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping

MESSENGER_SIGNATURE_256_HEADER = "X-Hub-Signature-256"
MESSENGER_SIGNATURE_SHA1_HEADER = "X-Hub-Signature"
VIBER_SIGNATURE_HEADER = "X-Viber-Content-Signature"
SMS_SIGNATURE_PARAM = "sig"
SMS_TIMESTAMP_PARAM = "timestamp"
SMS_NONCE_PARAM = "nonce"
SMS_MD5_HASH = "md5hash"
SMS_HMAC_DIGESTS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256", "sha512": "sha512"}


def messenger_signature_headers(body: bytes, app_secret: str) -> dict[str, str]:
    key = app_secret.encode("utf-8")
    return {
        MESSENGER_SIGNATURE_256_HEADER: "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
        MESSENGER_SIGNATURE_SHA1_HEADER: "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
    }


def viber_signature_headers(body: bytes, callback_secret: str) -> dict[str, str]:
    return {VIBER_SIGNATURE_HEADER: hmac.new(callback_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()}


def sms_signature(params: Mapping[str, str], secret: str, method: str = SMS_MD5_HASH) -> str:
    """The hex ``sig`` of ``params`` (any ``sig`` among them is left out); ``ValueError`` for an unknown method."""
    signed = "".join(
        f"&{name}={params[name].replace('&', '_').replace('=', '_')}"
        for name in sorted(params)
        if name != SMS_SIGNATURE_PARAM
    ).encode("utf-8")
    name = (method or SMS_MD5_HASH).strip().lower()
    if name == SMS_MD5_HASH:
        return hashlib.md5(signed + secret.encode("utf-8")).hexdigest()
    if name not in SMS_HMAC_DIGESTS:
        raise ValueError(f"unknown SMS signature method {method!r}")
    return hmac.new(secret.encode("utf-8"), signed, SMS_HMAC_DIGESTS[name]).hexdigest()


def sms_signed_params(
    params: Mapping[str, str], secret: str, method: str = SMS_MD5_HASH, now: float | None = None
) -> dict[str, str]:
    """``params`` with a fresh ``timestamp`` (epoch seconds) and ``nonce``, and their ``sig``, last."""
    signed = {k: v for k, v in params.items() if k not in (SMS_SIGNATURE_PARAM, SMS_TIMESTAMP_PARAM, SMS_NONCE_PARAM)}
    signed[SMS_TIMESTAMP_PARAM] = str(int(time.time() if now is None else now))
    signed[SMS_NONCE_PARAM] = str(uuid.uuid4())
    signed[SMS_SIGNATURE_PARAM] = sms_signature(signed, secret, method)
    return signed
