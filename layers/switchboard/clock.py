"""Time in one place so tests can inject it."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable

_now: Callable[[], float] = time.time


def now() -> float:
    """Seconds since the epoch (float)."""
    return _now()


def set_clock(fn: Callable[[], float] | None) -> None:
    """Tests: replace the clock (``None`` restores the real one)."""
    global _now
    _now = fn or time.time


def iso(ts: float | None = None) -> str:
    """ISO-8601 UTC with milliseconds and ``Z``, as the Messages API webhooks use."""
    ts = now() if ts is None else ts
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{int(ts * 1000) % 1000:03d}Z"
