"""The customer-facing HTTP API: routes, authentication and the domain-error-to-HTTP mapping.

Handlers here only translate HTTP to calls on the services (``send.py``) and back.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from switchboard import errors
from switchboard.config import settings
from switchboard.domain.message import ApiVersion, Principal
from switchboard.http.problem_responses import internal_error, problem_for, problem_response, unmatched_route_response
from switchboard.http.request_body import parse_json_body, raw_body
from switchboard.observability import logger, metrics

app = APIGatewayHttpResolver()

# Every route the API serves, for telling 404 (unknown path) from 405 (known path, wrong method).
ROUTES: dict[str, tuple[str, ...]] = {
    r"/beta/messages": ("POST",),
    r"/v0\.1/messages": ("POST",),
    r"/v1/messages": ("POST",),
    r"/v0\.1/messages/[^/]+": ("GET",),
    r"/v1/messages/[^/]+": ("GET",),
    r"/beta/workflows": ("POST",),
    r"/v0\.1/dispatch": ("POST",),
    r"/beta/workflows/[^/]+": ("GET",),
    r"/v0\.1/workflows/[^/]+": ("GET",),
    r"/v0\.1/dispatch/[^/]+": ("GET",),
    r"/v1/workflows/[^/]+": ("GET",),
    r"/health": ("GET",),
}
_VERSION_PREFIXES = (("/beta/", ApiVersion.BETA), ("/v0.1/", ApiVersion.V0_1), ("/v1/", ApiVersion.V1))


@lru_cache(maxsize=1)
def _authenticator() -> Any:
    from switchboard.auth import Authenticator

    return Authenticator()


@lru_cache(maxsize=1)
def _rate_limiter() -> Any:
    from switchboard.api.rate_limit import default_rate_limiter

    return default_rate_limiter(_account_rate_limit)


def _account_rate_limit(api_key: str) -> int | None:
    """The account's own limit, from the record authentication cached (no read on a warm function)."""
    account = _authenticator().account(api_key)
    return None if account is None else account.rate_limit_per_second


@lru_cache(maxsize=1)
def _acceptor() -> Any:
    from switchboard.api.send import default_acceptor

    return default_acceptor()


@lru_cache(maxsize=1)
def _message_reader() -> Any:
    from switchboard.store.messages import MessageStore

    return MessageStore()


@lru_cache(maxsize=1)
def _workflow_starter() -> Any:
    from switchboard.api.workflows import default_starter

    return default_starter(_acceptor())


@lru_cache(maxsize=1)
def _workflow_reader() -> Any:
    from switchboard.store.workflows import WorkflowStore

    return WorkflowStore()


def reset_dependencies() -> None:
    """Tests: forget the wired services (e.g. after moto restarts)."""
    _authenticator.cache_clear()
    _rate_limiter.cache_clear()
    _acceptor.cache_clear()
    _message_reader.cache_clear()
    _workflow_starter.cache_clear()
    _workflow_reader.cache_clear()


def _version_of(path: str) -> ApiVersion | None:
    for prefix, version in _VERSION_PREFIXES:
        if path.startswith(prefix):
            return version
    return None


def _authenticate() -> Principal:
    return _authenticator().authenticate(app.current_event.headers.get("authorization"))


def _authenticate_and_count() -> Principal:
    """The send and workflow routes: the caller, whose request then counts against its account's rate limit."""
    principal = _authenticate()
    try:
        _rate_limiter().check(principal.api_key)
    except errors.RateLimited:
        metrics.add_metric(name="rate_limited", unit="Count", value=1)
        raise
    return principal


