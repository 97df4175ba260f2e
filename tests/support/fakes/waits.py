"""One simulated AWS round-trip: a sleep, which releases the interpreter lock as a socket wait does."""
from __future__ import annotations

import time


def wait(call_seconds: float) -> None:
    if call_seconds:
        time.sleep(call_seconds)
