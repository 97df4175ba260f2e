"""Thread-safe JSON Lines log with the most recent records also kept in memory."""

from __future__ import annotations

import json
import threading
from collections import deque
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

# The file keeps every record; memory only the latest, so a long benchmark run stays bounded.
DEFAULT_MEMORY_LIMIT = 10_000


def iso_utc_now() -> str:
    """ISO-8601 UTC with milliseconds and ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonLinesLog:
    def __init__(self, path: Path, memory_limit: int = DEFAULT_MEMORY_LIMIT) -> None:
        self.path = path
        self._recent: deque[dict[str, Any]] = deque(maxlen=memory_limit)
        self._lock = threading.Lock()

    def append(self, record: dict[str, Any]) -> None:
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(line)
            self._recent.append(record)

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._recent)
