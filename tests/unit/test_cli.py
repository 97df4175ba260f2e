"""The ``switchboard`` CLI end to end against the in-process AWS, and its error exits."""
from __future__ import annotations

import json
import os
import socket
import stat
from pathlib import Path

import pytest

from switchboard.auth import Authenticator
from switchboard.cli import main
from tests.support.stores import AccountStore
from tests.support.stores import wired_authenticator



def run_ok(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert (code, err) == (0, "")
    return out


def run_error(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code != 0
    assert out == ""
    assert err.startswith("switchboard: error: ")
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def create_account(capsys: pytest.CaptureFixture[str], local_dir: Path, *extra: str) -> dict:
    return json.loads(run_ok(capsys, "accounts", "create", "--local-dir", str(local_dir), *extra))


# -- end to end ----------------------------------------------------------------------------------


def test_accounts_create_prints_working_credentials(
    capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None
) -> None:
    import base64

    created = create_account(capsys, local_dir, "--inbound-url", "https://example.com/in")

    assert set(created) == {"api_key", "api_secret", "signature_secret"}
    account = AccountStore().get_account(created["api_key"])
    assert account is not None and account.inbound_url == "https://example.com/in"
    header = "Basic " + base64.b64encode(f"{created['api_key']}:{created['api_secret']}".encode()).decode()
    assert wired_authenticator().authenticate(header).api_key == created["api_key"]


def test_apps_create_and_jwt_generate_give_a_working_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None
) -> None:
    api_key = create_account(capsys, local_dir)["api_key"]
    key_file = tmp_path / "app.key"

    app = json.loads(run_ok(
        capsys, "apps", "create", "--local-dir", str(local_dir), "--api-key", api_key, "--name", "My app",
        "--status-url", "https://example.com/status", "--private-key-out", str(key_file),
    ))
    token = run_ok(
        capsys, "jwt", "generate", "--application-id", app["application_id"], "--private-key", str(key_file)
    ).strip()

    assert app["private_key_path"] == str(key_file)
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert key_file.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    principal = wired_authenticator().authenticate(f"Bearer {token}")
    assert (principal.api_key, principal.application_id, principal.auth_method) == (
        api_key, app["application_id"], "jwt"
    )


def test_apps_create_writes_the_key_into_the_local_stacks_keys_directory_by_default(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_dir: Path, monkeypatch: pytest.MonkeyPatch,
    env_restored: None,
) -> None:
    api_key = create_account(capsys, local_dir)["api_key"]
    monkeypatch.chdir(tmp_path)

    app = json.loads(
        run_ok(capsys, "apps", "create", "--local-dir", str(local_dir), "--api-key", api_key, "--name", "A")
    )

    key = local_dir / "keys" / f"{app['application_id']}.key"
    assert app["private_key_path"] == str(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert list(tmp_path.glob("*.key")) == []  # nothing in the working directory


def test_apps_create_against_a_deployed_stack_writes_the_key_under_the_users_configuration(
    aws, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env_restored: None
) -> None:
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
                "Outputs": {"AccountsTableName": {"Value": "AccountsTable"}}}
    aws.client("cloudformation").create_stack(StackName="prod", TemplateBody=json.dumps(template))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    target = ("--stack-name", "prod", "--region", "us-east-1")
    api_key = json.loads(run_ok(capsys, "accounts", "create", *target))["api_key"]

    app = json.loads(run_ok(capsys, "apps", "create", *target, "--api-key", api_key, "--name", "A"))

    key = tmp_path / "config" / "switchboard" / "keys" / "prod" / f"{app['application_id']}.key"
    assert app["private_key_path"] == str(key)
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert list(tmp_path.glob("*.key")) == []


def test_jwt_generate_honours_ttl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import jwt
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = tmp_path / "k.key"
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))

    token = run_ok(
        capsys, "jwt", "generate", "--application-id", "app-1", "--private-key", str(key_file), "--ttl", "60"
    )

    claims = jwt.decode(token.strip(), key.public_key(), algorithms=["RS256"])
    assert claims["application_id"] == "app-1"
    assert claims["exp"] - claims["iat"] == 60


def test_the_local_dir_is_found_relative_to_the_current_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_dir: Path, monkeypatch: pytest.MonkeyPatch,
    env_restored: None,
) -> None:
    monkeypatch.chdir(local_dir.parent)

    created = json.loads(run_ok(capsys, "accounts", "create", "--local-dir", local_dir.name))

    assert AccountStore().get_account(created["api_key"]) is not None


