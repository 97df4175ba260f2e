"""Credentials over their lifetime through the ``switchboard`` CLI, checked by the real authenticator.

``accounts rotate-secret``, ``rotate-signature-secret``, ``disable`` / ``enable`` and ``apps keys`` /
``add-key`` / ``remove-key``, against the in-process AWS. Every command's effect is observed where
it matters: which credentials a fresh (cold) ``Authenticator`` accepts, which secret signs a webhook.
"""
from __future__ import annotations

import base64
import json
import os
import stat
import uuid
from pathlib import Path

import jwt
import pytest

from switchboard import clock
from switchboard.auth import Authenticator
from switchboard.auth.failure import AuthenticationFailed
from switchboard.cli import main
from switchboard.provisioning import generate_jwt
from tests.support.stores import AccountStore
from tests.support.clock import T0
from tests.support.stores import wired_authenticator

pytestmark = pytest.mark.usefixtures("env_restored")


class Cli:
    def __init__(self, capsys: pytest.CaptureFixture[str], local_dir: Path) -> None:
        self.capsys = capsys
        self.local_dir = str(local_dir)

    def ok(self, group: str, command: str, *args: str) -> dict:
        self.capsys.readouterr()  # what the test's own in-process calls printed (their log lines) is not the CLI's
        code = main([group, command, "--local-dir", self.local_dir, *args])
        out, err = self.capsys.readouterr()
        assert (code, err) == (0, "")
        return json.loads(out)

    def error(self, expected_code: int, group: str, command: str, *args: str) -> str:
        self.capsys.readouterr()
        code = main([group, command, "--local-dir", self.local_dir, *args])
        out, err = self.capsys.readouterr()
        assert code == expected_code
        assert out == ""
        assert err.startswith("switchboard: error: ") and err.count("\n") == 1 and "Traceback" not in err
        return err


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], local_dir: Path) -> Cli:
    return Cli(capsys, local_dir)


@pytest.fixture
def account(cli: Cli) -> dict[str, str]:
    return cli.ok("accounts", "create")


@pytest.fixture
def app(cli: Cli, account: dict[str, str], tmp_path: Path) -> dict[str, str]:
    created = cli.ok("apps", "create", "--api-key", account["api_key"], "--name", "A",
                     "--private-key-out", str(tmp_path / "first.key"))
    return {**created, "private_key": (tmp_path / "first.key").read_text()}


