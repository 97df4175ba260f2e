"""The local stack's terminal: one short line per event, every field of it in ``<state dir>/logs/``.

The functions log JSON lines to standard output, as on Lambda. ``ConsoleRouter`` stands in for
``sys.stdout``: a function's log line goes whole to ``logs/<Function>.jsonl`` and as one line to the
terminal (time, function, what happened, the ids that matter); a metrics document (EMF, ``_aws``)
goes to ``logs/metrics.jsonl`` only; anything else (the banner) is passed through as it is.
``ShortFormatter`` gives the stack's own Python log records the same layout.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

METRICS_FILE = "metrics.jsonl"
OTHER_LOG = "other"  # a JSON log line naming no function and no known service
NAME_WIDTH = 17
MAX_VALUE_LENGTH = 80
# Shown after the message, in this order, when a log line has them.
KEY_FIELDS = (
    "message_uuid",
    "workflow_uuid",
    "channel",
    "provider",
    "status",
    "error_code",
    "attempt",
    "step",
    "effect",
    "webhook",
    "http_status",
    "reason",
    "detail",
    "title",
    "path",
    "sqs_message_id",
)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"


def short_line(record: Mapping[str, Any], name: str, log_path: Path | None = None) -> str:
    """``07:04:52 SenderFunction    message submitted  message_uuid=… channel=sms status=submitted``."""
    timestamp = str(record.get("timestamp", ""))
    clock = timestamp[11:19] if len(timestamp) >= 19 else timestamp
    level = str(record.get("level", "INFO"))
    fields = [f"{key}={_shown(record[key])}" for key in KEY_FIELDS if record.get(key) not in (None, "")]
    correlation = str(record.get("correlation_id") or "")
    if not {"message_uuid", "workflow_uuid"} & record.keys() and _UUID.fullmatch(correlation):
        fields.insert(0, f"id={correlation}")  # the message (sender, notifier) or workflow the line is about
    line = f"{clock} {name:<{NAME_WIDTH}} {'' if level == 'INFO' else level + ' '}{record.get('message', '')}"
    if fields:
        line += "  " + " ".join(fields)
    if record.get("exception"):
        last = str(record["exception"]).strip().splitlines()[-1]
        line += f"  ({_shown(last)}; traceback in {log_path})" if log_path else f"  ({_shown(last)})"
    return line


class ConsoleRouter(io.TextIOBase):
    """``sys.stdout`` for the local stack (module docstring). Thread-safe; lines are routed whole."""

    def __init__(self, terminal: TextIO, logs_dir: Path) -> None:
        self.terminal = terminal
        self.logs_dir = logs_dir
        self._functions_by_service: dict[str, str] = {}
        self._pending = threading.local()
        self._lock = threading.Lock()

    def name_services(self, functions_by_service: Mapping[str, str]) -> None:
        """Which function a service is, for lines logged before the function's first invocation."""
        self._functions_by_service.update(functions_by_service)

    def writable(self) -> bool:
        return True

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.terminal, "encoding", "utf-8")

    def isatty(self) -> bool:
        return self.terminal.isatty()

    def write(self, text: str) -> int:
        pending = getattr(self._pending, "text", "") + text
        *lines, rest = pending.split("\n")
        self._pending.text = rest
        for line in lines:
            self._route(line)
        return len(text)

    def flush(self) -> None:
        self.terminal.flush()

    def _route(self, line: str) -> None:
        record = _json_object(line)
        if record is None:
            self._to_terminal(line)
        elif "_aws" in record:
            self._append(METRICS_FILE, line)
        elif "level" in record and "message" in record:
            name = str(
                record.get("function_name") or self._functions_by_service.get(str(record.get("service"))) or OTHER_LOG
            )
            log_name = f"{name}.jsonl"
            self._append(log_name, line)
            self._to_terminal(short_line(record, name, self.logs_dir / log_name))
        else:
            self._to_terminal(line)

    def _to_terminal(self, line: str) -> None:
        with self._lock:
            self.terminal.write(line + "\n")
            self.terminal.flush()

    def _append(self, name: str, line: str) -> None:
        with self._lock:
            self.logs_dir.mkdir(parents=True, exist_ok=True)
            with open(self.logs_dir / name, "a", encoding="utf-8") as fh:
                fh.write(line + "\n")


def _json_object(line: str) -> dict[str, Any] | None:
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class ShortFormatter(logging.Formatter):
    """The stack's own log records in the terminal's layout: ``07:04:52 stack             message``."""

    def format(self, record: logging.LogRecord) -> str:
        clock = self.formatTime(record, "%H:%M:%S")
        name = record.name.rsplit(".", 1)[-1]
        level = "" if record.levelno == logging.INFO else record.levelname + " "
        line = f"{clock} {name:<{NAME_WIDTH}} {level}{record.getMessage()}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line
