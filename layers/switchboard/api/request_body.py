"""Moved to ``switchboard.http.request_body``; this shim is removed when the restructuring completes."""
from switchboard.http.request_body import parse_json_body, require_json_content_type  # noqa: F401
