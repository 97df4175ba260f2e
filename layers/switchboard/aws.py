"""Moved to ``switchboard.adapters.aws_clients``; this re-export is removed when the restructuring completes."""
from switchboard.adapters.aws_clients import _CONFIG, DeferredClient, client, reset_clients  # noqa: F401