def test_stack_name_reads_the_deployed_stacks_outputs(
    aws, capsys: pytest.CaptureFixture[str], env_restored: None
) -> None:
    template = {
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue"}},
        "Outputs": {"AccountsTableName": {"Value": "AccountsTable"}},
    }
    aws.client("cloudformation").create_stack(StackName="switchboard-prod", TemplateBody=json.dumps(template))

    created = json.loads(run_ok(
        capsys, "accounts", "create", "--stack-name", "switchboard-prod", "--region", "us-east-1"
    ))

    assert AccountStore().get_account(created["api_key"]) is not None


def test_accounts_create_against_a_running_local_stack_endpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, env_restored: None
) -> None:
    """The real local-stack shape: stack.json names an AWS endpoint (a moto server), whatever the shell's region."""
    import boto3
    from moto.server import ThreadedMotoServer

    from local_stack.template import create_resources, load_template

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"

        class EndpointSession:
            def client(self, service: str, **kwargs: object) -> object:
                return boto3.client(service, endpoint_url=endpoint, **kwargs)

        create_resources(load_template(), EndpointSession())
        (tmp_path / "outputs.json").write_text(json.dumps({"AccountsTableName": "AccountsTable"}))
        (tmp_path / "stack.json").write_text(json.dumps({"aws_endpoint_url": endpoint}))
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")

        created = json.loads(run_ok(capsys, "accounts", "create", "--local-dir", str(tmp_path)))

        table = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")
        item = table.get_item(TableName="AccountsTable", Key={"pk": {"S": f"account#{created['api_key']}"}})
        assert "Item" in item
    finally:
        server.stop()


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "accounts" in capsys.readouterr().out


# -- error exits ---------------------------------------------------------------------------------


def test_apps_create_for_an_unknown_api_key_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None
) -> None:
    key_file = tmp_path / "app.key"

    err = run_error(capsys, "apps", "create", "--local-dir", str(local_dir), "--api-key", "ffffffff", "--name", "A",
                    "--private-key-out", str(key_file))

    assert "no account with api key 'ffffffff'" in err
    assert not key_file.exists()


def test_apps_create_refuses_to_overwrite_a_key_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None
) -> None:
    api_key = create_account(capsys, local_dir)["api_key"]
    key_file = tmp_path / "app.key"
    key_file.write_text("precious")

    err = run_error(capsys, "apps", "create", "--local-dir", str(local_dir), "--api-key", api_key, "--name", "A",
                    "--private-key-out", str(key_file))

    assert "already exists" in err
    assert key_file.read_text() == "precious"


def test_apps_create_into_a_missing_directory_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None
) -> None:
    api_key = create_account(capsys, local_dir)["api_key"]

    err = run_error(capsys, "apps", "create", "--local-dir", str(local_dir), "--api-key", api_key, "--name", "A",
                    "--private-key-out", str(tmp_path / "nope" / "app.key"))

    assert "No such file or directory" in err


def test_accounts_set_rate_limit_sets_and_removes_an_accounts_own_limit(
    capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None
) -> None:
    api_key = create_account(capsys, local_dir)["api_key"]
    target = ("--local-dir", str(local_dir), "--api-key", api_key)

    set_out = json.loads(run_ok(capsys, "accounts", "set-rate-limit", *target, "--per-second", "120"))
    stored = AccountStore().get_account(api_key)
    assert set_out == {"api_key": api_key, "rate_limit_per_second": 120}
    assert stored is not None and stored.rate_limit_per_second == 120

    default_out = json.loads(run_ok(capsys, "accounts", "set-rate-limit", *target, "--default"))
    stored = AccountStore().get_account(api_key)
    assert default_out == {"api_key": api_key, "rate_limit_per_second": None}
    assert stored is not None and stored.rate_limit_per_second is None


def test_accounts_set_rate_limit_refuses_an_unknown_account_and_a_bad_limit(
    capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None
) -> None:
    api_key = create_account(capsys, local_dir)["api_key"]

    unknown = run_error(capsys, "accounts", "set-rate-limit", "--local-dir", str(local_dir),
                        "--api-key", "ffffffff", "--per-second", "10")
    zero = run_error(capsys, "accounts", "set-rate-limit", "--local-dir", str(local_dir),
                     "--api-key", api_key, "--per-second", "0")

    assert "no account with api key 'ffffffff'" in unknown
    assert "between 1 and 1000000" in zero
    stored = AccountStore().get_account(api_key)
    assert stored is not None and stored.rate_limit_per_second is None


