"""API Gateway HTTP API in front of the functions: payload format 2.0 in, the 2.0 response mapping out.

The request is turned into the event API Gateway builds (headers lower-cased with repeated headers
comma-joined, cookies split out, path and query parameters decoded, the body base64-encoded
unless its content type is text), the route's function is invoked, and its result is mapped back
as API Gateway maps it. API Gateway's own answers keep its wording: 404 ``Not Found`` when no
route matches, 413 past the 10 MB payload limit, 500 ``Internal Server Error`` when the function
fails, 503 ``Service Unavailable`` past the 30 s integration timeout.

``local_handlers`` are the local stack's own pages (the console under ``/_console``): a request
whose path is one of their prefixes, or under one, is answered by that handler before any of the
template's routes, its ``$default`` catch-all included. They exist only locally, never in the
deployed API.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from local_stack.functions import FunctionError, FunctionTimeout, Invocable
from local_stack.routes import RouteMatch, RouteTable
from local_stack.template import LOCAL_ACCOUNT

logger = logging.getLogger(__name__)

MAX_REQUEST_BODY_BYTES = 10 * 1024 * 1024
INTEGRATION_TIMEOUT_SECONDS = 30.0
STAGE = "$default"

# Content types API Gateway passes as text; every other body (none given included) is base64-encoded.
TEXT_MEDIA_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query string, as received
    headers: list[tuple[str, str]]  # as received, repeats included
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"
    scheme: str = "http"
    port: int = 80


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def gateway_error(status: int, message: str, request_id: str | None = None) -> HttpResponse:
    headers = [("Content-Type", "application/json")]
    if request_id:
        headers.append(("apigw-requestid", request_id))
    return HttpResponse(status, headers, json.dumps({"message": message}).encode())


def new_request_id() -> str:
    """The shape of API Gateway's ids (``JKJaXmPLvHcESHA=``)."""
    return base64.b64encode(secrets.token_bytes(10)).decode("ascii")


def is_text_media_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type.startswith("text/") or media_type in TEXT_MEDIA_TYPES


def event_headers(raw_headers: list[tuple[str, str]]) -> tuple[dict[str, str], list[str]]:
    """Headers lower-cased, repeats comma-joined; the Cookie header becomes the ``cookies`` list."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in raw_headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def query_parameters(raw_query: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


@dataclass(frozen=True)
class ApiIdentity:
    api_id: str
    account_id: str = LOCAL_ACCOUNT


def build_event(
    request: HttpRequest, match: RouteMatch, api: ApiIdentity, request_id: str, now: float
) -> dict[str, Any]:
    """The payload format 2.0 event for ``request`` on the matched route."""
    split = urlsplit(request.target)
    path = unquote(split.path)
    headers, cookies = event_headers(request.headers)
    headers.setdefault("x-forwarded-for", request.source_ip)
    headers.setdefault("x-forwarded-port", str(request.port))
    headers.setdefault("x-forwarded-proto", request.scheme)
    headers.setdefault("x-amzn-trace-id", f"Root=1-{int(now):08x}-{secrets.token_hex(12)}")
    domain_name = (headers.get("host") or f"{api.api_id}.execute-api").rsplit(":", 1)[0]

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.key,
        "rawPath": path,
        "rawQueryString": split.query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if split.query:
        event["queryStringParameters"] = query_parameters(split.query)
    event["requestContext"] = {
        "accountId": api.account_id,
        "apiId": api.api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0],
        "http": {
            "method": request.method,
            "path": path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.key,
        "stage": STAGE,
        "time": datetime.fromtimestamp(now, timezone.utc).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if match.path_parameters:
        event["pathParameters"] = {k: unquote(v) for k, v in match.path_parameters.items()}
    if request.body:
        event["body"], event["isBase64Encoded"] = _event_body(request.body, headers.get("content-type"))
    else:
        event["isBase64Encoded"] = False
    return event


def _event_body(body: bytes, content_type: str | None) -> tuple[str, bool]:
    if is_text_media_type(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


class MalformedResponse(ValueError):
    """The function's result is not a response API Gateway can map."""


