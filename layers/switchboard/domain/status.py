"""Message lifecycle states.

Internal states (never sent to customers): ``accepted`` (record written, queued), ``sending``
(claimed by a sender worker) and ``outcome_unknown`` (the provider may have accepted the message but
its answer was lost; held, never resent, until evidence or a deadline settles it). Public states
follow the Messages API status webhook.
"""
from __future__ import annotations

ACCEPTED = "accepted"
SENDING = "sending"
OUTCOME_UNKNOWN = "outcome_unknown"
SUBMITTED = "submitted"
DELIVERED = "delivered"
READ = "read"
REJECTED = "rejected"
UNDELIVERABLE = "undeliverable"

TERMINAL = frozenset({REJECTED, UNDELIVERABLE})
PUBLIC = (SUBMITTED, DELIVERED, READ, REJECTED, UNDELIVERABLE)
