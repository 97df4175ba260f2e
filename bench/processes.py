"""Child processes that never outlive the benchmark: stopped on exit, and killed if the parent dies."""
from __future__ import annotations

import ctypes
import signal
import subprocess
import sys

STOP_TIMEOUT_SECONDS = 15
_PR_SET_PDEATHSIG = 1


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
