"""Moved to ``switchboard.http.problem_responses``; this shim is removed when the restructuring completes."""
from switchboard.http.problem_responses import (  # noqa: F401
    ERRORS_PAGE_PATH,
    OWN_PROBLEM_TYPES,
    PROBLEM_CONTENT_TYPE,
    RATE_LIMIT_TYPE,
    TRACE_HEADER,
    Problem,
    ProblemType,
    errors_page,
    internal_error,
    new_trace_id,
    own_type,
    problem_for,
    validation_problem,
)
