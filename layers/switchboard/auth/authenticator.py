"""Who is calling: ``Authorization: Basic`` (account key + secret) or ``Bearer`` (application JWT)."""
from __future__ import annotations

import hashlib

from switchboard import clock
from switchboard.auth.basic import parse_basic_credentials
from switchboard.auth.bearer import JwtVerifier
from switchboard.auth.cached_accounts import AccountRecords, CachedAccounts
from switchboard.auth.failure import CLIENT_DETAIL, AuthenticationFailed
from switchboard.ttl_cache import MISSING, TtlCache
from switchboard.domain.message import Principal
from switchboard.observability import logger
from switchboard.domain.tenancy import DUMMY_HASH, DUMMY_SALT, Account, Application, SecretHasher, hash_api_secret

# Every failure gets this one detail (switchboard.auth.failure); the names say why, for the log.
BAD_CREDENTIALS = CLIENT_DETAIL
MISSING_HEADER = "missing or unsupported Authorization header"
UNKNOWN_KEY = "unknown API key"
WRONG_SECRET = "wrong API secret"
ACCOUNT_DISABLED = "the account is disabled"
APPLICATION_ACCOUNT_GONE = "the application's account no longer exists"
_MAX_HEADER_LENGTH = 8192

# Checked in place of an unknown key's account, so an unknown key costs what a wrong secret costs.
UNKNOWN_ACCOUNT = Account(
    api_key="", secret_salt=DUMMY_SALT, secret_hash=DUMMY_HASH, signature_secret="", inbound_url=None, status_url=None
)


class Authenticator:
    """Checks an ``Authorization`` header and returns the ``Principal`` behind it.

    Built once per warm function and reused: account and application records are cached for
    ``cache_ttl_seconds`` (misses too, exactly like hits), so a disabled, rotated or deleted
    credential takes effect within that time; a Basic header or a JWT that verified is remembered,
    keyed by its SHA-256, and re-checked on every use against the cached account (disabled? secret
    rotated away or past its grace period?) and application (key still one of its keys?), so it
    never outlives those records; JWT time claims are checked on every use; loaded public keys are
    kept per application. A warm check therefore costs microseconds and no I/O.

    ``hasher`` computes the salted secret hash (tests count its calls).
    """

    def __init__(
        self,
        accounts: AccountRecords,
        cache_ttl_seconds: float,
        hasher: SecretHasher = hash_api_secret,
    ) -> None:
        self.cache_ttl_seconds = cache_ttl_seconds
        self._records = CachedAccounts(accounts, cache_ttl_seconds)
        self._hasher = hasher
        # sha256(header) -> (api_key, the stored secret hash the header's secret matched)
        self._verified_basic: TtlCache[bytes, tuple[str, str]] = TtlCache(cache_ttl_seconds)
        self._jwt = JwtVerifier(self.application, cache_ttl_seconds)

    def authenticate(self, authorization: str | None) -> Principal:
        """The caller; raises ``AuthenticationFailed`` (an ``Unauthorized``, always the same detail)."""
        try:
            return self._authenticate(authorization)
        except AuthenticationFailed as failure:
            logger.info("authentication failed", extra={"reason": failure.reason})
            raise

    def account(self, api_key: str) -> Account | None:
        """Cached account lookup."""
        return self._records.account(api_key)

    def application(self, application_id: str) -> Application | None:
        """Cached application lookup."""
        return self._records.application(application_id)

    def _authenticate(self, authorization: str | None) -> Principal:
        if not isinstance(authorization, str) or len(authorization) > _MAX_HEADER_LENGTH:
            raise AuthenticationFailed(MISSING_HEADER)
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme = scheme.lower()  # auth schemes are case-insensitive (RFC 7235)
        if scheme == "basic":
            return self._basic(authorization, credentials)
        if scheme == "bearer":
            return self._bearer(credentials)
        raise AuthenticationFailed(MISSING_HEADER)

    def _basic(self, header: str, credentials: str) -> Principal:
        now = clock.now()
        header_digest = hashlib.sha256(header.encode("utf-8", "surrogatepass")).digest()
        remembered = self._verified_basic.get(header_digest)
        if remembered is not MISSING:
            api_key, matched_hash = remembered  # type: ignore[misc]
            account = self.account(api_key)
            if account is not None and account.still_accepts(matched_hash, now):
                return Principal(
                    api_key=api_key, application_id=None, auth_method="basic", webhook_version=account.webhook_version
                )
            # Disabled, rotated away or deleted since: check from scratch (and fail).

        api_key, api_secret = parse_basic_credentials(credentials)
        account = self.account(api_key)
        # The same work whether or not the key exists: an unknown key is checked against a dummy account.
        matched_hash = (account or UNKNOWN_ACCOUNT).matching_secret_hash(api_secret, now, self._hasher)
        if account is None:
            raise AuthenticationFailed(UNKNOWN_KEY)
        if matched_hash is None:
            raise AuthenticationFailed(WRONG_SECRET)
        if account.disabled:
            raise AuthenticationFailed(ACCOUNT_DISABLED)
        self._verified_basic.put(header_digest, (account.api_key, matched_hash))
        return Principal(
            api_key=account.api_key, application_id=None, auth_method="basic", webhook_version=account.webhook_version
        )

    def _bearer(self, token: str) -> Principal:
        application = self._jwt.verify(token)
        account = self.account(application.api_key)
        if account is None:
            raise AuthenticationFailed(APPLICATION_ACCOUNT_GONE)
        if account.disabled:
            raise AuthenticationFailed(ACCOUNT_DISABLED)
        return Principal(
            api_key=application.api_key,
            application_id=application.application_id,
            auth_method="jwt",
            webhook_version=application.webhook_version or account.webhook_version,
        )
