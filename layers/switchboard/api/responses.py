"""Powertools responses for problem documents, shared by every HTTP-facing function."""
from __future__ import annotations

import re
from collections.abc import Mapping

from aws_lambda_powertools.event_handler import Response

from switchboard import errors
from switchboard.api.problems import PROBLEM_CONTENT_TYPE, TRACE_HEADER, Problem, new_trace_id, problem_for


def problem_response(problem: Problem) -> Response:
    """The problem as ``application/problem+json``, with a fresh trace id in ``instance`` and the header."""
    trace_id = new_trace_id()
    headers = {TRACE_HEADER: trace_id, **(problem.headers or {})}
    return Response(
        status_code=problem.status, content_type=PROBLEM_CONTENT_TYPE, body=problem.body(trace_id), headers=headers
    )


def unmatched_route_response(routes: Mapping[str, tuple[str, ...]], path: str, method: str) -> Response:
    """405 (with ``Allow``) for a known path and another method, else 404. ``routes``: path regex -> methods."""
    for pattern, methods in routes.items():
        if re.fullmatch(pattern, path) and (method == "OPTIONS" or method not in methods):
            problem = problem_for(errors.MethodNotAllowed(f"{method} is not allowed on {path}.", list(methods)), None)
            return problem_response(problem)
    return problem_response(problem_for(errors.NotFound(f"No route for {method} {path}."), None))
