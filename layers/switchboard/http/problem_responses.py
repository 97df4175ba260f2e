"""Every error an HTTP function returns, as ``application/problem+json`` (RFC 7807), mapped in this one place.

Types reuse the Nexmo/Vonage error URLs where those APIs had the error; Switchboard's own
extensions (idempotency keys) use relative references documented in ``docs/errors.md``.
``problem_response`` turns a ``Problem`` into the Powertools response both functions answer with.
"""
from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from aws_lambda_powertools.event_handler import Response

from switchboard import errors
from switchboard.domain.message import ApiVersion

PROBLEM_CONTENT_TYPE = "application/problem+json"
TRACE_HEADER = "x-nexmo-trace-id"

_API_ERRORS = "https://developer.nexmo.com/api-errors"
# The Vonage APIs' own type for a rate-limited request (their SDKs map any 429 to a rate-limit error).
RATE_LIMIT_TYPE = "https://developer.vonage.com/api-errors#rate-limit"


@dataclass(frozen=True)
class Problem:
    status: int
    type: str
    title: str
    detail: str
    invalid_parameters: list[dict[str, str]] | None = None
    headers: dict[str, str] | None = None

    def body(self, instance: str) -> str:
        doc: dict[str, object] = {
            "type": self.type,
            "title": self.title,
            "detail": self.detail,
            "instance": instance,
        }
        if self.invalid_parameters is not None:
            doc["invalid_parameters"] = self.invalid_parameters
        return json.dumps(doc)


def new_trace_id() -> str:
    """32 hex characters, as the Messages API's ``instance`` / ``x-nexmo-trace-id``."""
    return uuid.uuid4().hex


def validation_problem(exc: errors.ValidationFailed, version: ApiVersion) -> Problem:
    params = [p.to_dict() for p in exc.invalid_parameters]
    if version is ApiVersion.V1:
        return Problem(
            status=422,
            type="https://developer.vonage.com/api-errors/messages#1150",
            title="Invalid params",
            detail="The value of one or more parameters is invalid.",
            invalid_parameters=params,
        )
    return Problem(
        status=400,
        type="https://www.nexmo.com/messages/Errors#InvalidParams",
        title="Your request parameters didn't validate.",
        detail=exc.detail,
        invalid_parameters=params,
    )


def problem_for(exc: errors.SwitchboardError, version: ApiVersion | None) -> Problem:
    """The problem document for a domain error; ``version`` decides the validation status (400 vs 422)."""
    if isinstance(exc, errors.ValidationFailed):
        return validation_problem(exc, version or ApiVersion.V0_1)
    if isinstance(exc, errors.Unauthorized):
        return Problem(
            401,
            f"{_API_ERRORS}#unauthorized",
            "Unauthorized",
            exc.detail or "You did not provide correct credentials.",
            headers={"WWW-Authenticate": 'Basic realm="switchboard", Bearer'},
        )
    if isinstance(exc, errors.Forbidden):
        return Problem(403, f"{_API_ERRORS}#forbidden", "Forbidden", exc.detail)
    if isinstance(exc, errors.InvalidJson):
        return Problem(400, f"{_API_ERRORS}#invalid-json", "Invalid JSON", exc.detail)
    if isinstance(exc, errors.UnsupportedMediaType):
        return Problem(415, f"{_API_ERRORS}#content-type-header", "Unsupported Media Type", exc.detail)
    if isinstance(exc, errors.PayloadTooLarge):
        return Problem(413, "/docs/errors#payload-too-large", "Payload Too Large", exc.detail)
    if isinstance(exc, errors.NotFound):
        return Problem(404, f"{_API_ERRORS}#not-found", "Not Found", exc.detail)
    if isinstance(exc, errors.MethodNotAllowed):
        return Problem(
            405,
            f"{_API_ERRORS}#wrong-verb",
            "Method Not Allowed",
            exc.detail,
            headers={"Allow": ", ".join(exc.allowed)},
        )
    if isinstance(exc, errors.IdempotencyKeyReused):
        return Problem(422, "/docs/errors#idempotency-key-reused", "Idempotency-Key reused", exc.detail)
    if isinstance(exc, errors.IdempotencyInFlight):
        return Problem(
            409, "/docs/errors#idempotency-key-in-flight", "Request in progress", exc.detail, headers={"Retry-After": "1"}
        )
    if isinstance(exc, errors.RateLimited):
        return Problem(
            429,
            RATE_LIMIT_TYPE,
            "Too Many Requests",
            exc.detail,
            headers={"Retry-After": str(max(1, exc.retry_after_seconds))},
        )
    if isinstance(exc, errors.ServiceUnavailable):
        return Problem(
            503, "/docs/errors#service-unavailable", "Service Unavailable", exc.detail, headers={"Retry-After": "1"}
        )
    return internal_error()


def internal_error() -> Problem:
    return Problem(500, "/docs/errors#internal-error", "Internal Error", "An unexpected error occurred; it has been logged.")


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
