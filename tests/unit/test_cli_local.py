"""The CLI against the local stack: its local-only webhook allowance, offline hosts, and ``local add-sender``."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from switchboard.cli import main
from tests.support.stores import AccountStore
from tests.support.stores import ChannelLinkStore

SINK = "127.0.0.1:45678"


@pytest.fixture(autouse=True)
def no_cache_wait(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """add-sender waits out the local functions' secret cache; no function runs here."""
    from switchboard import cli_local

    waits: list[float] = []
    monkeypatch.setattr(cli_local.time, "sleep", waits.append)
    return waits


@pytest.fixture
def local_dir(tmp_path: Path, aws, env_restored: None) -> Path:
    """What a running local stack leaves in its state directory (the CLI talks to the in-process moto)."""
    state = tmp_path / "state"
    state.mkdir()
    outputs = {"AccountsTableName": "AccountsTable", "ChannelsSecretArn": aws.local.refs["ChannelsSecret"]}
    (state / "outputs.json").write_text(json.dumps(outputs))
    (state / "stack.json").write_text(json.dumps({"allowed_private_webhook_hosts": [SINK, "localhost"]}))
    aws.client("secretsmanager").put_secret_value(
        SecretId=aws.local.refs["ChannelsSecret"],
        SecretString=json.dumps({"messenger": {"pages": {"107083064136738": "EAAdemo"}},
                                 "viber": {"service_ids": ["16273"]}, "sms": {"api_key": "k"}}),
    )
    return state


@pytest.fixture
def deployed(aws, env_restored: None) -> tuple[str, ...]:
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {"AccountsTableName": {"Value": "AccountsTable"}}}
    aws.client("cloudformation").create_stack(StackName="prod", TemplateBody=json.dumps(template))
    return ("--stack-name", "prod", "--region", "us-east-1")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | None, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if code == 0 else None, err


def channels_secret(aws) -> dict:
    return json.loads(aws.client("secretsmanager").get_secret_value(SecretId=aws.local.refs["ChannelsSecret"])["SecretString"])


# -- webhook URLs -------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [f"http://{SINK}/webhooks/status", "http://localhost:8000/webhooks",
                                 "https://localhost/status"])
def test_the_local_allowance_admits_the_sink_and_localhost(
    capsys: pytest.CaptureFixture[str], local_dir: Path, url: str
) -> None:
    code, created, err = run(capsys, "accounts", "create", "--local-dir", str(local_dir), "--status-url", url)

    assert (code, err) == (0, "")
    account = AccountStore().get_account(created["api_key"])
    assert account is not None and account.status_url == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/hook", "http://10.0.0.5/hook", "http://169.254.169.254/x"])
def test_other_private_addresses_are_still_refused_locally_with_the_allowance_named(
    capsys: pytest.CaptureFixture[str], local_dir: Path, url: str
) -> None:
    code, _, err = run(capsys, "accounts", "create", "--local-dir", str(local_dir), "--inbound-url", url)

    assert code == 1
    assert "not public" in err
    assert f"only its local allowance may be private ({SINK}, localhost;" in err
    assert err.count("\n") == 1


def test_a_deployed_stack_gets_no_local_allowance(
    capsys: pytest.CaptureFixture[str], deployed: tuple[str, ...]
) -> None:
    code, _, err = run(capsys, "accounts", "create", *deployed, "--status-url", "http://localhost:8000/webhooks")

    assert code == 1 and "not public (loopback)" in err and "allowance" not in err
    code, _, err = run(capsys, "accounts", "create", *deployed, "--status-url", "https://nowhere.invalid/status")
    assert code == 1 and "does not resolve" in err


def test_offline_a_host_that_does_not_resolve_is_accepted_for_the_local_stack_with_a_warning(
    capsys: pytest.CaptureFixture[str], local_dir: Path
) -> None:
    url = "https://nowhere.invalid/status"  # .invalid never resolves: the same as example.com offline
    code, created, err = run(capsys, "accounts", "create", "--local-dir", str(local_dir), "--status-url", url)

    assert code == 0
    assert "warning: nowhere.invalid does not resolve from this machine; accepted for the local stack only" in err
    assert AccountStore().get_account(created["api_key"]).status_url == url


