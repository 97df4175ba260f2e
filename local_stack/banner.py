"""What ``python -m local_stack`` prints once the stack is ready: where everything is, and commands
to paste as they are (they name this stack's own ports, state directory and credentials)."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Mapping
from pathlib import Path

from local_stack.console import CONSOLE_PATH
from local_stack.stack import StackInfo
from local_stack.stack import StackInfo, StateSummary
from local_stack.state_dir import LOGS_DIR
from local_stack.template import ROOT

SAMPLE_INBOUND_EVENT = "events/webhooks_messenger_text.json"
CLI_NAME = "switchboard"

# The seed document's example, with example numbers in place of its placeholders.
EXAMPLE_SMS = {
    "from": {"type": "sms", "number": "447700900001"},
    "to": {"type": "sms", "number": "447700900000"},
    "message": {"content": {"type": "text", "text": "This is an SMS sent from the Messages API"}},
}


def example_curl(info: StackInfo) -> str:
    return " \\\n    ".join(
        [
            f"curl -X POST {info.api_url}/beta/messages",
            f"-u {shlex.quote(f'{info.api_key}:{info.api_secret}')}",
            "-H 'Content-Type: application/json'",
            "-H 'Accept: application/json'",
            f"-d {shlex.quote(json.dumps(EXAMPLE_SMS))}",
        ]
    )


def state_dir_of(info: StackInfo) -> Path:
    return Path(info.webhook_log).parent


def _is_default_state_dir(state_dir: Path) -> bool:
    return state_dir.resolve() == (ROOT / ".local").resolve()


def replay_command(info: StackInfo) -> str:
    """How to replay a sample provider webhook against this stack (its state directory unless the default)."""
    command = f"make replay EVENT={SAMPLE_INBOUND_EVENT}"
    state_dir = state_dir_of(info)
    if not _is_default_state_dir(state_dir):
        command += f" LOCAL_DIR={shlex.quote(str(state_dir))}"
    return command


def cli_bin_dir(executable: str = sys.executable) -> Path | None:
    """The directory of the ``switchboard`` command installed beside this Python, if it is there."""
    bin_dir = Path(executable).parent
    return bin_dir if (bin_dir / CLI_NAME).exists() else None


def path_command(bin_dir: Path | None) -> str:
    if bin_dir is None:
        return f"# the `{CLI_NAME}` command is not installed beside {sys.executable}: run `make run` once"
    return f'export PATH={shlex.quote(str(bin_dir))}:"$PATH"'


def jwt_command(info: StackInfo) -> str:
    return (
        f"{CLI_NAME} jwt generate --application-id {info.application_id} "
        f"--private-key {shlex.quote(info.private_key_path)}"
    )


def banner(
    info: StackInfo,
    urls: Mapping[str, str],
    channel_ids: Mapping[str, str] | None = None,
    state: StateSummary | None = None,
    bin_dir: Path | None = None,
) -> str:
    state_dir = state_dir_of(info)
    rows = [
        ("API", info.api_url),
        ("Console", f"{info.api_url}{CONSOLE_PATH}/  (messages, webhooks, provider calls, live)"),
        ("API over HTTPS", f"https://{info.https_api_host}  (certificate {info.tls_cert_path})"),
        ("AWS endpoint (moto)", info.aws_endpoint_url),
        ("Webhook sink", f"{urls.get('webhook_sink', '')}  (log {info.webhook_log})"),
        ("Provider simulators", f"{urls.get('provider_simulators', '')}  (log {info.provider_log})"),
        ("Function logs", f"one line per event here; every field in {state_dir / LOGS_DIR}/<Function>.jsonl"),
        ("Local webhook hosts", ", ".join(info.allowed_private_webhook_hosts) + "  (local only: see README)"),
    ]
    demo = [
        ("api_key", info.api_key),
        ("api_secret", info.api_secret),
        ("signature_secret", info.signature_secret),
        ("application_id", info.application_id),
        ("private key", info.private_key_path),
        *(channel_ids or {}).items(),
    ]
    lines = ["", "Switchboard local stack is ready."]
    if state is not None:
        lines.append(f"State: {state.describe()}.")
    lines.append("")
    lines += [f"  {name:<22}{value}" for name, value in rows]
    lines += ["", "Demo account (webhooks go to the sink):"]
    lines += [f"  {name:<22}{value}" for name, value in demo]
    lines += ["", f"In another terminal, in {ROOT}: put the `{CLI_NAME}` command on your PATH,", ""]
    lines += ["  " + path_command(bin_dir if bin_dir is not None else cli_bin_dir())]
    lines += ["", "send the seed's example SMS,", "", "  " + example_curl(info)]
    lines += ["", "get a JWT for the demo application,", "", "  " + jwt_command(info)]
    lines += ["", "or replay an inbound Messenger message (or any other events/webhooks_*.json):"]
    lines += ["", "  " + replay_command(info)]
    lines += [
        "",
        "Ctrl-C stops the stack and saves its state for the next start; "
        "`make reset` (or --fresh) starts from a clean slate.",
        "",
    ]
    return "\n".join(lines)
