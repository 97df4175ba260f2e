"""Moved to ``switchboard.ttl_cache``; this re-export is removed when the restructuring completes."""
from switchboard.ttl_cache import MISSING, TtlCache  # noqa: F401
