"""Where the running stack keeps what the console reads: its state files, logs, tables and secrets."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local_stack.simulators import PROVIDER_REPORTS_FILE, PROVIDER_REQUESTS_FILE
from local_stack.sink import WEBHOOKS_FILE

STACK_FILE = "stack.json"
OUTPUTS_FILE = "outputs.json"
MESSAGES_TABLE_OUTPUT = "MessagesTableName"
WORKFLOWS_TABLE_OUTPUT = "WorkflowsTableName"
CHANNELS_SECRET_OUTPUT = "ChannelsSecretArn"


class StackNotReady(Exception):
    """The stack has not written its state files yet (or they are not what a running stack writes)."""


@dataclass(frozen=True)
class StackState:
    """The stack's public surfaces. ``aws_endpoint_url`` None: boto3's default (in-process moto in tests)."""

    api_url: str
    aws_endpoint_url: str | None
    messages_table: str
    workflows_table: str
    channels_secret_arn: str
    provider_requests_log: Path
    provider_reports_log: Path
    webhooks_log: Path

    @classmethod
    def from_local_dir(cls, local_dir: Path) -> StackState:
        """Read from ``stack.json`` and ``outputs.json``, which the stack writes before it takes requests."""
        stack, outputs = _read_object(local_dir / STACK_FILE), _read_object(local_dir / OUTPUTS_FILE)
        try:
            return cls(
                api_url=str(stack["api_url"]),
                aws_endpoint_url=str(stack["aws_endpoint_url"]),
                messages_table=str(outputs[MESSAGES_TABLE_OUTPUT]),
                workflows_table=str(outputs[WORKFLOWS_TABLE_OUTPUT]),
                channels_secret_arn=str(outputs[CHANNELS_SECRET_OUTPUT]),
                provider_requests_log=Path(stack.get("provider_log") or local_dir / PROVIDER_REQUESTS_FILE),
                provider_reports_log=local_dir / PROVIDER_REPORTS_FILE,
                webhooks_log=Path(stack.get("webhook_log") or local_dir / WEBHOOKS_FILE),
            )
        except KeyError as exc:
            raise StackNotReady(f"the stack's state files have no {exc.args[0]}") from None


def _read_object(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StackNotReady(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise StackNotReady(f"{path} is not a JSON object")
    return data