def basic(api_key: str, api_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{api_key}:{api_secret}".encode()).decode()


def accepted(header: str, authenticator: Authenticator | None = None) -> bool:
    """Whether ``header`` authenticates (by default on a cold function: nothing cached)."""
    try:
        (authenticator or wired_authenticator()).authenticate(header)
    except AuthenticationFailed:
        return False
    return True


def bearer(application_id: str, private_key: str, **headers: str) -> str:
    token = generate_jwt(application_id, private_key)
    if headers:  # the same claims, re-signed with extra header fields
        claims = jwt.decode(token, options={"verify_signature": False})
        token = jwt.encode(claims, private_key, algorithm="RS256", headers=headers)
    return "Bearer " + token


# -- accounts rotate-secret -----------------------------------------------------------------------


def test_rotate_secret_prints_a_new_secret_and_the_old_one_works_until_the_grace_period_ends(
    now: list[float], cli: Cli, account: dict[str, str]
) -> None:
    api_key, old_secret = account["api_key"], account["api_secret"]

    rotated = cli.ok("accounts", "rotate-secret", "--api-key", api_key, "--grace-seconds", "300")

    assert set(rotated) == {"api_key", "api_secret", "previous_secret_expires_at"}
    assert rotated["api_key"] == api_key and rotated["api_secret"] != old_secret
    assert rotated["previous_secret_expires_at"] == clock.iso(T0 + 300)
    new_secret = rotated["api_secret"]
    now[0] = T0 + 299
    assert accepted(basic(api_key, old_secret)) and accepted(basic(api_key, new_secret))
    now[0] = T0 + 300
    assert not accepted(basic(api_key, old_secret))
    assert accepted(basic(api_key, new_secret))


def test_the_new_secret_is_stored_only_as_a_hash(aws, cli: Cli, account: dict[str, str]) -> None:
    rotated = cli.ok("accounts", "rotate-secret", "--api-key", account["api_key"], "--grace-seconds", "60")

    stored = repr(aws.client("dynamodb").scan(TableName="AccountsTable")["Items"])
    assert rotated["api_secret"] not in stored and account["api_secret"] not in stored


def test_a_grace_period_of_zero_stops_the_old_secret_at_once(now: list[float], cli: Cli, account: dict[str, str]) -> None:
    rotated = cli.ok("accounts", "rotate-secret", "--api-key", account["api_key"], "--grace-seconds", "0")

    assert rotated["previous_secret_expires_at"] is None
    assert not accepted(basic(account["api_key"], account["api_secret"]))
    assert accepted(basic(account["api_key"], rotated["api_secret"]))


def test_a_second_rotation_ends_the_first_ones_grace_period(now: list[float], cli: Cli, account: dict[str, str]) -> None:
    api_key = account["api_key"]
    first = cli.ok("accounts", "rotate-secret", "--api-key", api_key, "--grace-seconds", "3600")
    second = cli.ok("accounts", "rotate-secret", "--api-key", api_key, "--grace-seconds", "3600")

    assert not accepted(basic(api_key, account["api_secret"]))  # only one previous secret is kept
    assert accepted(basic(api_key, first["api_secret"])) and accepted(basic(api_key, second["api_secret"]))


def test_a_warm_function_stops_the_old_secret_exactly_when_the_grace_period_ends(
    now: list[float], cli: Cli, account: dict[str, str]
) -> None:
    api_key, old_secret = account["api_key"], account["api_secret"]
    warm = wired_authenticator(cache_ttl_seconds=60)
    cli.ok("accounts", "rotate-secret", "--api-key", api_key, "--grace-seconds", "30")
    assert accepted(basic(api_key, old_secret), warm)  # verified and remembered, account cached

    now[0] = T0 + 30  # well inside the cache TTL, at the end of the grace period
    assert not accepted(basic(api_key, old_secret), warm)


def test_a_warm_function_learns_of_a_rotation_within_the_cache_ttl(
    now: list[float], cli: Cli, account: dict[str, str]
) -> None:
    api_key, old_secret = account["api_key"], account["api_secret"]
    warm = wired_authenticator(cache_ttl_seconds=60)
    assert accepted(basic(api_key, old_secret), warm)
    rotated = cli.ok("accounts", "rotate-secret", "--api-key", api_key, "--grace-seconds", "0")

    now[0] = T0 + 59
    assert accepted(basic(api_key, old_secret), warm)  # the documented bound: the cached record
    now[0] = T0 + 60
    assert not accepted(basic(api_key, old_secret), warm)
    assert accepted(basic(api_key, rotated["api_secret"]), warm)


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--api-key", "ffffffff", "--grace-seconds", "60"], 1, "no account"),
        (["--grace-seconds", "-1"], 1, "grace period"),
        (["--grace-seconds", str(31 * 86400)], 1, "grace period"),
        (["--grace-seconds", "soon"], 2, "invalid int"),
        ([], 2, "--grace-seconds"),
    ],
)
def test_rotate_secret_refuses_bad_arguments_and_changes_nothing(
    cli: Cli, account: dict[str, str], args: list[str], code: int, message: str
) -> None:
    if "--api-key" not in args:
        args = ["--api-key", account["api_key"], *args]

    assert message in cli.error(code, "accounts", "rotate-secret", *args)
    assert accepted(basic(account["api_key"], account["api_secret"]))


# -- accounts disable / enable --------------------------------------------------------------------


def test_a_disabled_account_is_refused_on_basic_and_on_jwt_until_enabled(
    cli: Cli, account: dict[str, str], app: dict[str, str]
) -> None:
    api_key = account["api_key"]
    header, token = basic(api_key, account["api_secret"]), bearer(app["application_id"], app["private_key"])

    assert cli.ok("accounts", "disable", "--api-key", api_key) == {"api_key": api_key, "disabled": True}
    assert not accepted(header) and not accepted(token)

    assert cli.ok("accounts", "enable", "--api-key", api_key) == {"api_key": api_key, "disabled": False}
    assert accepted(header) and accepted(token)


def test_a_warm_function_refuses_a_disabled_account_within_the_cache_ttl(
    now: list[float], cli: Cli, account: dict[str, str], app: dict[str, str]
) -> None:
    header, token = basic(account["api_key"], account["api_secret"]), bearer(app["application_id"], app["private_key"])
    warm = wired_authenticator(cache_ttl_seconds=60)
    assert accepted(header, warm) and accepted(token, warm)

    now[0] = T0 + 1
    cli.ok("accounts", "disable", "--api-key", account["api_key"])
    now[0] = T0 + 60

    assert not accepted(header, warm) and not accepted(token, warm)


