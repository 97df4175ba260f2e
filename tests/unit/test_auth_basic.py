"""``Authorization: Basic`` authentication, its caches, and the module's cold-start imports."""
from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard import clock
from switchboard.auth import Authenticator
from switchboard.auth.authenticator import (
    ACCOUNT_DISABLED,
    BAD_CREDENTIALS,
    MISSING_HEADER,
    UNKNOWN_KEY,
    WRONG_SECRET,
)
from switchboard.auth.failure import AuthenticationFailed
from switchboard.ttl_cache import MISSING, TtlCache
from switchboard.domain.message import Principal
from tests.support.stores import AccountStore, wired_authenticator
from switchboard.domain.tenancy import DUMMY_SALT, Account, hash_api_secret

ROOT = Path(__file__).resolve().parents[2]
T0 = 1_700_000_000.0


def basic(api_key: str, api_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()


class CountingStore(AccountStore):
    """The real store, counting the lookups that reach DynamoDB."""

    def __init__(self) -> None:
        super().__init__()
        self.account_reads = 0

    def get_account(self, api_key: str) -> Account | None:
        self.account_reads += 1
        return super().get_account(api_key)


class NoLookups:
    """A store that must not be reached."""

    def get_account(self, api_key: str) -> None:
        raise AssertionError("malformed credentials must be rejected before any lookup")

    def get_application(self, application_id: str) -> None:
        raise AssertionError("malformed credentials must be rejected before any lookup")


@pytest.fixture
def fixed_clock() -> Iterator[list[float]]:
    now = [T0]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


@pytest.fixture
def store(aws) -> CountingStore:
    return CountingStore()


@pytest.fixture
def credentials(store: CountingStore) -> tuple[str, str]:
    account, api_secret = store.create_account()
    return account.api_key, api_secret


@pytest.fixture
def authenticator(store: CountingStore) -> Authenticator:
    return wired_authenticator(store)


def reject(authenticator: Authenticator, header: str | None) -> str:
    """Why ``header`` was refused (the log's reason); the client's detail is always the same."""
    with pytest.raises(AuthenticationFailed) as raised:
        authenticator.authenticate(header)
    assert raised.value.detail == BAD_CREDENTIALS
    return raised.value.reason


def test_good_credentials_give_a_basic_principal(authenticator: Authenticator, credentials: tuple[str, str]) -> None:
    api_key, api_secret = credentials

    principal = authenticator.authenticate(basic(api_key, api_secret))

    assert principal == Principal(api_key=api_key, application_id=None, auth_method="basic")


def test_docs_example_header_format_is_accepted(aws) -> None:
    """The docs' example: key aaa012, secret abc123456789."""

    class DocsStore:
        def get_account(self, api_key: str) -> Account | None:
            salt = "00" * 16
            if api_key != "aaa012":
                return None
            return Account("aaa012", salt, hash_api_secret(salt, "abc123456789"), "sig", None, None)

    authenticator = wired_authenticator(DocsStore())  # type: ignore[arg-type]

    assert authenticator.authenticate("Basic YWFhMDEyOmFiYzEyMzQ1Njc4OQ==").api_key == "aaa012"


@pytest.mark.parametrize("scheme", ["basic", "BASIC", "Basic"])
def test_scheme_is_case_insensitive(authenticator: Authenticator, credentials: tuple[str, str], scheme: str) -> None:
    api_key, api_secret = credentials
    header = basic(api_key, api_secret).replace("Basic", scheme, 1)

    assert authenticator.authenticate(header).api_key == api_key


def test_wrong_secret_is_rejected(authenticator: Authenticator, credentials: tuple[str, str]) -> None:
    api_key, api_secret = credentials

    assert reject(authenticator, basic(api_key, api_secret[::-1])) == WRONG_SECRET
    assert reject(authenticator, basic(api_key, api_secret + "x")) == WRONG_SECRET


def test_unknown_key_gets_the_same_answer_as_a_wrong_secret(
    authenticator: Authenticator, credentials: tuple[str, str]
) -> None:
    api_key, api_secret = credentials
    unknown = "0" * 8 if api_key != "0" * 8 else "1" * 8

    assert reject(authenticator, basic(unknown, api_secret)) == UNKNOWN_KEY
    assert reject(authenticator, basic(api_key, "wrong")) == WRONG_SECRET  # both with the detail BAD_CREDENTIALS


def test_a_secret_is_never_echoed(authenticator: Authenticator, credentials: tuple[str, str]) -> None:
    api_key, api_secret = credentials
    reason = reject(authenticator, basic(api_key, api_secret + "Z"))

    assert api_secret not in reason and api_key not in reason


def test_a_verified_header_is_served_from_memory(
    authenticator: Authenticator, store: CountingStore, credentials: tuple[str, str]
) -> None:
    header = basic(*credentials)

    results = [authenticator.authenticate(header) for _ in range(5)]

    assert store.account_reads == 1
    assert all(r == results[0] for r in results)
    assert len({id(r) for r in results}) == 5  # a fresh Principal per request: no shared mutable state


def test_wrong_secret_for_a_cached_account_reads_nothing_more(
    authenticator: Authenticator, store: CountingStore, credentials: tuple[str, str]
) -> None:
    api_key, api_secret = credentials
    authenticator.authenticate(basic(api_key, api_secret))

    reject(authenticator, basic(api_key, "wrong"))
    assert authenticator.authenticate(basic(api_key, api_secret)).api_key == api_key
    assert store.account_reads == 1


def test_unknown_keys_are_remembered_too(authenticator: Authenticator, store: CountingStore) -> None:
    for _ in range(3):
        reject(authenticator, basic("deadbeef", "whatever"))

    assert store.account_reads == 1


def test_deleted_account_stops_working_after_the_cache_ttl(
    aws, fixed_clock: list[float], store: CountingStore, credentials: tuple[str, str]
) -> None:
    api_key, api_secret = credentials
    authenticator = wired_authenticator(store, cache_ttl_seconds=60)
    header = basic(api_key, api_secret)
    authenticator.authenticate(header)

    aws.client("dynamodb").delete_item(TableName="AccountsTable", Key={"pk": {"S": f"account#{api_key}"}})
    fixed_clock[0] = T0 + 59
    assert authenticator.authenticate(header).api_key == api_key

    fixed_clock[0] = T0 + 61
    assert reject(authenticator, header) == UNKNOWN_KEY


def test_changed_secret_takes_effect_after_the_cache_ttl(
    aws, fixed_clock: list[float], store: CountingStore, credentials: tuple[str, str]
) -> None:
    api_key, old_secret = credentials
    authenticator = wired_authenticator(store, cache_ttl_seconds=60)
    authenticator.authenticate(basic(api_key, old_secret))
    new_secret = "N3wSecretN3wSecr"
    salt = "ab" * 16
    aws.client("dynamodb").update_item(
        TableName="AccountsTable",
        Key={"pk": {"S": f"account#{api_key}"}},
        UpdateExpression="SET secret_salt = :s, secret_hash = :h",
        ExpressionAttributeValues={":s": {"S": salt}, ":h": {"S": hash_api_secret(salt, new_secret)}},
    )

    fixed_clock[0] = T0 + 30
    assert authenticator.authenticate(basic(api_key, old_secret)).api_key == api_key

    fixed_clock[0] = T0 + 60
    assert reject(authenticator, basic(api_key, old_secret)) == WRONG_SECRET
    assert authenticator.authenticate(basic(api_key, new_secret)).api_key == api_key


class TestMalformedHeaders:
    """Rejected before any lookup, so these run without AWS."""

    @pytest.fixture
    def authenticator(self) -> Authenticator:
        return wired_authenticator(NoLookups())  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "header",
        [
            "Basic",
            "Basic ",
            "Basic !!!not-base64!!!",
            "Basic YWJj",  # "abc": no colon
            "Basic " + base64.b64encode(b":secretonly").decode(),
            "Basic " + base64.b64encode(b"keyonly:").decode(),
            "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),  # not UTF-8
            "Basic YWFhMDEyOmFiYzEyMzQ1Njc4OQ",  # missing padding
            "Basic " + "QUFB" * 400,  # far too long to be credentials
        ],
    )
    def test_malformed_credentials_are_rejected(self, authenticator: Authenticator, header: str) -> None:
        assert "Malformed Basic credentials" in reject(authenticator, header)

    @pytest.mark.parametrize(
        "header",
        [None, "", "   ", "Digest username=x", "Token abc", "YWFhMDEyOmFiYzEyMzQ1Njc4OQ==", "x" * 10_000],
        ids=["none", "empty", "blank", "digest", "token", "no-scheme", "huge"],
    )
    def test_missing_or_unsupported_header_is_rejected(self, authenticator: Authenticator, header: str | None) -> None:
        assert reject(authenticator, header) == MISSING_HEADER