@pytest.mark.parametrize("flag", ["--inbound-url", "--status-url"])
def test_a_bad_webhook_url_fails(
    capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None, flag: str
) -> None:
    err = run_error(capsys, "accounts", "create", "--local-dir", str(local_dir), flag, "ftp://example.com/x")

    assert "http or https" in err


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://127.0.0.1:3480\\@8.8.8.8/", "backslash"),
        ("http://8.8.8.8@127.0.0.1/", "user information"),
        ("http://0x7f000001:3480/", "not public (loopback)"),
        ("http://[::ffff:169.254.169.254]/", "not public (link-local)"),
    ],
)
@pytest.mark.parametrize("flag", ["--inbound-url", "--status-url"])
def test_an_ssrf_webhook_url_fails(
    capsys: pytest.CaptureFixture[str], local_dir: Path, env_restored: None, flag: str, url: str, reason: str
) -> None:
    err = run_error(capsys, "accounts", "create", "--local-dir", str(local_dir), flag, url)

    assert reason in err


@pytest.mark.parametrize("ttl", ["0", "86401", "-5"])
def test_jwt_generate_rejects_a_ttl_out_of_range(tmp_path: Path, capsys: pytest.CaptureFixture[str], ttl: str) -> None:
    key_file = tmp_path / "k.key"
    key_file.write_text("unused")

    assert "ttl must be between 1 and 86400" in run_error(
        capsys, "jwt", "generate", "--application-id", "a", "--private-key", str(key_file), "--ttl", ttl
    )


def test_jwt_generate_with_a_missing_key_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_error(capsys, "jwt", "generate", "--application-id", "a", "--private-key", str(tmp_path / "none.key"))

    assert "cannot read private key file" in err


def test_jwt_generate_with_a_file_that_is_not_a_key_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_file = tmp_path / "k.key"
    key_file.write_text("-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")

    err = run_error(capsys, "jwt", "generate", "--application-id", "a", "--private-key", str(key_file))

    assert "private key is not an unencrypted PEM RSA private key" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["accounts"],
        ["nonsense"],
        ["apps", "create", "--name", "A"],
        ["jwt", "generate", "--application-id", "a", "--private-key", "k", "--ttl", "soon"],
        ["accounts", "create", "--unknown-flag"],
        ["accounts", "set-rate-limit", "--api-key", "k"],
        ["accounts", "set-rate-limit", "--api-key", "k", "--per-second", "many"],
        ["accounts", "set-rate-limit", "--api-key", "k", "--per-second", "5", "--default"],
        ["accounts", "set-rate-limit", "--per-second", "5"],
    ],
)
def test_bad_arguments_exit_2_with_one_line(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    run_error(capsys, *argv)
    assert main(argv) == 2


def test_no_local_stack_tells_the_user_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = run_error(capsys, "accounts", "create", "--local-dir", str(tmp_path / "missing"))

    assert "make run" in err and "--stack-name" in err


def test_outputs_without_stack_file_means_not_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "outputs.json").write_text(json.dumps({"AccountsTableName": "AccountsTable"}))

    err = run_error(capsys, "accounts", "create", "--local-dir", str(tmp_path))

    assert "not running" in err and "make run" in err


def test_outputs_without_the_accounts_table_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "outputs.json").write_text(json.dumps({"ApiUrl": "http://localhost"}))
    (tmp_path / "stack.json").write_text("{}")

    assert "AccountsTableName" in run_error(capsys, "accounts", "create", "--local-dir", str(tmp_path))


def test_unreadable_outputs_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "outputs.json").write_text("{not json")
    (tmp_path / "stack.json").write_text("{}")

    assert "cannot read" in run_error(capsys, "accounts", "create", "--local-dir", str(tmp_path))


def test_endpoint_that_does_not_answer_means_not_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], env_restored: None
) -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "outputs.json").write_text(json.dumps({"AccountsTableName": "AccountsTable"}))
    (tmp_path / "stack.json").write_text(json.dumps({"aws_endpoint_url": f"http://127.0.0.1:{port}"}))

    err = run_error(capsys, "accounts", "create", "--local-dir", str(tmp_path))

    assert f"nothing answers at http://127.0.0.1:{port}" in err and "make run" in err


def test_unknown_stack_fails_with_one_line(aws, capsys: pytest.CaptureFixture[str], env_restored: None) -> None:
    err = run_error(capsys, "accounts", "create", "--stack-name", "no-such-stack", "--region", "us-east-1")

    assert "no-such-stack" in err


def test_stack_without_the_output_fails(aws, capsys: pytest.CaptureFixture[str], env_restored: None) -> None:
    template = {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
    aws.client("cloudformation").create_stack(StackName="other", TemplateBody=json.dumps(template))

    err = run_error(capsys, "accounts", "create", "--stack-name", "other", "--region", "us-east-1")

    assert "has no AccountsTableName output" in err
