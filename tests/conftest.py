"""Shared fixtures: an in-process moto AWS with the template's own tables, queues and secrets (``aws``)."""
from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.support.clock import T0

if TYPE_CHECKING:  # imported by the fixtures: collecting tests imports none of the product
    from tests.support.aws_env import AwsEnv, SessionAws

# The session's local stack (``stack`` fixture) for tests/integration/ and tests/security/.
pytest_plugins = ("tests.support.stack", "tests.support.cli_env")

# Credentials and region for moto before anything creates a client.
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Switchboard")
os.environ.setdefault("POWERTOOLS_DEV", "false")


@pytest.fixture
def now() -> Iterator[list[float]]:
    """switchboard.clock fixed at T0; tests move time with ``now[0] += seconds``."""
    from switchboard import clock

    current = [T0]
    clock.set_clock(lambda: current[0])
    yield current
    clock.set_clock(None)


@pytest.fixture
def atomic_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """One in-process moto DynamoDB request at a time, for tests that run them on several threads.

    DynamoDB applies a conditional write atomically; moto checks and writes without a lock, so two
    concurrent claims of one record could both pass its condition check, which DynamoDB never allows.
    """
    import threading

    from moto.dynamodb.responses import DynamoHandler

    lock = threading.RLock()
    for name in ("put_item", "get_item", "update_item", "query", "transact_write_items"):
        unlocked = getattr(DynamoHandler, name)

        def locked(self: object, *args: object, _unlocked: object = unlocked, **kwargs: object) -> object:
            with lock:
                return _unlocked(self, *args, **kwargs)  # type: ignore[operator]

        monkeypatch.setattr(DynamoHandler, name, locked)


# Unit tests never use the network: names under these domains resolve to one public address, as a
# real resolver would answer for them; everything else (IP literals, localhost) resolves as usual.
FAKE_PUBLIC_DOMAINS = ("example.com", "example.org", "example.net", "example.test")
FAKE_PUBLIC_ADDRESS = "93.184.215.14"


@pytest.fixture(autouse=True)
def fake_public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: object, port: object, *args: object, **kwargs: object) -> list:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if any(name == d or name.endswith("." + d) for d in FAKE_PUBLIC_DOMAINS):
            return real_getaddrinfo(FAKE_PUBLIC_ADDRESS, port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture(scope="session")
def aws_session() -> Iterator[SessionAws]:
    """One set of the template's resources per test process (each xdist worker), lent to one test at a time."""
    from tests.support.aws_env import SessionAws, restore_botocore_data_loader, share_botocore_data_loader

    original = share_botocore_data_loader()
    try:
        yield SessionAws()
    finally:
        restore_botocore_data_loader(original)


@pytest.fixture
def aws(aws_session: SessionAws, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsEnv]:
    """moto with every table, queue and secret of ``template.yaml``, as the template created them.

    Every function's environment (resolved from the template) is applied to ``os.environ``, and
    cached clients are reset so code under test sees them. Nothing a test leaves behind
    (items, messages, a changed secret) reaches another test.
    """
    from switchboard.adapters import aws_clients as sb_aws

    with aws_session.lent() as env:
        for key, value in env.env.items():
            monkeypatch.setenv(key, value)
        sb_aws.reset_clients()
        yield env
        sb_aws.reset_clients()
