"""Retry delays for transient provider failures: exponential, capped at SQS's 900 s limit."""
from __future__ import annotations

from switchboard.domain.message_record import MAX_DELAY_SECONDS


def retry_delay_seconds(attempt: int, base_seconds: int) -> int:
    """Delay after failed attempt ``attempt`` (1-based): base, 2*base, 4*base, ... at most 900 s."""
    exponent = max(attempt - 1, 0)
    if exponent >= 30:  # far past the cap; avoids building huge integers
        return MAX_DELAY_SECONDS
    return min(base_seconds * 2**exponent, MAX_DELAY_SECONDS)