def test_ttl_cache_is_bounded_dropping_expired_then_oldest_entries(fixed_clock: list[float]) -> None:
    cache: TtlCache[str, int] = TtlCache(ttl_seconds=10, max_entries=2)
    cache.put("old", 1)
    fixed_clock[0] = T0 + 5
    cache.put("newer", 2)
    fixed_clock[0] = T0 + 10  # "old" has expired
    cache.put("newest", 3)

    assert (cache.get("old"), cache.get("newer"), cache.get("newest")) == (MISSING, 2, 3)

    cache.put("fourth", 4)  # nothing expired: the oldest live entry goes
    assert (cache.get("newer"), cache.get("newest"), cache.get("fourth")) == (MISSING, 3, 4)


def test_basic_only_traffic_never_imports_jwt_or_cryptography() -> None:
    """Cold starts: importing the package and checking Basic credentials stays light."""
    script = f"""
import sys
sys.path[:0] = [{str(ROOT / 'layers')!r}, {str(ROOT)!r}]
from switchboard.auth import Authenticator
from switchboard.domain.tenancy import Account, hash_api_secret

class Store:
    def get_account(self, api_key):
        return Account("aaa012", "s", hash_api_secret("s", "abc123456789"), "sig", None, None)

principal = Authenticator(Store(), cache_ttl_seconds=60).authenticate("Basic YWFhMDEyOmFiYzEyMzQ1Njc4OQ==")
assert principal.api_key == "aaa012"
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("jwt", "cryptography"))
print(",".join(heavy))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)

    assert result.stdout.strip() == ""


# -- the same work for an unknown key as for a wrong secret ---------------------------------------


class CountingHasher:
    """The real salted hash, recording the salt of every call."""

    def __init__(self) -> None:
        self.salts: list[str] = []

    def __call__(self, salt: str, api_secret: str) -> str:
        self.salts.append(salt)
        return hash_api_secret(salt, api_secret)

    def take(self) -> list[str]:
        salts, self.salts = self.salts, []
        return salts


def test_an_unknown_key_is_checked_against_a_dummy_hash_doing_what_a_wrong_secret_does(
    store: CountingStore, credentials: tuple[str, str]
) -> None:
    api_key, _ = credentials
    account = store.get_account(api_key)
    assert account is not None
    store.account_reads = 0
    hasher = CountingHasher()
    authenticator = wired_authenticator(store, hasher=hasher)

    assert reject(authenticator, basic(api_key, "wrong-secret")) == WRONG_SECRET
    wrong_secret = (hasher.take(), store.account_reads)
    assert reject(authenticator, basic("deadbeef", "wrong-secret")) == UNKNOWN_KEY
    unknown_key = (hasher.take(), store.account_reads - wrong_secret[1])

    # Both: one account lookup, then two salted hashes (current secret and previous-or-dummy).
    assert wrong_secret == ([account.secret_salt, DUMMY_SALT], 1)
    assert unknown_key == ([DUMMY_SALT, DUMMY_SALT], 1)


def test_a_cached_unknown_key_and_a_cached_wrong_secret_do_the_same_work(
    store: CountingStore, credentials: tuple[str, str]
) -> None:
    api_key, _ = credentials
    hasher = CountingHasher()
    authenticator = wired_authenticator(store, hasher=hasher)
    reject(authenticator, basic(api_key, "first-probe"))
    reject(authenticator, basic("deadbeef", "first-probe"))
    reads, _ = store.account_reads, hasher.take()

    reject(authenticator, basic(api_key, "second-probe"))
    wrong_secret = hasher.take()
    reject(authenticator, basic("deadbeef", "second-probe"))
    unknown_key = hasher.take()

    assert store.account_reads == reads  # the miss is cached exactly as the hit is
    assert len(wrong_secret) == len(unknown_key) == 2


def test_a_disabled_account_is_refused_after_the_same_work(store: CountingStore, credentials: tuple[str, str]) -> None:
    api_key, api_secret = credentials
    store.set_disabled(api_key, True)
    hasher = CountingHasher()

    assert reject(wired_authenticator(store, hasher=hasher), basic(api_key, api_secret)) == ACCOUNT_DISABLED
    assert len(hasher.take()) == 2


def test_the_api_function_trusts_its_cache_for_the_auth_cache_ttl_setting(aws, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.wiring import api_services

    monkeypatch.setenv("AUTH_CACHE_TTL_SECONDS", "7")

    assert api_services().authenticator.cache_ttl_seconds == 7