def test_a_remembered_header_never_outlives_the_account_record_it_was_checked_against(
    now: list[float], cli: Cli, account: dict[str, str]
) -> None:
    """The account is cached at T0; the header is first verified at T0+59 against that cached record.
    A disable at T0+1 must show by T0+60 (when the record expires), not when the header would."""
    api_key = account["api_key"]
    warm = wired_authenticator(cache_ttl_seconds=60)
    assert not accepted(basic(api_key, "a-wrong-secret"), warm)  # caches the account record at T0
    now[0] = T0 + 1
    cli.ok("accounts", "disable", "--api-key", api_key)
    now[0] = T0 + 59
    assert accepted(basic(api_key, account["api_secret"]), warm)  # the cached record predates the disable

    now[0] = T0 + 60
    assert not accepted(basic(api_key, account["api_secret"]), warm)


def test_disable_of_an_unknown_account_fails(cli: Cli) -> None:
    assert "no account" in cli.error(1, "accounts", "disable", "--api-key", "ffffffff")


# -- accounts rotate-signature-secret -------------------------------------------------------------


def test_rotate_signature_secret_switches_at_the_effective_time(
    now: list[float], cli: Cli, account: dict[str, str]
) -> None:
    api_key, old = account["api_key"], account["signature_secret"]

    rotated = cli.ok("accounts", "rotate-signature-secret", "--api-key", api_key,
                     "--effective-at", clock.iso(T0 + 3600).replace(".000Z", "Z"))

    assert set(rotated) == {"api_key", "signature_secret", "effective_at"}
    assert rotated["effective_at"] == clock.iso(T0 + 3600)
    assert rotated["signature_secret"] not in (None, old)
    stored = AccountStore().get_account(api_key)
    assert stored is not None
    assert stored.signature_secret_at(T0 + 3599) == old
    assert stored.signature_secret_at(T0 + 3600) == rotated["signature_secret"]


def test_rotate_signature_secret_defaults_to_now_and_accepts_utc_offsets(
    now: list[float], cli: Cli, account: dict[str, str]
) -> None:
    api_key = account["api_key"]

    immediate = cli.ok("accounts", "rotate-signature-secret", "--api-key", api_key)
    assert immediate["effective_at"] == clock.iso(T0)
    now[0] = T0 + 10
    later = cli.ok("accounts", "rotate-signature-secret", "--api-key", api_key, "--effective-at", "2026-09-21T16:13:20+01:00")

    assert later["effective_at"] == clock.iso(T0 + 3600)
    stored = AccountStore().get_account(api_key)
    assert stored is not None
    assert stored.signature_secret_at(T0 + 3599) == immediate["signature_secret"]  # the first rotation took effect
    assert stored.signature_secret_at(T0 + 3600) == later["signature_secret"]


def test_a_rotation_not_yet_in_effect_is_replaced_by_the_next_one(
    now: list[float], cli: Cli, account: dict[str, str]
) -> None:
    api_key, effective_at = account["api_key"], clock.iso(T0 + 600)
    cli.ok("accounts", "rotate-signature-secret", "--api-key", api_key, "--effective-at", effective_at)
    second = cli.ok("accounts", "rotate-signature-secret", "--api-key", api_key, "--effective-at", effective_at)

    stored = AccountStore().get_account(api_key)
    assert stored is not None
    assert stored.signature_secret_at(T0) == account["signature_secret"]
    assert stored.signature_secret_at(T0 + 600) == second["signature_secret"]


@pytest.mark.parametrize("when", ["tomorrow", "2026-12-01T09:00:00", "2026-13-01T09:00:00Z"])
def test_rotate_signature_secret_refuses_a_bad_time_and_changes_nothing(
    cli: Cli, account: dict[str, str], when: str
) -> None:
    err = cli.error(1, "accounts", "rotate-signature-secret", "--api-key", account["api_key"], "--effective-at", when)

    assert "ISO-8601" in err or "UTC offset" in err
    stored = AccountStore().get_account(account["api_key"])
    assert stored is not None and stored.next_signature_secret is None


# -- apps keys / add-key / remove-key -------------------------------------------------------------


def test_add_key_stores_a_second_key_and_tokens_from_either_key_verify(
    tmp_path: Path, cli: Cli, app: dict[str, str]
) -> None:
    application_id = app["application_id"]
    (first_key_id,) = cli.ok("apps", "keys", "--application-id", application_id)["key_ids"]
    key_file = tmp_path / "second.key"

    added = cli.ok("apps", "add-key", "--application-id", application_id, "--private-key-out", str(key_file))

    assert added["private_key_path"] == str(key_file)
    assert added["key_ids"] == [first_key_id, added["key_id"]] and added["key_id"] != first_key_id
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    second_key = key_file.read_text()
    assert cli.ok("apps", "keys", "--application-id", application_id)["key_ids"] == added["key_ids"]
    assert accepted(bearer(application_id, app["private_key"]))
    assert accepted(bearer(application_id, second_key))
    assert accepted(bearer(application_id, second_key, kid=added["key_id"]))
    assert accepted(bearer(application_id, app["private_key"], kid="not-one-of-its-key-ids"))  # then each key is tried
    assert not accepted(bearer(application_id, app["private_key"], kid=added["key_id"]))  # kid picks the other key


