"""Authentication as event-handler middleware: the route runs only for a known caller, found in the context.

Every route but ``/health`` lists ``Authentication`` first among its middlewares. It checks the
``Authorization`` header (``switchboard.auth``) and puts the ``Principal`` in the request context,
where ``principal_of(app)`` reads it; Powertools clears the context after every request. A failure
raises ``Unauthorized``, which the app's domain-error handler answers with the 401 problem.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from switchboard.domain.message import Principal

if TYPE_CHECKING:  # the middleware base module is not needed at run time
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

PRINCIPAL = "principal"


class Authenticates(Protocol):
    def authenticate(self, authorization: str | None) -> Principal: ...


class Authentication:
    """``authenticator()`` is called per request, so a route that needs no caller builds nothing."""

    def __init__(self, authenticator: Callable[[], Authenticates]) -> None:
        self._authenticator = authenticator
        self.__name__ = "authentication"  # Powertools names each middleware frame

    def __call__(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        principal = self._authenticator().authenticate(app.current_event.headers.get("authorization"))
        app.append_context(**{PRINCIPAL: principal})
        return next_middleware(app)


def principal_of(app: Any) -> Principal:
    """The caller ``Authentication`` found for the current request."""
    return app.context[PRINCIPAL]
