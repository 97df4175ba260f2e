"""AccountStore round trips, secret hashing, and provisioning of accounts and applications."""
from __future__ import annotations

import os
import re
import stat
import uuid
from pathlib import Path

import pytest

from switchboard.adapters.dynamodb import account_store as accounts_module
from switchboard.provisioning import provision_account, provision_application, validate_webhook_url
from tests.support.stores import AccountStore
from switchboard.domain.tenancy import Account, Application, UnknownAccount, hash_api_secret

TABLE = "AccountsTable"


@pytest.fixture
def store(aws) -> AccountStore:
    return AccountStore()


def scan_items(aws) -> list[dict]:
    return aws.client("dynamodb").scan(TableName=TABLE)["Items"]


# -- accounts ------------------------------------------------------------------------------------


def test_default_table_is_the_templates_accounts_table(store: AccountStore) -> None:
    assert store.table_name == TABLE


def test_create_account_round_trip(store: AccountStore) -> None:
    account, api_secret = store.create_account(
        inbound_url="https://example.com/inbound", status_url="https://example.com/status"
    )

    assert re.fullmatch(r"[0-9a-f]{8}", account.api_key)
    assert re.fullmatch(r"[A-Za-z0-9]{16}", api_secret)
    assert len(account.signature_secret) >= 32
    assert store.get_account(account.api_key) == account
    assert account.inbound_url == "https://example.com/inbound"
    assert account.status_url == "https://example.com/status"


def test_account_without_webhooks_stores_none(store: AccountStore) -> None:
    account, _ = store.create_account()

    loaded = store.get_account(account.api_key)
    assert loaded is not None
    assert loaded.inbound_url is None and loaded.status_url is None


def test_secret_is_not_stored_in_plain_text(aws, store: AccountStore) -> None:
    account, api_secret = store.create_account()

    (item,) = scan_items(aws)
    assert item["pk"] == {"S": f"account#{account.api_key}"}
    stored_text = repr(item)
    assert api_secret not in stored_text
    assert api_secret.lower() not in stored_text.lower()
    assert item["secret_hash"]["S"] == hash_api_secret(item["secret_salt"]["S"], api_secret)


def test_secret_matches_only_the_issued_secret(store: AccountStore) -> None:
    account, api_secret = store.create_account()

    assert account.secret_matches(api_secret)
    assert not account.secret_matches(api_secret[:-1])
    assert not account.secret_matches(api_secret + "x")
    assert not account.secret_matches("")


def test_each_account_gets_its_own_key_salt_and_secrets(store: AccountStore) -> None:
    (first, first_secret), (second, second_secret) = store.create_account(), store.create_account()

    assert first.api_key != second.api_key
    assert first.secret_salt != second.secret_salt
    assert first_secret != second_secret
    assert first.signature_secret != second.signature_secret


def test_api_key_collision_is_retried_with_a_new_key(store: AccountStore, monkeypatch: pytest.MonkeyPatch) -> None:
    existing, _ = store.create_account()
    keys = iter([existing.api_key, "0badc0de"])
    monkeypatch.setattr(accounts_module, "new_api_key", lambda: next(keys))

    account, _ = store.create_account()

    assert account.api_key == "0badc0de"
    assert store.get_account(existing.api_key) == existing


@pytest.mark.parametrize("api_key", ["", "ffffffff", "x" * 5000], ids=["empty", "unknown", "huge"])
def test_get_unknown_account_returns_none(store: AccountStore, api_key: str) -> None:
    assert store.get_account(api_key) is None


# -- applications --------------------------------------------------------------------------------


def test_create_application_round_trip(aws, store: AccountStore) -> None:
    account, _ = store.create_account()

    app = store.create_application(account.api_key, "My app", "-----BEGIN PUBLIC KEY-----\n...", "https://a.example/in")

    assert uuid.UUID(app.application_id).version == 4
    assert store.get_application(app.application_id) == app
    assert app == Application(app.application_id, account.api_key, "My app", "-----BEGIN PUBLIC KEY-----\n...",
                              "https://a.example/in", None)
    pks = {item["pk"]["S"] for item in scan_items(aws)}
    assert f"application#{app.application_id}" in pks


