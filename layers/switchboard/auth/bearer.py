"""Verification of ``Authorization: Bearer <JWT>`` tokens signed with an application's private key.

Rules (Nexmo's 2018 documentation; the leeway is our choice, as the docs are silent on it):

- ``alg`` must be RS256; anything else (``none``, HS256, RS512, ES256, ...) is refused before any
  key is looked at, and PyJWT is told to accept RS256 only.
- Required claims: ``application_id``, ``iat``, ``jti``. ``nbf`` is honoured when present.
- ``exp`` is optional. Without it the token expires ``DEFAULT_LIFETIME_SECONDS`` (15 min) after
  ``iat``; with it, ``exp - iat`` may not exceed ``MAX_LIFETIME_SECONDS`` (24 h).
- ``LEEWAY_SECONDS`` (30 s) of clock skew is allowed on ``iat`` and ``nbf`` (a client clock
  running ahead) and on ``exp``.
- A token may be reused any number of times until it expires: ``jti`` is required but replays are
  not blocked, because clients (and the CLI flow in the docs) generate one token and send several
  requests with it. A token whose signature verified is remembered (keyed by its SHA-256) for the
  cache TTL, so a reused token skips the RSA check; its time claims are still checked every time,
  and it is verified again if the key it verified with is no longer one of the application's keys.
- An application has one public key, or two while its key is being switched (``switchboard apps
  add-key``). A ``kid`` header naming one of them (its RFC 7638 thumbprint, ``key_ids.py``) picks
  that key; otherwise each key is tried (at most two RSA checks). Key material is only ever taken
  from the application's stored keys: ``jku``, ``x5u``, ``jwk`` and ``x5c`` headers are ignored,
  and nothing is ever fetched.
- Every failure raises ``AuthenticationFailed``, whose client-facing detail is always the same
  (``failure.py``); the reasons below are for the log and tests.

``jwt`` and ``cryptography`` are imported on first use so that Basic-only traffic never pays for
importing them on a cold start.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any, Callable

from switchboard import clock
from switchboard.auth.failure import AuthenticationFailed
from switchboard.ttl_cache import MISSING, TtlCache
from switchboard.domain.tenancy import Application

ALGORITHM = "RS256"
LEEWAY_SECONDS = 30
DEFAULT_LIFETIME_SECONDS = 15 * 60
MAX_LIFETIME_SECONDS = 24 * 60 * 60
MAX_TOKEN_LENGTH = 4096  # SDK tokens are ~500 characters

MALFORMED = "Malformed JWT"
UNSUPPORTED_ALGORITHM = "Unsupported JWT algorithm; only RS256 is accepted"
MISSING_APPLICATION_ID = "JWT is missing the application_id claim"
UNKNOWN_APPLICATION = "JWT application_id does not match a known application"
BAD_SIGNATURE = "JWT signature does not verify with the application's public keys"
NO_USABLE_KEY = "The application has no usable RSA public key"


@dataclass(frozen=True)
class _PublicKey:
    pem: str
    key_id: str
    key: Any  # cryptography's RSAPublicKey


class JwtVerifier:
    """Verifies bearer tokens; ``find_application`` looks an application up by id (it may cache)."""

    def __init__(self, find_application: Callable[[str], Application | None], cache_ttl_seconds: float = 60.0) -> None:
        self._find_application = find_application
        # application_id -> (its stored key PEMs, those of them that load as RSA keys). Reloaded when the PEMs change.
        self._public_keys: dict[str, tuple[tuple[str, ...], tuple[_PublicKey, ...]]] = {}
        # sha256(token) -> (public key PEM it verified with, verified claims)
        self._verified: TtlCache[bytes, tuple[str, dict[str, Any]]] = TtlCache(cache_ttl_seconds)

    def verify(self, token: str) -> Application:
        """The application that signed ``token``; raises ``AuthenticationFailed`` otherwise."""
        token = token.strip()
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise AuthenticationFailed(MALFORMED)
        token_digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        remembered = self._verified.get(token_digest)
        if remembered is not MISSING:
            public_key_pem, claims = remembered  # type: ignore[misc]
            application = self._find_application(claims["application_id"])
            if application is not None and public_key_pem in application.public_key_pems:
                check_claims(claims, clock.now())
                return application
        application, claims, public_key_pem = self._verify_signature(token)
        check_claims(claims, clock.now())
        self._verified.put(token_digest, (public_key_pem, claims))
        return application

    def _verify_signature(self, token: str) -> tuple[Application, dict[str, Any], str]:
        import jwt

        try:
            # Unverified: only used to find the key the signature must verify with.
            unverified = jwt.decode_complete(token, options={"verify_signature": False})
        except (jwt.PyJWTError, ValueError, TypeError):
            raise AuthenticationFailed(MALFORMED) from None
        header, unverified_claims = unverified["header"], unverified["payload"]
        if not isinstance(header, dict) or header.get("alg") != ALGORITHM:
            raise AuthenticationFailed(UNSUPPORTED_ALGORITHM)
        if not isinstance(unverified_claims, dict):
            raise AuthenticationFailed(MALFORMED)
        application_id = unverified_claims.get("application_id")
        if not isinstance(application_id, str) or not application_id:
            raise AuthenticationFailed(MISSING_APPLICATION_ID)
        application = self._find_application(application_id)
        if application is None:
            raise AuthenticationFailed(UNKNOWN_APPLICATION)

        candidates = self._candidate_keys(application, header.get("kid"))
        for public_key in candidates:
            try:
                claims = jwt.decode(
                    token,
                    public_key.key,
                    algorithms=[ALGORITHM],
                    # Time claims are checked by check_claims against switchboard.clock, not the system time.
                    options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
                )
            except jwt.InvalidSignatureError:
                continue
            except (jwt.PyJWTError, ValueError, TypeError):
                raise AuthenticationFailed(MALFORMED) from None
            return application, claims, public_key.pem
        raise AuthenticationFailed(BAD_SIGNATURE if candidates else NO_USABLE_KEY)

    def _candidate_keys(self, application: Application, kid: object) -> tuple[_PublicKey, ...]:
        """The key a ``kid`` names, else every usable key of the application, current key first."""
        keys = self._keys_of(application)
        if isinstance(kid, str):
            named = tuple(k for k in keys if k.key_id == kid)
            if named:
                return named
        return keys

    def _keys_of(self, application: Application) -> tuple[_PublicKey, ...]:
        pems = application.public_key_pems
        cached = self._public_keys.get(application.application_id)
        if cached is not None and cached[0] == pems:
            return cached[1]
        keys = tuple(k for k in (_load_public_key(pem) for pem in pems) if k is not None)
        self._public_keys[application.application_id] = (pems, keys)
        return keys


def _load_public_key(pem: str) -> _PublicKey | None:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from switchboard.auth.key_ids import key_id

    try:
        key = load_pem_public_key(pem.encode("utf-8"))
    except (ValueError, TypeError):
        return None
    if not isinstance(key, RSAPublicKey):
        return None
    return _PublicKey(pem=pem, key_id=key_id(key), key=key)


def check_claims(claims: dict[str, Any], now: float) -> None:
    """Required claims and the token's validity window at ``now``; raises ``AuthenticationFailed``."""
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise AuthenticationFailed("JWT is missing the jti claim")
    iat = _numeric_claim(claims, "iat")
    if iat is None:
        raise AuthenticationFailed("JWT is missing the iat claim")
    if iat > now + LEEWAY_SECONDS:
        raise AuthenticationFailed("JWT iat is in the future")

    exp = _numeric_claim(claims, "exp")
    if exp is None:
        exp = iat + DEFAULT_LIFETIME_SECONDS
    elif exp <= iat:
        raise AuthenticationFailed("JWT exp must be after iat")
    elif exp - iat > MAX_LIFETIME_SECONDS:
        raise AuthenticationFailed("JWT lifetime exceeds 24 hours")
    if now - LEEWAY_SECONDS >= exp:
        raise AuthenticationFailed("JWT has expired")

    nbf = _numeric_claim(claims, "nbf")
    if nbf is not None and nbf > now + LEEWAY_SECONDS:
        raise AuthenticationFailed("JWT is not valid yet (nbf)")


def _numeric_claim(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise AuthenticationFailed(f"JWT {name} claim must be a number")
    return float(value)
