"""Every error the API returns, as ``application/problem+json`` (RFC 7807), mapped in this one place.

Types reuse the Nexmo/Vonage error URLs where those APIs had the error. Switchboard's own types
(``OWN_PROBLEM_TYPES``) are documented by the API itself: ``<API URL>/docs/errors#<id>``, served by
``GET /docs/errors`` (``errors_page``) and described in ``docs/errors.md``. A ``Problem`` holds them
as ``/docs/errors#<id>``; the response makes that absolute with the URL the client called.
``problem_response`` turns a ``Problem`` into the Powertools response both functions answer with.
"""
from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response

from switchboard.domain import errors
from switchboard.domain.message import ApiVersion

PROBLEM_CONTENT_TYPE = "application/problem+json"
TRACE_HEADER = "x-nexmo-trace-id"

_API_ERRORS = "https://developer.nexmo.com/api-errors"
# The Vonage APIs' own type for a rate-limited request (their SDKs map any 429 to a rate-limit error).
RATE_LIMIT_TYPE = "https://developer.vonage.com/api-errors#rate-limit"
ERRORS_PAGE_PATH = "/docs/errors"


@dataclass(frozen=True)
class ProblemType:
    status: int
    title: str
    explanation: str


# Switchboard's own problem types: <API URL>/docs/errors#<id>. docs/errors.md has a section for each.
OWN_PROBLEM_TYPES: dict[str, ProblemType] = {
    "payload-too-large": ProblemType(
        413, "Payload Too Large",
        "The request body is larger than the deployment's MAX_BODY_BYTES (64 KiB by default; API Gateway's own "
        "limit is 10 MB). A message is at most a few KiB: the limit protects the function.",
    ),
    "idempotency-key-reused": ProblemType(
        422, "Idempotency-Key reused",
        "The same Idempotency-Key was used by the same account within 24 hours with a different request "
        "(different route or different JSON; key order and whitespace do not count). Use a new key.",
    ),
    "idempotency-key-in-flight": ProblemType(
        409, "Request in progress",
        "The first request with this key is still being processed. Retry after the Retry-After seconds: you "
        "will then get its stored response.",
    ),
    "service-unavailable": ProblemType(
        503, "Service Unavailable",
        "The message was recorded but could not be queued for sending. It was not sent and will not be; its "
        "record says rejected with code 1030 and enqueue_failed. Retry the request (with the same "
        "Idempotency-Key if you use one: a failed request does not consume the key).",
    ),
    "whatsapp-window-closed": ProblemType(
        422, "Outside the customer service window",
        "A free-form WhatsApp message (anything but a template) was sent to a customer whose last message to the "
        "business number is known to be 24 hours old or more. WhatsApp only delivers templates then: send a "
        "template message, or wait for the customer to write again.",
    ),
    "whatsapp-provider-failed": ProblemType(
        502, "Bad Gateway",
        "The WhatsApp Cloud API refused or did not answer a call made for this request (marking an inbound "
        "message read, downloading an inbound media item). Nothing changed; the detail says why. Retry later.",
    ),
    "internal-error": ProblemType(
        500, "Internal Error",
        "An unexpected error. It is logged with the instance trace id; nothing about it is in the body.",
    ),
}


def own_type(problem_id: str) -> str:
    """The type of one of Switchboard's own problems, relative to the API's URL until it is sent."""
    if problem_id not in OWN_PROBLEM_TYPES:
        raise KeyError(f"{problem_id} is not documented in OWN_PROBLEM_TYPES")
    return f"{ERRORS_PAGE_PATH}#{problem_id}"


@dataclass(frozen=True)
class Problem:
    status: int
    type: str
    title: str
    detail: str
    invalid_parameters: list[dict[str, str]] | None = None
    headers: dict[str, str] | None = None

    def body(self, instance: str, base_url: str = "") -> str:
        """The JSON document; ``base_url`` (``https://host``) makes one of Switchboard's own types absolute."""
        doc: dict[str, object] = {
            "type": base_url + self.type if self.type.startswith("/") else self.type,
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
        return Problem(413, own_type("payload-too-large"), "Payload Too Large", exc.detail)
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
        return Problem(422, own_type("idempotency-key-reused"), "Idempotency-Key reused", exc.detail)
    if isinstance(exc, errors.IdempotencyInFlight):
        return Problem(
            409, own_type("idempotency-key-in-flight"), "Request in progress", exc.detail, headers={"Retry-After": "1"}
        )
    if isinstance(exc, errors.RateLimited):
        return Problem(
            429,
            RATE_LIMIT_TYPE,
            "Too Many Requests",
            exc.detail,
            headers={"Retry-After": str(max(1, exc.retry_after_seconds))},
        )
    if isinstance(exc, errors.OutsideServiceWindow):
        return Problem(
            422,
            own_type("whatsapp-window-closed"),
            "Outside the customer service window",
            exc.detail,
            invalid_parameters=[p.to_dict() for p in exc.invalid_parameters],
        )
    if isinstance(exc, errors.ProviderCallFailed):
        return Problem(502, own_type("whatsapp-provider-failed"), "Bad Gateway", exc.detail)
    if isinstance(exc, errors.ServiceUnavailable):
        return Problem(
            503, own_type("service-unavailable"), "Service Unavailable", exc.detail, headers={"Retry-After": "1"}
        )
    return internal_error()


def internal_error() -> Problem:
    return Problem(
        500, own_type("internal-error"), "Internal Error", "An unexpected error occurred; it has been logged."
    )


def errors_page() -> str:
    """``GET /docs/errors``: Switchboard's own problem types, one section (``id`` = the type's fragment) each."""
    sections = "".join(
        f'<section id="{problem_id}"><h2>{problem_id}</h2><p>HTTP {kind.status} {html.escape(kind.title)}</p>'
        f"<p>{html.escape(kind.explanation)}</p></section>\n"
        for problem_id, kind in OWN_PROBLEM_TYPES.items()
    )
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Switchboard API errors</title></head>'
        "<body><h1>Switchboard API errors</h1><p>Problem types of this API that the Nexmo/Vonage API does not "
        "have. The others link to the Nexmo/Vonage documentation.</p>\n" + sections + "</body></html>\n"
    )


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
