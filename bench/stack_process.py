"""A local stack of our own: ``python -m local_stack`` in a subprocess, on free ports, with its own state.

Started with ``local_stack.child``, as the integration tests' ``stack`` fixture is. A stack someone
is already running on the default ports is never touched. The subprocess is stopped when the block
ends, on errors and Ctrl-C too, and gets SIGTERM if this process dies first.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local_stack.child import LOOPBACK, child_stack

STARTUP_TIMEOUT_SECONDS = 90


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


def require_loopback(url: str) -> None:
    """Refuse to send benchmark traffic anywhere but this machine's loopback address."""
    host = urlsplit(url).hostname
    if host != LOOPBACK:
        raise RuntimeError(f"refusing to send load to {url}: only {LOOPBACK} is allowed")


@contextmanager
def local_stack(local_dir: Path) -> Iterator[RunningStack]:
    with child_stack(local_dir, STARTUP_TIMEOUT_SECONDS) as (info, log_path):
        stack = RunningStack(info=info, local_dir=local_dir, log_path=log_path)
        require_loopback(stack.api_url)
        require_loopback(str(info["aws_endpoint_url"]))
        yield stack
