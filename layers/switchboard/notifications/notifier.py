"""Moved to ``switchboard.notifier.delivery``; this shim is removed when the restructuring completes."""
from switchboard.notifier.delivery import (  # noqa: F401
    FIRST_RETRY_SECONDS, RETRY_WINDOW_SECONDS, UNDELIVERABLE_EVENT, AttemptLog, DeliveryOutcome, Notifier, Poster,
    RetryQueues, RetrySchedule,
)