def test_create_application_for_unknown_account_fails(aws, store: AccountStore) -> None:
    with pytest.raises(UnknownAccount) as raised:
        store.create_application("ffffffff", "App", "pem")

    assert isinstance(raised.value, LookupError)
    assert scan_items(aws) == []


def test_create_application_never_overwrites_an_existing_one(store: AccountStore) -> None:
    account, _ = store.create_account()
    app = store.create_application(account.api_key, "First", "pem-1")

    with pytest.raises(ValueError, match="already exists"):
        store.create_application(account.api_key, "Second", "pem-2", application_id=app.application_id)

    assert store.get_application(app.application_id) == app


@pytest.mark.parametrize(
    "application_id", ["", "0b6f7a3e-2f7c-4d7e-9c4e-1f2a3b4c5d6e", "y" * 5000], ids=["empty", "unknown", "huge"]
)
def test_get_unknown_application_returns_none(store: AccountStore, application_id: str) -> None:
    assert store.get_application(application_id) is None


def test_an_account_follows_the_default_rate_limit_until_it_is_given_its_own(store: AccountStore) -> None:
    account, _ = store.create_account()
    assert account.rate_limit_per_second is None

    store.set_rate_limit(account.api_key, 250)
    again = store.get_account(account.api_key)
    assert again is not None and again.rate_limit_per_second == 250
    assert again.secret_hash == account.secret_hash  # nothing else changed

    store.set_rate_limit(account.api_key, None)
    reverted = store.get_account(account.api_key)
    assert reverted is not None and reverted.rate_limit_per_second is None


def test_setting_a_rate_limit_needs_an_existing_account(aws, store: AccountStore) -> None:
    with pytest.raises(UnknownAccount):
        store.set_rate_limit("ffffffff", 10)
    assert scan_items(aws) == []


@pytest.mark.parametrize("per_second", [0, -1, 1_000_001, True, 2.5, "10"])
def test_a_rate_limit_must_be_a_whole_number_in_range(store: AccountStore, per_second: object) -> None:
    account, _ = store.create_account()

    with pytest.raises(ValueError, match="rate limit"):
        store.set_rate_limit(account.api_key, per_second)  # type: ignore[arg-type]
    stored = store.get_account(account.api_key)
    assert stored is not None and stored.rate_limit_per_second is None


# -- provisioning --------------------------------------------------------------------------------


def test_provision_account_returns_the_credentials(store: AccountStore) -> None:
    result = provision_account(store, inbound_url="https://example.com/in")

    assert set(result) == {"api_key", "api_secret", "signature_secret"}
    account = store.get_account(result["api_key"])
    assert isinstance(account, Account)
    assert account.secret_matches(result["api_secret"])
    assert account.signature_secret == result["signature_secret"]
    assert account.inbound_url == "https://example.com/in"


def test_provision_account_can_give_the_account_its_own_rate_limit(aws, store: AccountStore) -> None:
    result = provision_account(store, rate_limit_per_second=100_000)

    account = store.get_account(result["api_key"])
    assert account is not None and account.rate_limit_per_second == 100_000
    with pytest.raises(ValueError, match="rate limit"):
        provision_account(store, rate_limit_per_second=0)
    assert len(scan_items(aws)) == 1  # a bad limit creates no account


def test_provision_account_rejects_a_bad_url(aws, store: AccountStore) -> None:
    with pytest.raises(ValueError, match="http or https"):
        provision_account(store, status_url="ftp://example.com/status")
    assert scan_items(aws) == []


def test_provision_application_writes_a_private_pkcs8_key(tmp_path: Path, store: AccountStore) -> None:
    from cryptography.hazmat.primitives import serialization

    api_key = provision_account(store)["api_key"]
    key_path = tmp_path / "app.key"

    result = provision_application(
        store, api_key, "My app", status_url="https://example.com/s", private_key_out=key_path
    )

    assert result["private_key_path"] == str(key_path)
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    pem = key_path.read_bytes()
    assert pem.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    app = store.get_application(result["application_id"])
    assert app is not None and app.api_key == api_key and app.name == "My app"
    assert app.status_url == "https://example.com/s"
    private_key = serialization.load_pem_private_key(pem, password=None)
    assert private_key.key_size == 2048
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    assert app.public_key_pem == public_pem


