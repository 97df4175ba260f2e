"""Moved to ``switchboard.http.problem_responses``; this shim is removed when the restructuring completes."""
from switchboard.http.problem_responses import problem_response, request_base_url, unmatched_route_response  # noqa: F401
