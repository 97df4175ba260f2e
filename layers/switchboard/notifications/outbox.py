"""Moved to ``switchboard.notifier.outbox``; this shim is removed when the restructuring completes."""
from switchboard.notifier.outbox import NotificationInProgress, Outbox, OutboxRecords, Publisher, Republish  # noqa: F401
