"""A browser tab on the local stack's console, for the console's browser tests (``tests/console/``).

Screenshots go to ``.local/test-artifacts/console/`` (git ignores ``.local/``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.stack import ROOT, RunningStack

ARTIFACTS = ROOT / ".local" / "test-artifacts" / "console"


@dataclass
class ConsolePage:
    """A browser tab on the stack's console that records what it fetched and what its scripts said."""

    page: Any
    stack: RunningStack
    name: str
    requested: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    shots: int = 0

    @property
    def console_url(self) -> str:
        return f"{self.stack.api_url}/_console/"

    def screenshot(self, step: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.shots += 1
        path = ARTIFACTS / f"{self.name}-{self.shots:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requested if not url.startswith(self.stack.api_url + "/")]
