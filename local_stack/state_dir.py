"""The local stack's state directory (``.local`` by default): what lives there, who may use it, how to clear it.

One stack at a time uses a state directory: ``StateDirLock`` holds an exclusive ``flock`` on
``stack.lock`` for the life of the stack and records there who holds it. A second stack started
on the same directory is refused before it touches any file in it, so the running stack's
``stack.json``, keys and logs stay as they are. The lock goes away with the process that holds
it (also on a crash or ``kill -9``): a stale lock never blocks a new start.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any

from local_stack.simulators import PROVIDER_REPORTS_FILE, PROVIDER_REQUESTS_FILE
from local_stack.sink import WEBHOOKS_FILE

LOCK_FILE = "stack.lock"
STACK_FILE = "stack.json"
OUTPUTS_FILE = "outputs.json"
STATE_FILE = "state.json"  # the saved state (persistence.py), restored by the next start
DEMO_KEY_FILE = "demo-app.key"
KEYS_DIR = "keys"  # private keys of applications the CLI creates against the local stack
LOGS_DIR = "logs"  # each function's full JSON log lines
TLS_DIR = "tls"
LOG_FILES = (WEBHOOKS_FILE, PROVIDER_REQUESTS_FILE, PROVIDER_REPORTS_FILE)

# What a clean slate removes: the saved state and everything derived from it. The TLS
# certificate stays (it is not state, and clients may trust it already).
RESETTABLE_FILES = (STATE_FILE, DEMO_KEY_FILE, STACK_FILE, OUTPUTS_FILE, *LOG_FILES)
RESETTABLE_DIRS = (KEYS_DIR, LOGS_DIR)


class StateDirInUse(RuntimeError):
    """Another local stack holds the state directory; ``str()`` says which one and what to do."""


class StateDirLock:
    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.path = state_dir / LOCK_FILE
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ``StateDirInUse``; creates the directory, changes nothing else in it."""
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # private when created: it holds secrets
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._read_holder(fd)
            os.close(fd)
            raise StateDirInUse(self._in_use_message(holder)) from None
        self._fd = fd
        self.describe(pid=os.getpid())

    def describe(self, **holder: Any) -> None:
        """Record who holds the lock (pid, API URL) for the message a second start prints."""
        if self._fd is None:
            return
        data = json.dumps(holder).encode("utf-8")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    @property
    def held(self) -> bool:
        return self._fd is not None

    @staticmethod
    def _read_holder(fd: int) -> dict[str, Any]:
        try:
            data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _in_use_message(self, holder: dict[str, Any]) -> str:
        who = ", ".join(f"{key} {value}" for key, value in holder.items() if key in ("pid", "api_url"))
        return (
            f"another local stack is running with its state in {self.state_dir}"
            + (f" ({who})" if who else "")
            + "; nothing was changed. Stop it first (Ctrl-C in its terminal), or start this one with "
            "another --state-dir and other ports."
        )


def reset_state_dir(state_dir: Path) -> list[str]:
    """Remove the saved state and what derives from it (needs the lock); the names removed."""
    removed = []
    for name in RESETTABLE_FILES:
        path = state_dir / name
        if path.exists():
            path.unlink()
            removed.append(name)
    for name in RESETTABLE_DIRS:
        path = state_dir / name
        if path.exists():
            shutil.rmtree(path)
            removed.append(name + "/")
    return removed
