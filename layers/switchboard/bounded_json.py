"""Moved to ``switchboard.http.request_body``; this shim is removed when the restructuring completes."""
from switchboard.http.request_body import MAX_DEPTH, nesting_depth, parse_json  # noqa: F401