def test_remove_key_retires_the_old_key(tmp_path: Path, cli: Cli, app: dict[str, str]) -> None:
    application_id = app["application_id"]
    (old_key_id,) = cli.ok("apps", "keys", "--application-id", application_id)["key_ids"]
    added = cli.ok("apps", "add-key", "--application-id", application_id, "--private-key-out", str(tmp_path / "n.key"))

    removed = cli.ok("apps", "remove-key", "--application-id", application_id, "--key-id", old_key_id)

    assert removed == {"application_id": application_id, "removed_key_id": old_key_id, "key_ids": [added["key_id"]]}
    assert not accepted(bearer(application_id, app["private_key"]))
    assert accepted(bearer(application_id, (tmp_path / "n.key").read_text()))


def test_a_warm_function_stops_accepting_a_removed_key_within_the_cache_ttl(
    now: list[float], tmp_path: Path, cli: Cli, app: dict[str, str]
) -> None:
    application_id = app["application_id"]
    (old_key_id,) = cli.ok("apps", "keys", "--application-id", application_id)["key_ids"]
    cli.ok("apps", "add-key", "--application-id", application_id, "--private-key-out", str(tmp_path / "n.key"))
    warm = wired_authenticator(cache_ttl_seconds=60)
    token = bearer(application_id, app["private_key"])
    assert accepted(token, warm)
    cli.ok("apps", "remove-key", "--application-id", application_id, "--key-id", old_key_id)

    now[0] = T0 + 60
    assert not accepted(token, warm)  # the remembered token verified with a key the application no longer has


def test_add_key_refuses_a_third_key_and_writes_no_file(tmp_path: Path, cli: Cli, app: dict[str, str]) -> None:
    application_id = app["application_id"]
    cli.ok("apps", "add-key", "--application-id", application_id, "--private-key-out", str(tmp_path / "2.key"))

    err = cli.error(1, "apps", "add-key", "--application-id", application_id, "--private-key-out", str(tmp_path / "3.key"))

    assert "already has two keys" in err
    assert not (tmp_path / "3.key").exists()
    assert len(cli.ok("apps", "keys", "--application-id", application_id)["key_ids"]) == 2


def test_add_key_never_overwrites_a_file(tmp_path: Path, cli: Cli, app: dict[str, str]) -> None:
    existing = tmp_path / "existing.key"
    existing.write_text("keep me")

    assert "already exists" in cli.error(
        1, "apps", "add-key", "--application-id", app["application_id"], "--private-key-out", str(existing)
    )
    assert existing.read_text() == "keep me"
    assert len(cli.ok("apps", "keys", "--application-id", app["application_id"])["key_ids"]) == 1


def test_add_key_defaults_to_the_local_stacks_key_directory_named_by_application_and_key(
    tmp_path: Path, cli: Cli, app: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    working_dir = tmp_path / "work"
    working_dir.mkdir()
    monkeypatch.chdir(working_dir)

    added = cli.ok("apps", "add-key", "--application-id", app["application_id"])

    expected = Path(cli.local_dir) / "keys" / f"{app['application_id']}-{added['key_id'][:8]}.key"
    assert added["private_key_path"] == str(expected.absolute())
    assert expected.stat().st_mode & 0o777 == 0o600
    assert list(working_dir.iterdir()) == []  # never into the current directory unasked


def test_remove_key_refuses_the_only_key_and_an_unknown_key_id(cli: Cli, app: dict[str, str]) -> None:
    application_id = app["application_id"]
    (only,) = cli.ok("apps", "keys", "--application-id", application_id)["key_ids"]

    assert "only key" in cli.error(1, "apps", "remove-key", "--application-id", application_id, "--key-id", only)
    assert "has no key" in cli.error(1, "apps", "remove-key", "--application-id", application_id, "--key-id", "nope")
    assert accepted(bearer(application_id, app["private_key"]))


@pytest.mark.parametrize("command", ["keys", "add-key", "remove-key"])
def test_key_commands_on_an_unknown_application_fail(cli: Cli, command: str) -> None:
    extra = ["--key-id", "x"] if command == "remove-key" else []

    assert "no application" in cli.error(1, "apps", command, "--application-id", str(uuid.uuid4()), *extra)
