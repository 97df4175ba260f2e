"""Reads a JSON Lines log as it grows: only the bytes appended since the last read are parsed."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any


class JsonLinesFile:
    """Every whole record of ``path`` so far. A line still being written waits for its newline.

    A file that got shorter (the stack truncates its logs at start) is read again from the top.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._records: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            self._read_new()
            return list(self._records)

    def _read_new(self) -> None:
        try:
            with open(self.path, "rb") as fh:
                size = fh.seek(0, 2)
                if size < self._offset:
                    self._offset, self._records = 0, []
                fh.seek(self._offset)
                chunk = fh.read(size - self._offset)
        except FileNotFoundError:
            self._offset, self._records = 0, []
            return
        end = chunk.rfind(b"\n")
        if end < 0:
            return
        self._offset += end + 1
        for line in chunk[:end].split(b"\n"):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue  # not a record: skipped, the others still count
            if isinstance(record, dict):
                self._records.append(record)
