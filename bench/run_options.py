"""What every measurement is given, and how it reports progress (on stderr; stdout is the table's)."""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass

_START = time.monotonic()


@dataclass(frozen=True)
class RunOptions:
    quick: bool = False  # fewer repetitions and a smaller load: a smoke run, not figures to quote

    def pick(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def progress(message: str) -> None:
    print(f"[bench {time.monotonic() - _START:6.1f}s] {message}", file=sys.stderr, flush=True)
