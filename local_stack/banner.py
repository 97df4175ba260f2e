"""What ``python -m local_stack`` prints once the stack is ready."""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from pathlib import Path

from local_stack.console import CONSOLE_PATH
from local_stack.stack import StackInfo
from local_stack.template import ROOT

SAMPLE_INBOUND_EVENT = "events/webhooks_messenger_text.json"

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


def replay_command(info: StackInfo) -> str:
    """How to replay a sample provider webhook against this stack (``--local-dir`` unless it is the default)."""
    command = f".venv/bin/python -m local_stack.replay {SAMPLE_INBOUND_EVENT}"
    local_dir = Path(info.webhook_log).parent
    if local_dir.resolve() != (ROOT / ".local").resolve():
        command += f" --local-dir {shlex.quote(str(local_dir))}"
    return command


def banner(info: StackInfo, urls: Mapping[str, str], channel_ids: Mapping[str, str] | None = None) -> str:
    rows = [
        ("API", info.api_url),
        ("Console", f"{info.api_url}{CONSOLE_PATH}/  (messages, webhooks, provider calls, live)"),
        ("API over HTTPS", f"https://{info.https_api_host}  (certificate {info.tls_cert_path})"),
        ("AWS endpoint (moto)", info.aws_endpoint_url),
        ("Webhook sink", f"{urls.get('webhook_sink', '')}  (log {info.webhook_log})"),
        ("Provider simulators", f"{urls.get('provider_simulators', '')}  (log {info.provider_log})"),
    ]
    demo = [
        ("api_key", info.api_key),
        ("api_secret", info.api_secret),
        ("signature_secret", info.signature_secret),
        ("application_id", info.application_id),
        ("private key", info.private_key_path),
        *(channel_ids or {}).items(),
    ]
    lines = ["", "Switchboard local stack is ready.", ""]
    lines += [f"  {name:<22}{value}" for name, value in rows]
    lines += ["", "Demo account (webhooks go to the sink):"]
    lines += [f"  {name:<22}{value}" for name, value in demo]
    lines += ["", "Send the seed's example SMS:", "", "  " + example_curl(info)]
    lines += ["", "Replay an inbound Messenger message (or any other events/webhooks_*.json):"]
    lines += ["", "  " + replay_command(info)]
    lines += ["", "Ctrl-C stops the stack.", ""]
    return "\n".join(lines)