def test_provision_application_defaults_to_an_id_named_file_in_the_current_directory(
    tmp_path: Path, store: AccountStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    api_key = provision_account(store)["api_key"]

    result = provision_application(store, api_key, "App")

    expected = tmp_path / f"{result['application_id']}.key"
    assert Path(result["private_key_path"]).is_absolute()
    assert Path(result["private_key_path"]) == expected
    assert stat.S_IMODE(os.stat(expected).st_mode) == 0o600


def test_provision_application_refuses_to_overwrite_a_key_file(tmp_path: Path, aws, store: AccountStore) -> None:
    api_key = provision_account(store)["api_key"]
    key_path = tmp_path / "existing.key"
    key_path.write_text("keep me")

    with pytest.raises(FileExistsError):
        provision_application(store, api_key, "App", private_key_out=key_path)

    assert key_path.read_text() == "keep me"
    assert [i["pk"]["S"] for i in scan_items(aws)] == [f"account#{api_key}"]


def test_provision_application_for_unknown_account_writes_nothing(tmp_path: Path, store: AccountStore) -> None:
    key_path = tmp_path / "app.key"

    with pytest.raises(UnknownAccount):
        provision_application(store, "ffffffff", "App", private_key_out=key_path)

    assert not key_path.exists()


@pytest.mark.parametrize("name", ["", "   ", "n" * 201])
def test_provision_application_rejects_a_bad_name(tmp_path: Path, store: AccountStore, name: str) -> None:
    api_key = provision_account(store)["api_key"]

    with pytest.raises(ValueError, match="name"):
        provision_application(store, api_key, name, private_key_out=tmp_path / "app.key")


@pytest.mark.parametrize(
    "url",
    ["https://example.com/hook", "http://hooks.example.com:8080/in?x=1", "HTTPS://Example.com", "https://h.example.com/x?u=a@b"],
)
def test_validate_webhook_url_accepts_absolute_http_urls(url: str) -> None:
    assert validate_webhook_url(url) == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "non-empty"),
        ("example.com/hook", "http or https"),
        ("/relative", "http or https"),
        ("ftp://example.com/x", "http or https"),
        ("javascript:alert(1)", "http or https"),
        ("https://", "no host"),
        ("https:///path", "no host"),
        ("https://example.com:99999/", "malformed"),
        ("https://example.com/a b", "whitespace"),
        ("https://example.com/\nx", "whitespace"),
        ("https://u:p@h.example.com/x", "user information"),
        ("http://127.0.0.1:3480\\@8.8.8.8/", "backslash"),
        ("https://example.com/" + "a" * 2000, "longer than 2000"),
    ],
)
def test_validate_webhook_url_rejects_bad_urls(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        validate_webhook_url(url)
    assert "\n" not in str(raised.value)


def test_validate_webhook_url_rejects_non_strings() -> None:
    with pytest.raises(ValueError):
        validate_webhook_url(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["http://localhost:8080/in", "http://127.0.0.1/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://10.0.0.5/x"])
def test_validate_webhook_url_refuses_private_targets(url: str) -> None:
    with pytest.raises(ValueError, match="not public|does not resolve"):
        validate_webhook_url(url)


def test_validate_webhook_url_allows_a_configured_private_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOWED_PRIVATE_WEBHOOK_HOSTS", "127.0.0.1:9000")
    try:
        assert validate_webhook_url("http://127.0.0.1:9000/hook") == "http://127.0.0.1:9000/hook"
        with pytest.raises(ValueError):
            validate_webhook_url("http://127.0.0.1:9001/hook")
    finally:
        monkeypatch.delenv("ALLOWED_PRIVATE_WEBHOOK_HOSTS")


# -- credentials over their lifetime ---------------------------------------------------------------


def test_rotate_api_secret_keeps_the_old_hash_with_its_expiry(store: AccountStore) -> None:
    account, old_secret = store.create_account()

    rotated, new_secret = store.rotate_api_secret(account.api_key, grace_seconds=120, now=1_000.0)

    assert rotated == store.get_account(account.api_key)
    assert (rotated.previous_secret_salt, rotated.previous_secret_hash) == (account.secret_salt, account.secret_hash)
    assert rotated.previous_secret_expires_at == 1_120.0
    assert rotated.secret_salt != account.secret_salt
    assert rotated.secret_matches(new_secret, now=1_000.0) and rotated.secret_matches(old_secret, now=1_119.9)
    assert not rotated.secret_matches(old_secret, now=1_120.0)


def test_a_rotation_racing_another_change_retries_on_what_is_stored(
    store: AccountStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two rotations at once: the second one's first write is refused and it re-reads, so the
    secret issued by the first is the one kept as previous, not lost."""
    account, _ = store.create_account()
    real_get = AccountStore._get
    raced: list[str] = []

    def get_then_race(self: AccountStore, pk: str):
        item = real_get(self, pk)
        if not raced:
            raced.append("racing")
            raced[0] = store.rotate_api_secret(account.api_key, grace_seconds=60)[1]
        return item

    monkeypatch.setattr(AccountStore, "_get", get_then_race)
    rotated, _ = store.rotate_api_secret(account.api_key, grace_seconds=60)

    assert rotated.secret_matches(raced[0])  # accepted as the previous secret of the second rotation


def test_an_update_that_keeps_losing_races_gives_up_without_writing(
    store: AccountStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    account, _ = store.create_account()
    real_get = AccountStore._get

    def stale_get(self: AccountStore, pk: str):
        item = real_get(self, pk)
        return {**item, "secret_hash": "0" * 64}  # never what is stored: every write's condition fails

    monkeypatch.setattr(AccountStore, "_get", stale_get)
    with pytest.raises(accounts_module.ConcurrentChange):
        store.rotate_api_secret(account.api_key, grace_seconds=60)
    monkeypatch.undo()

    assert store.get_account(account.api_key) == account


def test_disabled_round_trips_as_a_boolean(aws, store: AccountStore) -> None:
    account, _ = store.create_account()

    assert store.set_disabled(account.api_key, True).disabled is True
    (item,) = scan_items(aws)
    assert item["disabled"] == {"BOOL": True}
    assert store.get_account(account.api_key).disabled is True  # type: ignore[union-attr]
    assert store.set_disabled(account.api_key, False).disabled is False


@pytest.mark.parametrize("change", ["rotate", "disable", "signature"])
def test_changing_an_unknown_account_writes_nothing(aws, store: AccountStore, change: str) -> None:
    with pytest.raises(UnknownAccount):
        if change == "rotate":
            store.rotate_api_secret("ffffffff", grace_seconds=0)
        elif change == "disable":
            store.set_disabled("ffffffff", True)
        else:
            store.rotate_signature_secret("ffffffff", effective_at=0.0)
    assert scan_items(aws) == []


def test_an_applications_second_key_round_trips_and_either_key_can_go(store: AccountStore) -> None:
    account, _ = store.create_account()
    app = store.create_application(account.api_key, "App", "pem-1")

    both = store.add_public_key(app.application_id, "pem-2")
    assert both.public_key_pems == ("pem-1", "pem-2") and store.get_application(app.application_id) == both
    assert store.remove_public_key(app.application_id, "pem-1").public_key_pems == ("pem-2",)
    store.add_public_key(app.application_id, "pem-3")
    assert store.remove_public_key(app.application_id, "pem-3").public_key_pems == ("pem-2",)
    with pytest.raises(ValueError, match="only key"):
        store.remove_public_key(app.application_id, "pem-2")
    with pytest.raises(accounts_module.NoSuchApplication):
        store.add_public_key("0b6f7a3e-2f7c-4d7e-9c4e-1f2a3b4c5d6e", "pem")
