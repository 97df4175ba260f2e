"""Forged credentials and provider webhooks, built by hand so nothing a library refuses to do is off limits.

JWTs are assembled from their three parts here (PyJWT will not sign ``alg: none``, nor use a PEM
public key as an HMAC secret); provider webhooks are signed the way each provider signs them
(``local_stack.simulators.signing``), with the stack's real secrets when a test plays the provider
and with anything else when it plays a forger.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from tests.support.stack import RunningStack

RSA_KEY_BITS = 2048


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def signing_input(header: dict[str, Any], claims: dict[str, Any]) -> bytes:
    return f"{b64url(_json(header))}.{b64url(_json(claims))}".encode("ascii")


def token(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    return f"{signing_input(header, claims).decode('ascii')}.{b64url(signature)}"


def claims_for(application_id: str, /, now: float | None = None, lifetime: int = 900, **overrides: Any) -> dict[str, Any]:
    """The claims ``switchboard jwt generate`` puts in a token; ``overrides`` set (or, with None, drop) claims."""
    iat = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"application_id": application_id, "iat": iat, "jti": str(uuid.uuid4()), "exp": iat + lifetime}
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def load_private_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, password=None)


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_BITS)


def public_pem(private_key: Any) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def rs_token(private_key: rsa.RSAPrivateKey, claims: dict[str, Any], alg: str = "RS256", **header: Any) -> str:
    """RS256/RS384/RS512 (PKCS#1 v1.5) or PS256 (PSS), signed with ``private_key``; ``header`` adds header fields."""
    digest = {"256": hashes.SHA256(), "384": hashes.SHA384(), "512": hashes.SHA512()}[alg[2:]]
    full_header = {"alg": alg, "typ": "JWT", **header}
    data = signing_input(full_header, claims)
    if alg.startswith("PS"):
        pad: padding.AsymmetricPadding = padding.PSS(mgf=padding.MGF1(digest), salt_length=digest.digest_size)
    else:
        pad = padding.PKCS1v15()
    return token(full_header, claims, private_key.sign(data, pad, digest))


def hs_token(secret: bytes, claims: dict[str, Any], **header: Any) -> str:
    """HS256 keyed with ``secret``: with an application's public key PEM, the HS/RS confusion attack."""
    full_header = {"alg": "HS256", "typ": "JWT", **header}
    data = signing_input(full_header, claims)
    return token(full_header, claims, hmac.new(secret, data, hashlib.sha256).digest())


def es_token(claims: dict[str, Any]) -> str:
    """ES256 with a fresh key of the attacker's own (JOSE's raw r||s signature)."""
    key = ec.generate_private_key(ec.SECP256R1())
    full_header = {"alg": "ES256", "typ": "JWT"}
    r, s = decode_dss_signature(key.sign(signing_input(full_header, claims), ec.ECDSA(hashes.SHA256())))
    return token(full_header, claims, r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def unsigned_token(claims: dict[str, Any], alg: str = "none", signature: bytes = b"") -> str:
    return token({"alg": alg, "typ": "JWT"}, claims, signature)


def jwk_of(private_key: rsa.RSAPrivateKey, kid: str) -> dict[str, str]:
    numbers = private_key.public_key().public_numbers()

    def as_b64(value: int) -> str:
        return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))

    return {"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256", "n": as_b64(numbers.n), "e": as_b64(numbers.e)}


def bearer(jwt_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {jwt_token}"}


def basic_header(raw_credentials: bytes) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(raw_credentials).decode("ascii")}


# -- provider webhooks ------------------------------------------------------------------------------


def channels_secret(stack: RunningStack) -> dict[str, Any]:
    """The ChannelsSecret the stack's functions use: the secrets a real provider would hold."""
    secret_arn = stack.outputs()["ChannelsSecretArn"]
    value = stack.boto3_client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    return json.loads(value)
