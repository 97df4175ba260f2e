"""``python -m local_stack`` in a child process: free ports, its own state directory, stopped afterwards.

The integration tests and the benchmarks start their stacks this way, so a stack someone is already
running on the default ports is never touched.
"""
from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = "127.0.0.1"
STOP_TIMEOUT_SECONDS = 15
_PR_SET_PDEATHSIG = 1


class StackNotHealthy(RuntimeError):
    """The child stack exited or did not answer ``/health`` in time; the message has its output."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


def terminate_with_parent() -> None:
    """``preexec_fn``: on Linux, the child gets SIGTERM when the process that started it dies."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass


def stop_process(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_SECONDS) -> None:  # type: ignore[type-arg]
    """SIGTERM, then SIGKILL if it is still running after ``timeout`` seconds."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until_healthy(process: subprocess.Popen, health_url: str, log_path: Path, timeout: float) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
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
            time.sleep(0.1)
    output = log_path.read_text(encoding="utf-8", errors="replace")
    raise StackNotHealthy(f"the local stack did not become healthy (exit code {process.poll()}); its output:\n{output}")


@dataclass
class ChildStack:
    """A running ``python -m local_stack`` child: its ``stack.json`` and where its output goes."""

    process: subprocess.Popen  # type: ignore[type-arg]
    info: dict[str, Any]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int | None:
        """SIGTERM (as Ctrl-C does: drain, save, stop); the exit code, or None if it had to be killed."""
        stop_process(self.process, timeout)
        return self.process.returncode


def stack_environment(local_dir: Path, http_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")}
    env.update(
        PORT=str(http_port),
        HTTPS_PORT=str(free_port()),
        AWS_PORT=str(free_port()),
        LOCAL_DIR=str(local_dir),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def child_stack_process(
    local_dir: Path, startup_timeout: float, args: tuple[str, ...] = (), log_name: str = "stack.log"
) -> Iterator[ChildStack]:
    """Start a stack on free loopback ports with state in ``local_dir`` (``args`` are its options)."""
    http_port = free_port()
    env = stack_environment(local_dir, http_port)
    local_dir.mkdir(parents=True, exist_ok=True)
    log_path = local_dir / log_name
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local_stack", *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=terminate_with_parent,
        )
    try:
        wait_until_healthy(process, f"http://{LOOPBACK}:{http_port}/health", log_path, startup_timeout)
        info = json.loads((local_dir / "stack.json").read_text(encoding="utf-8"))
        yield ChildStack(process, info, log_path)
    finally:
        stop_process(process)


@contextmanager
def child_stack(local_dir: Path, startup_timeout: float) -> Iterator[tuple[dict[str, Any], Path]]:
    """Start a stack on free loopback ports with state in ``local_dir``; yields (stack.json, its log path)."""
    with child_stack_process(local_dir, startup_timeout) as child:
        yield child.info, child.log_path