def _json_response(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def _send(version: ApiVersion) -> Response:
    from switchboard.api.send import parse_message

    principal = _authenticate_and_count()
    headers = app.current_event.headers
    body = parse_json_body(raw_body(app.current_event), headers.get("content-type"), settings().max_body_bytes)

    def accept() -> dict:
        if version is ApiVersion.V1 and isinstance(body, dict) and body.get("failover") is not None:
            from switchboard.workflows.requests import parse_v1_failover

            steps = parse_v1_failover(body)
            assert steps is not None
            return _workflow_starter().start(steps, version, principal)
        return _acceptor().accept(parse_message(body, version), principal)

    return _accepted(accept, principal, body)


def _start_workflow(version: ApiVersion) -> Response:
    from switchboard.workflows.requests import parse_workflow

    principal = _authenticate_and_count()
    headers = app.current_event.headers
    body = parse_json_body(raw_body(app.current_event), headers.get("content-type"), settings().max_body_bytes)

    def start() -> dict:
        return _workflow_starter().start(parse_workflow(body, version), version, principal)

    return _accepted(start, principal, body)


def _accepted(accept: Any, principal: Principal, body: Any) -> Response:
    """202 with what ``accept`` returns, once per ``Idempotency-Key`` when the request has one."""
    headers = app.current_event.headers
    key = headers.get("idempotency-key")
    if key is None:
        return _json_response(202, accept())
    from switchboard.api.idempotency import check_key, run_idempotent

    result = run_idempotent(
        check_key(key), principal.api_key, app.current_event.raw_path, body, accept, app.lambda_context
    )
    return _json_response(202, result)


@app.post("/beta/messages")
def send_beta() -> Response:
    return _send(ApiVersion.BETA)


@app.post(r"/v0\.1/messages")  # escaped: Powertools compiles routes as regular expressions
def send_v01() -> Response:
    return _send(ApiVersion.V0_1)


@app.post("/v1/messages")
def send_v1() -> Response:
    return _send(ApiVersion.V1)


def _lookup(message_uuid: str, version: ApiVersion) -> Response:
    from switchboard.api.lookup import find_message

    principal = _authenticate()
    return _json_response(200, find_message(_message_reader(), message_uuid, principal, version))


@app.get(r"/v0\.1/messages/<message_uuid>")
def get_message_v01(message_uuid: str) -> Response:
    return _lookup(message_uuid, ApiVersion.V0_1)


@app.get("/v1/messages/<message_uuid>")
def get_message_v1(message_uuid: str) -> Response:
    return _lookup(message_uuid, ApiVersion.V1)


@app.post("/beta/workflows")
def start_workflow_beta() -> Response:
    return _start_workflow(ApiVersion.BETA)


@app.post(r"/v0\.1/dispatch")
def start_dispatch_v01() -> Response:
    return _start_workflow(ApiVersion.V0_1)


def _workflow_lookup(workflow_uuid: str, route_flavour: str) -> Response:
    from switchboard.api.workflows import find_workflow

    principal = _authenticate()
    view = find_workflow(
        _workflow_reader(), _message_reader(), workflow_uuid, principal, route_flavour, app.current_event.raw_path
    )
    return _json_response(200, view)


@app.get("/beta/workflows/<workflow_uuid>")
def get_workflow_beta(workflow_uuid: str) -> Response:
    return _workflow_lookup(workflow_uuid, "workflow")


@app.get(r"/v0\.1/workflows/<workflow_uuid>")
def get_workflow_v01(workflow_uuid: str) -> Response:
    return _workflow_lookup(workflow_uuid, "workflow")


@app.get(r"/v0\.1/dispatch/<dispatch_uuid>")
def get_dispatch_v01(dispatch_uuid: str) -> Response:
    return _workflow_lookup(dispatch_uuid, "dispatch")


@app.get("/v1/workflows/<workflow_id>")
def get_workflow_v1(workflow_id: str) -> Response:
    return _workflow_lookup(workflow_id, "v1")


@app.get("/health")
def health() -> Response:
    return _json_response(200, {"status": "ok"})


@app.exception_handler(errors.SwitchboardError)
def handle_domain_error(exc: errors.SwitchboardError) -> Response:
    problem = problem_for(exc, _version_of(app.current_event.raw_path))
    if problem.status >= 500:
        logger.warning("request failed", extra={"status": problem.status, "title": problem.title})
    return problem_response(problem)


@app.exception_handler(Exception)
def handle_unexpected(exc: Exception) -> Response:
    logger.exception("unhandled error")
    return problem_response(internal_error())


@app.not_found
def handle_not_found(exc: NotFoundError) -> Response:
    event = app.current_event
    return unmatched_route_response(ROUTES, event.raw_path, event.request_context.http.method.upper())


def resolve(event: dict, context: Any) -> dict:
    return app.resolve(event, context)