def map_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a function's (JSON) result, payload format 2.0.

    A result without ``statusCode`` is taken as the body of a JSON 200 response.
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return HttpResponse(200, [("Content-Type", "application/json")], json.dumps(result).encode())

    status = result["statusCode"]
    if isinstance(status, str) and status.isdigit():
        status = int(status)
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode must be an HTTP status, got {result['statusCode']!r}")

    headers: list[tuple[str, str]] = []
    raw_headers = result.get("headers")
    raw_headers = {} if raw_headers is None else raw_headers
    if not isinstance(raw_headers, dict):
        raise MalformedResponse("headers must be an object")
    for name, value in raw_headers.items():
        if isinstance(value, (dict, list)) or value is None:
            raise MalformedResponse(f"header {name!r} must be a string")
        headers.append((str(name), _header_text(value)))
    cookies = result.get("cookies")
    cookies = [] if cookies is None else cookies
    if not isinstance(cookies, list) or not all(isinstance(c, str) for c in cookies):
        raise MalformedResponse("cookies must be a list of strings")
    headers.extend(("Set-Cookie", cookie) for cookie in cookies)

    body = result.get("body")
    if body is None:
        return HttpResponse(status, headers, b"")
    if not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    if result.get("isBase64Encoded"):
        try:
            return HttpResponse(status, headers, base64.b64decode(body, validate=True))
        except binascii.Error as exc:
            raise MalformedResponse(f"body is not valid base64: {exc}") from None
    return HttpResponse(status, headers, body.encode("utf-8"))


def _header_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# Powertools' HTTP resolver keeps the current event on a class attribute shared by every resolver in
# a process. In Lambda each function is its own process; functions that share this one
# (``shares_process``, the in-process ``LocalFunction``) take turns (a request handled with another
# function's event would be a wrong answer). The stack's own ``FunctionInstances`` run each
# invocation in an instance process of its own, concurrently.
_HTTP_INVOCATIONS = threading.Lock()


LocalHandler = Callable[[HttpRequest], HttpResponse]


class HttpApiGateway:
    """Routes requests to functions. ``functions`` maps a route's function (logical id) to it."""

    def __init__(
        self,
        routes: RouteTable,
        functions: Mapping[str, Invocable],
        api: ApiIdentity,
        clock: Callable[[], float] = time.time,
        integration_timeout: float = INTEGRATION_TIMEOUT_SECONDS,
        local_handlers: Mapping[str, LocalHandler] | None = None,
    ) -> None:
        self.routes = routes
        self.functions = functions
        self.api = api
        self._clock = clock
        self._integration_timeout = integration_timeout
        self._local_handlers = dict(local_handlers or {})

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id()
        if len(request.body) > MAX_REQUEST_BODY_BYTES:
            return gateway_error(413, "Request Entity Too Large", request_id)
        path = unquote(urlsplit(request.target).path)
        for prefix, local_handler in self._local_handlers.items():
            if path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                return local_handler(request)
        match = self.routes.select(request.method, path)
        if match is None:
            return gateway_error(404, "Not Found", request_id)
        function = self.functions[match.route.function]
        event = build_event(request, match, self.api, request_id, self._clock())
        try:
            if getattr(function, "shares_process", True):
                with _HTTP_INVOCATIONS:
                    result = function.invoke(event, time_limit=self._integration_timeout)
            else:
                result = function.invoke(event, time_limit=self._integration_timeout)
        except FunctionTimeout:
            if function.timeout_seconds > self._integration_timeout:
                return gateway_error(503, "Service Unavailable", request_id)
            return gateway_error(500, "Internal Server Error", request_id)
        except FunctionError:
            return gateway_error(500, "Internal Server Error", request_id)
        try:
            response = map_response(result)
        except MalformedResponse as exc:
            logger.error("%s returned a response API Gateway cannot map: %s", function.name, exc)
            return gateway_error(500, "Internal Server Error", request_id)
        response.headers.append(("apigw-requestid", request_id))
        return response
