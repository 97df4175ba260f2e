"""``switchboard links list|create|delete`` against the in-process AWS, and their error exits."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.cli import main
from switchboard.domain.message import Channel
from tests.support.stores import ChannelLinkStore
from switchboard.domain.tenancy import ChannelLink

PAGE = "107083064136738"

pytestmark = pytest.mark.usefixtures("env_restored")


def run_ok(capsys: pytest.CaptureFixture[str], *argv: str) -> dict:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return json.loads(out)


def run_error(capsys: pytest.CaptureFixture[str], expected_code: int, *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == expected_code
    assert out == ""
    assert err.startswith("switchboard: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.fixture
def account(capsys: pytest.CaptureFixture[str], local_dir: Path, tmp_path: Path) -> dict[str, str]:
    created = run_ok(capsys, "accounts", "create", "--local-dir", str(local_dir))
    app = run_ok(
        capsys, "apps", "create", "--local-dir", str(local_dir), "--api-key", created["api_key"], "--name", "a",
        "--private-key-out", str(tmp_path / "app.key"),
    )
    return {"api_key": created["api_key"], "application_id": app["application_id"]}


def test_create_an_account_link(capsys: pytest.CaptureFixture[str], local_dir: Path, account: dict[str, str]) -> None:
    printed = run_ok(
        capsys, "links", "create", "--local-dir", str(local_dir), "--api-key", account["api_key"],
        "--channel", "sms", "--address", "+447700900100",
    )

    assert printed == {"channel": "sms", "address": "447700900100", "api_key": account["api_key"]}
    expected = ChannelLink(Channel.SMS, "447700900100", account["api_key"])
    assert ChannelLinkStore().get(Channel.SMS, "447700900100") == expected


def test_create_an_application_link_then_delete_it(
    capsys: pytest.CaptureFixture[str], local_dir: Path, account: dict[str, str]
) -> None:
    target = ("--local-dir", str(local_dir))
    created = run_ok(
        capsys, "links", "create", *target, "--api-key", account["api_key"], "--channel", "messenger",
        "--address", PAGE, "--application-id", account["application_id"],
    )
    deleted = run_ok(capsys, "links", "delete", *target, "--channel", "messenger", "--address", PAGE,
                     "--api-key", account["api_key"])

    assert created == deleted == {
        "channel": "messenger", "address": PAGE, "api_key": account["api_key"],
        "application_id": account["application_id"],
    }
    assert ChannelLinkStore().get(Channel.MESSENGER, PAGE) is None


def test_create_refuses_unknown_accounts_and_foreign_apps(
    capsys: pytest.CaptureFixture[str], local_dir: Path, account: dict[str, str], tmp_path: Path
) -> None:
    target = ("--local-dir", str(local_dir))
    other = run_ok(capsys, "accounts", "create", *target)

    err = run_error(capsys, 1, "links", "create", *target, "--api-key", "nobody00", "--channel", "sms",
                    "--address", "447700900100")
    assert "no account with api key 'nobody00'" in err
    err = run_error(capsys, 1, "links", "create", *target, "--api-key", other["api_key"], "--channel", "sms",
                    "--address", "447700900100", "--application-id", account["application_id"])
    assert "has no application" in err
    assert ChannelLinkStore().get(Channel.SMS, "447700900100") is None


def test_create_refuses_an_address_linked_already_and_names_its_owner(
    capsys: pytest.CaptureFixture[str], local_dir: Path, account: dict[str, str]
) -> None:
    target = ("--local-dir", str(local_dir))
    other = run_ok(capsys, "accounts", "create", *target)
    argv = ("links", "create", *target, "--channel", "viber_service_msg", "--address", "16273")
    run_ok(capsys, *argv, "--api-key", account["api_key"], "--application-id", account["application_id"])

    err = run_error(capsys, 1, *argv, "--api-key", other["api_key"])

    assert err == (
        f"switchboard: error: viber_service_msg address 16273 is linked already to account {account['api_key']} "
        f"(application {account['application_id']}); delete that link first\n"
    )


def test_an_sms_sender_id_is_linked_case_insensitively(
    capsys: pytest.CaptureFixture[str], local_dir: Path, account: dict[str, str]
) -> None:
    target = ("--local-dir", str(local_dir))
    other = run_ok(capsys, "accounts", "create", *target)

    printed = run_ok(capsys, "links", "create", *target, "--api-key", account["api_key"], "--channel", "sms",
                     "--address", "Acme")
    err = run_error(capsys, 1, "links", "create", *target, "--api-key", other["api_key"], "--channel", "sms",
                    "--address", "ACME")

    assert printed == {"channel": "sms", "address": "Acme", "api_key": account["api_key"]}
    assert f"sms address ACME is linked already to account {account['api_key']}" in err
    assert ChannelLinkStore().is_linked_to(account["api_key"], Channel.SMS, "acme")


def test_list_shows_an_accounts_links_only(
    capsys: pytest.CaptureFixture[str], local_dir: Path, account: dict[str, str]
) -> None:
    target = ("--local-dir", str(local_dir))
    other = run_ok(capsys, "accounts", "create", *target)
    mine = [("sms", "Acme"), ("messenger", PAGE), ("sms", "+447700900100")]
    for channel, address in mine:
        run_ok(capsys, "links", "create", *target, "--api-key", account["api_key"], "--channel", channel,
               "--address", address)
    run_ok(capsys, "links", "create", *target, "--api-key", other["api_key"], "--channel", "viber_service_msg",
           "--address", "16273")

    listed = run_ok(capsys, "links", "list", *target, "--api-key", account["api_key"])

    key = account["api_key"]
    assert listed == {"links": [
        {"channel": "messenger", "address": PAGE, "api_key": key},
        {"channel": "sms", "address": "447700900100", "api_key": key},
        {"channel": "sms", "address": "Acme", "api_key": key},
    ]}
    assert run_ok(capsys, "links", "list", *target, "--api-key", other["api_key"])["links"] == [
        {"channel": "viber_service_msg", "address": "16273", "api_key": other["api_key"]}
    ]


def test_list_refuses_an_unknown_account(capsys: pytest.CaptureFixture[str], local_dir: Path) -> None:
    err = run_error(capsys, 1, "links", "list", "--local-dir", str(local_dir), "--api-key", "nobody00")

    assert "no account with api key 'nobody00'" in err
    assert "--api-key" in run_error(capsys, 2, "links", "list", "--local-dir", str(local_dir))


def test_bad_addresses_and_channels(
    capsys: pytest.CaptureFixture[str], local_dir: Path, account: dict[str, str]
) -> None:
    target = ("--local-dir", str(local_dir), "--api-key", account["api_key"])

    assert "numeric page id" in run_error(capsys, 1, "links", "create", *target, "--channel", "messenger",
                                          "--address", "my-page")
    assert "alphanumeric sender id" in run_error(capsys, 1, "links", "create", *target, "--channel", "sms",
                                                 "--address", "Acme Limited Co")
    assert "invalid choice" in run_error(capsys, 2, "links", "create", *target, "--channel", "whatsapp",
                                         "--address", "1")
    assert "--address" in run_error(capsys, 2, "links", "create", *target, "--channel", "sms")


def test_delete_refuses_missing_and_foreign_links(
    capsys: pytest.CaptureFixture[str], local_dir: Path, account: dict[str, str]
) -> None:
    target = ("--local-dir", str(local_dir))
    run_ok(capsys, "links", "create", *target, "--api-key", account["api_key"], "--channel", "sms",
           "--address", "447700900100")

    assert "no link for sms address 447700900999" in run_error(
        capsys, 1, "links", "delete", *target, "--channel", "sms", "--address", "447700900999"
    )
    assert "has no link" in run_error(
        capsys, 1, "links", "delete", *target, "--channel", "sms", "--address", "447700900100",
        "--api-key", "nobody00",
    )
    assert ChannelLinkStore().get(Channel.SMS, "447700900100") is not None


def test_links_need_a_running_stack(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    err = run_error(capsys, 1, "links", "delete", "--local-dir", str(tmp_path / "absent"), "--channel", "sms",
                    "--address", "447700900100")

    assert "the local stack is not running" in err
