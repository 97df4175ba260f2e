"""Fixtures for tests that run the ``switchboard`` CLI in process against the in-process moto.

``local_dir`` is what ``make run`` leaves behind (the stack's outputs, no endpoint, so the CLI talks
to the in-process moto); ``env_restored`` undoes the AWS variables the CLI sets for its own process.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

_CLI_ENVIRONMENT = (
    "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
    "ALLOWED_PRIVATE_WEBHOOK_HOSTS",
)


@pytest.fixture
def local_dir(tmp_path: Path, aws) -> Path:
    state = tmp_path / "state"
    state.mkdir()
    (state / "outputs.json").write_text(json.dumps({"AccountsTableName": "AccountsTable", "ApiHost": "localhost"}))
    (state / "stack.json").write_text(json.dumps({}))
    return state


@pytest.fixture
def env_restored() -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in _CLI_ENVIRONMENT}
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    from switchboard.adapters import aws_clients as aws

    aws.reset_clients()
