"""The customer-facing HTTP API: routes, authentication and the domain-error-to-HTTP mapping.

Handlers here only translate HTTP to calls on the services and back. ``create_app(services)``
builds the routes; ``services()`` is called per request and gives what they use (built by
``switchboard.composition.api_function`` in production). Every route but ``/health`` runs behind
``Authentication``; the send and workflow routes then behind ``RateLimit`` (counted after the
caller is known, before the body is read).
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError

from switchboard.domain import errors
from switchboard.api.authentication import Authenticates, Authentication, principal_of
from switchboard.api.rate_limit import RateLimit, RateLimiter
from switchboard.domain.message import ApiVersion, Principal
from switchboard.http.problem_responses import (
    errors_page,
    internal_error,
    problem_for,
    problem_response,
    request_base_url,
    unmatched_route_response,
)
from switchboard.http.request_body import parse_json_body, raw_body
from switchboard.observability import logger

if TYPE_CHECKING:  # imported when a request first needs them, to keep them out of the cold start
    from switchboard.api.idempotency import IdempotentRequests
    from switchboard.api.message_acceptor import MessageAcceptor
    from switchboard.api.message_view import MessageReader
    from switchboard.api.workflow_starter import WorkflowStarter
    from switchboard.api.workflow_view import WorkflowReader

# Every route the API serves, for telling 404 (unknown path) from 405 (known path, wrong method).
ROUTES: dict[str, tuple[str, ...]] = {
    r"/beta/messages": ("POST",),
    r"/v0\.1/messages": ("POST",),
    r"/v1/messages": ("POST",),
    r"/v0\.1/messages/[^/]+": ("GET",),
    r"/v1/messages/[^/]+": ("GET", "PATCH"),
    r"/v1/whatsapp/media/[^/]+/[^/]+": ("GET",),
    r"/beta/workflows": ("POST",),
    r"/v0\.1/dispatch": ("POST",),
    r"/beta/workflows/[^/]+": ("GET",),
    r"/v0\.1/workflows/[^/]+": ("GET",),
    r"/v0\.1/dispatch/[^/]+": ("GET",),
    r"/v1/workflows/[^/]+": ("GET",),
    r"/health": ("GET",),
    r"/docs/errors": ("GET",),
}
_VERSION_PREFIXES = (("/beta/", ApiVersion.BETA), ("/v0.1/", ApiVersion.V0_1), ("/v1/", ApiVersion.V1))


class ApiServices(Protocol):
    """What the routes use. Production builds each on first use: a lookup builds no acceptor."""

    @property
    def authenticator(self) -> Authenticates: ...

    @property
    def rate_limiter(self) -> RateLimiter: ...

    @property
    def acceptor(self) -> MessageAcceptor: ...

    @property
    def messages(self) -> MessageReader: ...

    @property
    def workflow_starter(self) -> WorkflowStarter: ...

    @property
    def workflows(self) -> WorkflowReader: ...

    @property
    def idempotency(self) -> IdempotentRequests: ...

    @property
    def max_body_bytes(self) -> int: ...

    @property
    def sender_links(self) -> Any:
        """Which account owns which sender (``adapters.dynamodb.link_store``)."""
        ...

    def channels_config(self) -> Any:
        """The channels secret (provider credentials), for the calls the API makes to WhatsApp."""
        ...

    @property
    def whatsapp_cloud(self) -> Any:
        """The WhatsApp Cloud API calls the API makes (``domain.whatsapp_cloud.CloudApi``)."""
        ...


def _version_of(path: str) -> ApiVersion | None:
    for prefix, version in _VERSION_PREFIXES:
        if path.startswith(prefix):
            return version
    return None


def _json_response(status: int, body: dict) -> Response:
    return Response(status_code=status, content_type="application/json", body=json.dumps(body))


def create_app(services: Callable[[], ApiServices]) -> APIGatewayHttpResolver:
    """The API's routes, answering with what ``services()`` returns."""
    app = APIGatewayHttpResolver()

    def base_url() -> str:
        return request_base_url(app.current_event.raw_event)
    authenticated = Authentication(lambda: services().authenticator)
    reading = [authenticated]
    counted = [authenticated, RateLimit(lambda: services().rate_limiter)]

    def json_body() -> Any:
        event = app.current_event
        return parse_json_body(raw_body(event), event.headers.get("content-type"), services().max_body_bytes)

    def send(version: ApiVersion) -> Response:
        from switchboard.api.message_acceptor import parse_message

        principal = principal_of(app)
        body = json_body()

        def accept() -> dict:
            if version is ApiVersion.V1 and isinstance(body, dict) and body.get("failover") is not None:
                from switchboard.workflows.workflow_requests import parse_v1_failover

                steps = parse_v1_failover(body)
                assert steps is not None
                return services().workflow_starter.start(steps, version, principal)
            return services().acceptor.accept(parse_message(body, version), principal)

        return accepted(accept, principal, body)

    def start_workflow(version: ApiVersion) -> Response:
        from switchboard.workflows.workflow_requests import parse_workflow

        principal = principal_of(app)
        body = json_body()

        def start() -> dict:
            return services().workflow_starter.start(parse_workflow(body, version), version, principal)

        return accepted(start, principal, body)

    def accepted(accept: Callable[[], dict], principal: Principal, body: Any) -> Response:
        """202 with what ``accept`` returns, once per ``Idempotency-Key`` when the request has one."""
        key = app.current_event.headers.get("idempotency-key")
        if key is None:
            return _json_response(202, accept())
        from switchboard.api.idempotency import check_key

        result = services().idempotency.run(
            check_key(key), principal.api_key, app.current_event.raw_path, body, accept, app.lambda_context
        )
        return _json_response(202, result)

    def lookup(message_uuid: str, version: ApiVersion) -> Response:
        from switchboard.api.message_view import find_message

        return _json_response(200, find_message(services().messages, message_uuid, principal_of(app), version))

    def workflow_lookup(workflow_uuid: str, route_flavour: str) -> Response:
        from switchboard.api.workflow_view import find_workflow

        deps = services()
        view = find_workflow(
            deps.workflows, deps.messages, workflow_uuid, principal_of(app), route_flavour, app.current_event.raw_path
        )
        return _json_response(200, view)

    @app.post("/beta/messages", middlewares=counted)
    def send_beta() -> Response:
        return send(ApiVersion.BETA)

    @app.post(r"/v0\.1/messages", middlewares=counted)  # escaped: Powertools compiles routes as regular expressions
    def send_v01() -> Response:
        return send(ApiVersion.V0_1)

    @app.post("/v1/messages", middlewares=counted)
    def send_v1() -> Response:
        return send(ApiVersion.V1)

    @app.get(r"/v0\.1/messages/<message_uuid>", middlewares=reading)
    def get_message_v01(message_uuid: str) -> Response:
        return lookup(message_uuid, ApiVersion.V0_1)

    @app.get("/v1/messages/<message_uuid>", middlewares=reading)
    def get_message_v1(message_uuid: str) -> Response:
        return lookup(message_uuid, ApiVersion.V1)

    @app.patch("/v1/messages/<message_uuid>", middlewares=counted)
    def update_message_v1(message_uuid: str) -> Response:
        from switchboard.api.whatsapp_actions import mark_read

        deps = services()
        mark_read(deps.messages, deps.channels_config, deps.whatsapp_cloud, message_uuid, principal_of(app), json_body())
        return Response(status_code=200, content_type="application/json", body="")

    @app.get("/v1/whatsapp/media/<number>/<media_id>", middlewares=reading)
    def whatsapp_media(number: str, media_id: str) -> Response:
        from switchboard.api.whatsapp_actions import media

        deps = services()
        item = media(deps.sender_links, deps.channels_config, deps.whatsapp_cloud, principal_of(app), number, media_id)
        return Response(
            status_code=200,
            content_type=item.mime_type,
            body=item.content,  # bytes: sent base64 encoded
            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
            compress=False,
        )

    @app.post("/beta/workflows", middlewares=counted)
    def start_workflow_beta() -> Response:
        return start_workflow(ApiVersion.BETA)

    @app.post(r"/v0\.1/dispatch", middlewares=counted)
    def start_dispatch_v01() -> Response:
        return start_workflow(ApiVersion.V0_1)

    @app.get("/beta/workflows/<workflow_uuid>", middlewares=reading)
    def get_workflow_beta(workflow_uuid: str) -> Response:
        return workflow_lookup(workflow_uuid, "workflow")

    @app.get(r"/v0\.1/workflows/<workflow_uuid>", middlewares=reading)
    def get_workflow_v01(workflow_uuid: str) -> Response:
        return workflow_lookup(workflow_uuid, "workflow")

    @app.get(r"/v0\.1/dispatch/<dispatch_uuid>", middlewares=reading)
    def get_dispatch_v01(dispatch_uuid: str) -> Response:
        return workflow_lookup(dispatch_uuid, "dispatch")

    @app.get("/v1/workflows/<workflow_id>", middlewares=reading)
    def get_workflow_v1(workflow_id: str) -> Response:
        return workflow_lookup(workflow_id, "v1")

    @app.get("/docs/errors")
    def errors_documentation() -> Response:
        """What each of Switchboard's own problem ``type`` URLs (``<API URL>/docs/errors#<id>``) means."""
        return Response(status_code=200, content_type="text/html; charset=utf-8", body=errors_page())

    @app.get("/health")
    def health() -> Response:
        return _json_response(200, {"status": "ok"})

    @app.exception_handler(errors.SwitchboardError)
    def handle_domain_error(exc: errors.SwitchboardError) -> Response:
        problem = problem_for(exc, _version_of(app.current_event.raw_path))
        if problem.status >= 500:
            logger.warning("request failed", extra={"status": problem.status, "title": problem.title})
        return problem_response(problem, base_url())

    @app.exception_handler(Exception)
    def handle_unexpected(exc: Exception) -> Response:
        logger.exception("unhandled error")
        return problem_response(internal_error(), base_url())

    @app.not_found
    def handle_not_found(exc: NotFoundError) -> Response:
        event = app.current_event
        return unmatched_route_response(
            ROUTES, event.raw_path, event.request_context.http.method.upper(), base_url()
        )

    return app
