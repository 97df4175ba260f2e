"""Powertools responses for problem documents, shared by every HTTP-facing function."""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import Response

from switchboard import errors
from switchboard.api.problems import PROBLEM_CONTENT_TYPE, TRACE_HEADER, Problem, new_trace_id, problem_for


def request_base_url(event: Mapping[str, Any]) -> str:
    """``<scheme>://<host>`` the client called (an HTTP API payload 2.0 event): API Gateway's domain or the
    custom domain, or the local stack's host, port and scheme."""
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    host = headers.get("host") or str((event.get("requestContext") or {}).get("domainName") or "")
    scheme = headers.get("x-forwarded-proto") or "https"
    return f"{scheme}://{host}" if host else ""


def problem_response(problem: Problem, base_url: str = "") -> Response:
    """The problem as ``application/problem+json``, with a fresh trace id in ``instance`` and the header.

    ``base_url`` (``request_base_url``) makes Switchboard's own problem types absolute URLs."""
    trace_id = new_trace_id()
    headers = {TRACE_HEADER: trace_id, **(problem.headers or {})}
    return Response(
        status_code=problem.status,
        content_type=PROBLEM_CONTENT_TYPE,
        body=problem.body(trace_id, base_url),
        headers=headers,
    )


def unmatched_route_response(
    routes: Mapping[str, tuple[str, ...]], path: str, method: str, base_url: str = ""
) -> Response:
    """405 (with ``Allow``) for a known path and another method, else 404. ``routes``: path regex -> methods."""
    for pattern, methods in routes.items():
        if re.fullmatch(pattern, path) and (method == "OPTIONS" or method not in methods):
            problem = problem_for(errors.MethodNotAllowed(f"{method} is not allowed on {path}.", list(methods)), None)
            return problem_response(problem, base_url)
    return problem_response(problem_for(errors.NotFound(f"No route for {method} {path}."), None), base_url)
