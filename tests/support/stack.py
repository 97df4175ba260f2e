"""The ``stack`` fixture: ``python -m local_stack`` in a subprocess, once per test session.

It runs on free ports with its own state directory; the tests reach it over HTTP(S) and read the
JSON Lines logs of the provider simulators and the webhook sink.

A pytest plugin (registered by ``tests/conftest.py``): every test under ``tests/integration/``,
``tests/security/``, ``tests/faults/`` and in ``tests/contract/test_sdk_models.py`` is marked with its
suite and put in the ``local_stack`` xdist group, so under ``make test``
(``-n auto --dist loadgroup``) they all run on one worker and share one stack.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import boto3
import pytest
import requests

from local_stack.child import StackNotHealthy, child_stack
from local_stack.state_dir import LOGS_DIR
from local_stack.terminal_log import METRICS_FILE

ROOT = Path(__file__).resolve().parents[2]
STARTUP_TIMEOUT_SECONDS = 60
T = TypeVar("T")
TESTS = ROOT / "tests"
# The suites that drive the running local stack, by folder (or single file), with the marker each test gets.
STACK_SUITES = {
    TESTS / "integration": "integration",
    TESTS / "security": "security",
    TESTS / "faults": "faults",
    TESTS / "contract" / "test_sdk_models.py": "contract",
}
STACK_GROUP = "local_stack"


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks (--dist loadgroup)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath)).resolve()
        for folder, marker in STACK_SUITES.items():
            if folder == path or folder in path.parents:
                item.add_marker(getattr(pytest.mark, marker))
                # Under pytest-xdist (--dist loadgroup) every stack test runs on one worker: one stack.
                item.add_marker(pytest.mark.xdist_group(STACK_GROUP))


def _read_jsonl(path: str) -> list[dict[str, Any]]:
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    # A line being written may be incomplete: only whole lines count.
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            break
    return records


@dataclass
class RunningStack:
    """``stack.json``'s fields, plus helpers to talk to the stack."""

    api_url: str
    https_api_host: str
    tls_cert_path: str
    api_key: str
    api_secret: str
    signature_secret: str
    application_id: str
    private_key_path: str
    webhook_log: str
    provider_log: str
    aws_endpoint_url: str
    allowed_private_webhook_hosts: list[str]
    local_dir: Path
    log_path: Path
    session: requests.Session = field(default_factory=requests.Session, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.session.trust_env = False  # no proxies, and no machine-wide CA bundle overriding ``verify``

    @property
    def auth(self) -> tuple[str, str]:
        """The demo account's Basic auth."""
        return (self.api_key, self.api_secret)

    @property
    def https_url(self) -> str:
        return f"https://{self.https_api_host}"

    def stack_json(self) -> dict[str, Any]:
        return json.loads((self.local_dir / "stack.json").read_text())

    def outputs(self) -> dict[str, str]:
        return json.loads((self.local_dir / "outputs.json").read_text())

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """``path`` against the HTTP API; an absolute URL is used as is."""
        url = path if "://" in path else self.api_url + path
        kwargs.setdefault("timeout", 10)
        if url.startswith("https://"):
            kwargs.setdefault("verify", self.tls_cert_path)
        return self.session.request(method, url, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, json: Any = None, auth: Any = None, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, json=json, auth=auth, **kwargs)

    def provider_requests(self) -> list[dict[str, Any]]:
        """Every request the provider simulators received, oldest first."""
        return _read_jsonl(self.provider_log)

    def webhooks(self) -> list[dict[str, Any]]:
        """Every request the webhook sink received, oldest first."""
        return _read_jsonl(self.webhook_log)

    def boto3_client(self, service: str) -> Any:
        """A client of the stack's moto server, made once per service (making one takes a quarter second)."""
        if service not in self._clients:
            self._clients[service] = boto3.session.Session().client(
                service,
                endpoint_url=self.aws_endpoint_url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return self._clients[service]

    def wait_for(self, predicate: Callable[[], T], timeout: float = 15, interval: float = 0.05, what: str = "") -> T:
        """``predicate()``'s first truthy value, polled until ``timeout`` seconds; fails the test otherwise."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")
            time.sleep(interval)

    def output(self) -> str:
        """What the stack process printed so far (a function's log line only as its one-line summary)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def function_log_lines(self) -> list[str]:
        """Every JSON log line the functions wrote so far, whole (``<state dir>/logs/<Function>.jsonl``)."""
        lines: list[str] = []
        for path in sorted((self.local_dir / LOGS_DIR).glob("*.jsonl")):
            if path.name != METRICS_FILE:
                lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
        return lines


@contextmanager
def running_stack(local_dir: Path, startup_timeout: float = STARTUP_TIMEOUT_SECONDS) -> Iterator[RunningStack]:
    """A local stack in a subprocess for the block (``local_stack.child``); the bench's load run uses it too."""
    with child_stack(local_dir, startup_timeout) as (info, log_path):
        running = RunningStack(**info, local_dir=local_dir, log_path=log_path)
        try:
            yield running
        finally:
            running.session.close()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    try:
        with running_stack(tmp_path_factory.mktemp("local-stack")) as running:
            yield running
    except StackNotHealthy as exc:
        pytest.fail(str(exc))
