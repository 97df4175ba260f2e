"""Account and application lookups with a time-to-live cache, shared by authentication and webhook targets.

A warm function reads each account and application at most once per ``cache_ttl_seconds``;
misses are cached like hits, so an unknown key costs one read per period however often it is
tried, and a disabled, rotated or deleted credential takes effect within that time. One instance
may serve many threads (the notifier's delivery pool): ``TtlCache`` is thread-safe.
"""
from __future__ import annotations

from typing import Protocol

from switchboard.domain.tenancy import Account, Application
from switchboard.ttl_cache import MISSING, TtlCache


class AccountRecords(Protocol):
    """``AccountStore`` fits."""

    def get_account(self, api_key: str) -> Account | None: ...

    def get_application(self, application_id: str) -> Application | None: ...


class CachedAccounts:
    def __init__(self, accounts: AccountRecords, cache_ttl_seconds: float) -> None:
        self.cache_ttl_seconds = cache_ttl_seconds
        self._accounts = accounts
        self._account_cache: TtlCache[str, Account | None] = TtlCache(cache_ttl_seconds)
        self._application_cache: TtlCache[str, Application | None] = TtlCache(cache_ttl_seconds)

    def account(self, api_key: str) -> Account | None:
        cached = self._account_cache.get(api_key)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        account = self._accounts.get_account(api_key)
        self._account_cache.put(api_key, account)
        return account

    def application(self, application_id: str) -> Application | None:
        cached = self._application_cache.get(application_id)
        if cached is not MISSING:
            return cached  # type: ignore[return-value]
        application = self._accounts.get_application(application_id)
        self._application_cache.put(application_id, application)
        return application
