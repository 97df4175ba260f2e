"""Message lifecycle states.

Internal states (never sent to customers): ``accepted`` (record written, queued) and ``sending``
(claimed by a sender worker). Public states follow the Messages API status webhook.
"""
from __future__ import annotations

ACCEPTED = "accepted"
SENDING = "sending"
SUBMITTED = "submitted"
DELIVERED = "delivered"
READ = "read"
REJECTED = "rejected"
UNDELIVERABLE = "undeliverable"

TERMINAL = frozenset({REJECTED, UNDELIVERABLE})
PUBLIC = (SUBMITTED, DELIVERED, READ, REJECTED, UNDELIVERABLE)
