"""Moved to ``switchboard.http.problem_responses``; this shim is removed when the restructuring completes."""
from switchboard.http.problem_responses import (  # noqa: F401
    PROBLEM_CONTENT_TYPE,
    RATE_LIMIT_TYPE,
    TRACE_HEADER,
    Problem,
    internal_error,
    new_trace_id,
    problem_for,
    validation_problem,
)
