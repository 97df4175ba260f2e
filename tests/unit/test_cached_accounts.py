"""CachedAccounts: account and application lookups cached for a time, misses included, across threads."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from switchboard import clock
from switchboard.auth.cached_accounts import CachedAccounts
from switchboard.domain.tenancy import Account, Application

T0 = 1_790_000_000.0
ACCOUNT = Account(
    api_key="abcd1234", secret_salt="s", secret_hash="h", signature_secret="sig", inbound_url=None, status_url=None
)
APPLICATION = Application(
    application_id="app-1", api_key="abcd1234", name="App", public_key_pem="pem", inbound_url=None, status_url=None
)


class CountingRecords:
    def __init__(self) -> None:
        self.reads: list[str] = []
        self.lock = threading.Lock()

    def get_account(self, api_key: str) -> Account | None:
        with self.lock:
            self.reads.append(f"account:{api_key}")
        return ACCOUNT if api_key == ACCOUNT.api_key else None

    def get_application(self, application_id: str) -> Application | None:
        with self.lock:
            self.reads.append(f"application:{application_id}")
        return APPLICATION if application_id == APPLICATION.application_id else None


@pytest.fixture
def now() -> Iterator[list[float]]:
    current = [T0]
    clock.set_clock(lambda: current[0])
    yield current
    clock.set_clock(None)


def test_hits_and_misses_are_read_once_per_ttl(now: list[float]) -> None:
    records = CountingRecords()
    accounts = CachedAccounts(records, cache_ttl_seconds=30)

    for _ in range(3):
        assert accounts.account("abcd1234") == ACCOUNT
        assert accounts.account("unknown") is None
        assert accounts.application("app-1") == APPLICATION
        assert accounts.application("nope") is None
    assert records.reads == ["account:abcd1234", "account:unknown", "application:app-1", "application:nope"]

    now[0] += 30
    assert accounts.account("abcd1234") == ACCOUNT
    assert records.reads[-1] == "account:abcd1234"
    assert len(records.reads) == 5


def test_one_instance_serves_many_threads() -> None:
    records = CountingRecords()
    accounts = CachedAccounts(records, cache_ttl_seconds=60)
    results: list[Account | None] = []
    failures: list[BaseException] = []

    def look_up() -> None:
        try:
            for i in range(500):
                results.append(accounts.account("abcd1234" if i % 2 else f"unknown-{i}"))
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)

    threads = [threading.Thread(target=look_up) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(results) == 3000
    assert results.count(ACCOUNT) == 1500
