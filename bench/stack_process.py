"""A local stack of our own: ``python -m local_stack`` in a subprocess, on free ports, with its own state.

The same approach as the integration tests' ``stack`` fixture. A stack someone is already running on
the default ports is never touched. The subprocess is stopped when the block ends, on errors and
Ctrl-C too, and gets SIGTERM if this process dies first.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from bench.processes import stop_process, terminate_with_parent

ROOT = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT_SECONDS = 90
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class RunningStack:
    info: dict[str, Any]  # stack.json: api_url, api_key, api_secret, provider_log, aws_endpoint_url, ...
    local_dir: Path
    log_path: Path

    @property
    def api_url(self) -> str:
        return str(self.info["api_url"])

    def output_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def require_loopback(url: str) -> None:
    """Refuse to send benchmark traffic anywhere but this machine's loopback address."""
    host = urlsplit(url).hostname
    if host != LOOPBACK:
        raise RuntimeError(f"refusing to send load to {url}: only {LOOPBACK} is allowed")


@contextmanager
def local_stack(local_dir: Path) -> Iterator[RunningStack]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(
        PORT=str(free_port()),
        HTTPS_PORT=str(free_port()),
        AWS_PORT=str(free_port()),
        LOCAL_DIR=str(local_dir),
        PYTHONUNBUFFERED="1",
    )
    log_path = local_dir / "stack.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_stack"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=terminate_with_parent,
        )
    try:
        health_url = f"http://{LOOPBACK}:{env['PORT']}/health"
        _wait_until_healthy(process, health_url, log_path)
        info = json.loads((local_dir / "stack.json").read_text(encoding="utf-8"))
        stack = RunningStack(info=info, local_dir=local_dir, log_path=log_path)
        require_loopback(stack.api_url)
        require_loopback(str(info["aws_endpoint_url"]))
        yield stack
    finally:
        stop_process(process)


def _wait_until_healthy(process: subprocess.Popen[bytes], health_url: str, log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    with requests.Session() as session:
        session.trust_env = False
        while time.monotonic() < deadline:
            if process.poll() is not None:
                break
            try:
                if session.get(health_url, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
    output = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
    raise RuntimeError(f"the local stack did not become healthy (exit code {process.poll()}):\n{output}")
