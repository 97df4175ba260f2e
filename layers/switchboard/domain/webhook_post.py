"""What one customer webhook POST achieved (the notifier records it; the HTTP adapter produces it)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PostResult:
    delivered: bool
    http_status: int | None = None
    error: str | None = None  # why it failed, without the URL: "timeout", "http 500", "unsafe url: ..."
