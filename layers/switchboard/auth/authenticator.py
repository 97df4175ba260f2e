"""Who is calling: ``Authorization: Basic`` (account key + secret) or ``Bearer`` (application JWT)."""
from __future__ import annotations

import hashlib

from switchboard.auth.basic import parse_basic_credentials
from switchboard.auth.bearer import JwtVerifier
from switchboard.auth.ttl_cache import MISSING, TtlCache
from switchboard.domain.message import Principal
from switchboard.errors import Unauthorized
from switchboard.store.accounts import Account, AccountStore, Application, hash_api_secret

MISSING_HEADER = "Missing or unsupported Authorization header; use Basic or Bearer"
# Same answer for an unknown key and a wrong secret: the detail must not reveal whether a key exists.
BAD_CREDENTIALS = "You did not provide correct credentials."
_MAX_HEADER_LENGTH = 8192
_DUMMY_SALT = "0" * 32


class Authenticator:
    """Checks an ``Authorization`` header and returns the ``Principal`` behind it.

    Built once per warm function and reused: account and application records are cached for
    ``cache_ttl_seconds`` (misses too), so a revoked or changed key takes effect within that time;
    a Basic header or a JWT that verified is remembered, keyed by its SHA-256, for the same time
    (JWT time claims are still checked on every use); loaded public keys are kept per application.
    A warm check therefore costs microseconds and no I/O.
    """

    def __init__(self, accounts: AccountStore | None = None, cache_ttl_seconds: float = 60.0) -> None:
        self._accounts = accounts if accounts is not None else AccountStore()
        self._account_cache: TtlCache[str, Account | None] = TtlCache(cache_ttl_seconds)
        self._application_cache: TtlCache[str, Application | None] = TtlCache(cache_ttl_seconds)
        self._verified_basic: TtlCache[bytes, str] = TtlCache(cache_ttl_seconds)  # sha256(header) -> api_key
        self._jwt = JwtVerifier(self.application, cache_ttl_seconds)

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller; raises ``switchboard.errors.Unauthorized`` with a client-safe detail."""
        if not isinstance(authorization, str) or len(authorization) > _MAX_HEADER_LENGTH:
            raise Unauthorized(MISSING_HEADER)
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme = scheme.lower()  # auth schemes are case-insensitive (RFC 7235)
        if scheme == "basic":
            return self._basic(authorization, credentials)
        if scheme == "bearer":
            return self._bearer(credentials)
        raise Unauthorized(MISSING_HEADER)

    def account(self, api_key: str) -> Account | None:
        """Cached account lookup."""
        cached = self._account_cache.get(api_key)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        account = self._accounts.get_account(api_key)
        self._account_cache.put(api_key, account)
        return account

    def application(self, application_id: str) -> Application | None:
        """Cached application lookup."""
        cached = self._application_cache.get(application_id)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        application = self._accounts.get_application(application_id)
        self._application_cache.put(application_id, application)
        return application

    def _basic(self, header: str, credentials: str) -> Principal:
        header_digest = hashlib.sha256(header.encode("utf-8", "surrogatepass")).digest()
        api_key = self._verified_basic.get(header_digest)
        if api_key is not MISSING:
            return Principal(api_key=api_key, application_id=None, auth_method="basic")  # type: ignore[arg-type]

        api_key, api_secret = parse_basic_credentials(credentials)
        account = self.account(api_key)
        if account is None:
            hash_api_secret(_DUMMY_SALT, api_secret)  # same work as for a known key
            raise Unauthorized(BAD_CREDENTIALS)
        if not account.secret_matches(api_secret):
            raise Unauthorized(BAD_CREDENTIALS)
        self._verified_basic.put(header_digest, account.api_key)
        return Principal(api_key=account.api_key, application_id=None, auth_method="basic")

    def _bearer(self, token: str) -> Principal:
        application = self._jwt.verify(token)
        if self.account(application.api_key) is None:
            raise Unauthorized("The application's account no longer exists")
        return Principal(api_key=application.api_key, application_id=application.application_id, auth_method="jwt")