def test_webhook_help_explains_the_local_allowance(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["accounts", "create", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "local-only allowance" in help_text and "localhost" in help_text


# -- local add-sender ---------------------------------------------------------------------------


def new_account(capsys: pytest.CaptureFixture[str], local_dir: Path) -> str:
    code, created, err = run(capsys, "accounts", "create", "--local-dir", str(local_dir))
    assert code == 0, err
    return created["api_key"]


def test_add_sender_adds_a_page_to_the_channels_secret_and_links_it_to_the_account(
    aws, capsys: pytest.CaptureFixture[str], local_dir: Path, no_cache_wait: list[float]
) -> None:
    api_key = new_account(capsys, local_dir)

    code, added, err = run(capsys, "local", "add-sender", "--local-dir", str(local_dir), "--api-key", api_key,
                           "--channel", "messenger")

    assert code == 0, err
    page = added["address"]
    assert (added["channel"], added["api_key"]) == ("messenger", api_key) and page.isdigit() and len(page) == 15
    pages = channels_secret(aws)["messenger"]["pages"]
    assert pages["107083064136738"] == "EAAdemo" and pages[page].startswith("EAA")
    link = ChannelLinkStore(table_name="AccountsTable").get("messenger", page)
    assert link is not None and link.api_key == api_key
    assert no_cache_wait == [2.5]  # it returned once the local functions' cached secret had expired


def test_add_sender_with_an_address_for_viber_and_sms(aws, capsys: pytest.CaptureFixture[str], local_dir: Path) -> None:
    api_key = new_account(capsys, local_dir)

    viber = run(capsys, "local", "add-sender", "--local-dir", str(local_dir), "--api-key", api_key,
                "--channel", "viber_service_msg", "--address", "55501")[1]
    sms = run(capsys, "local", "add-sender", "--local-dir", str(local_dir), "--api-key", api_key,
              "--channel", "sms", "--address", "+447700900555")[1]

    assert viber["address"] == "55501" and sms["address"] == "447700900555"  # the + is dropped
    secret = channels_secret(aws)
    assert secret["viber"]["service_ids"] == ["16273", "55501"]
    assert secret["sms"] == {"api_key": "k"}  # the SMS API takes any sender: nothing to add
    links = ChannelLinkStore(table_name="AccountsTable")
    assert links.get("sms", "447700900555").api_key == api_key


def test_add_sender_refuses_an_unknown_account_or_a_linked_address_and_changes_nothing(
    aws, capsys: pytest.CaptureFixture[str], local_dir: Path
) -> None:
    before = channels_secret(aws)
    code, _, err = run(capsys, "local", "add-sender", "--local-dir", str(local_dir), "--api-key", "nobody",
                       "--channel", "viber_service_msg", "--address", "55502")
    assert code == 1 and "no account with api key 'nobody'" in err

    owner = new_account(capsys, local_dir)
    other = new_account(capsys, local_dir)
    assert run(capsys, "local", "add-sender", "--local-dir", str(local_dir), "--api-key", owner,
               "--channel", "viber_service_msg", "--address", "55503")[0] == 0
    code, _, err = run(capsys, "local", "add-sender", "--local-dir", str(local_dir), "--api-key", other,
                       "--channel", "viber_service_msg", "--address", "55503")
    assert code == 1 and "linked already" in err
    assert channels_secret(aws)["viber"]["service_ids"] == [*before["viber"]["service_ids"], "55503"]


def test_local_commands_have_no_deployed_target(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["local", "add-sender", "--stack-name", "prod", "--api-key", "k", "--channel", "sms"])
    assert code == 2 and "unrecognized arguments: --stack-name" in capsys.readouterr().err


def test_add_sender_waits_out_the_local_functions_secret_cache() -> None:
    from local_stack.stack import LOCAL_FUNCTION_ENVIRONMENT
    from switchboard import cli_local

    assert float(LOCAL_FUNCTION_ENVIRONMENT["SECRETS_MAX_AGE_SECONDS"]) == cli_local.LOCAL_SECRETS_MAX_AGE_SECONDS
