"""The local API Gateway: route selection, payload format 2.0 events, response mapping, its listeners."""

from __future__ import annotations

import base64
import json
import socket
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import requests

from local_stack.functions import LambdaContext, LocalFunction
from local_stack.gateway import (
    MAX_REQUEST_BODY_BYTES,
    ApiIdentity,
    HttpApiGateway,
    HttpRequest,
    HttpResponse,
    MalformedResponse,
    map_response,
)
from local_stack.http_listener import HttpListener, server_tls_context
from local_stack.routes import Route, RouteTable, routes_from_template
from local_stack.template import load_template
from local_stack.tls import ensure_certificate

API = ApiIdentity(api_id="testapi", account_id="123456789012")
NOW = 1_795_780_800.123  # 27/Nov/2026:12:00:00 +0000


# -- route selection ------------------------------------------------------------------------------


def _table(*specs: str) -> RouteTable:
    routes = []
    for spec in specs:
        method, _, path = spec.partition(" ")
        routes.append(Route(method, path, "Fn") if path else Route("ANY", "$default", "Fn"))
    return RouteTable(routes)


PETS = _table("GET /pets/dog/1", "GET /pets/dog/{id}", "GET /pets/{proxy+}", "ANY /{proxy+}", "$default")


@pytest.mark.parametrize(
    ("method", "path", "route_key", "params"),
    [
        ("GET", "/pets/dog/1", "GET /pets/dog/1", {}),
        ("GET", "/pets/dog/2", "GET /pets/dog/{id}", {"id": "2"}),
        ("GET", "/pets/cat/1", "GET /pets/{proxy+}", {"proxy": "cat/1"}),
        ("GET", "/pets/dog", "GET /pets/{proxy+}", {"proxy": "dog"}),
        ("POST", "/pets/dog/1", "ANY /{proxy+}", {"proxy": "pets/dog/1"}),
        ("GET", "/pets", "ANY /{proxy+}", {"proxy": "pets"}),
        ("GET", "/", "$default", {}),
    ],
)
def test_the_most_specific_route_wins(method: str, path: str, route_key: str, params: dict[str, str]) -> None:
    match = PETS.select(method, path)
    assert match is not None
    assert (match.route.key, match.path_parameters) == (route_key, params)


def test_an_explicit_method_beats_any_on_the_same_path() -> None:
    table = _table("ANY /items/{id}", "GET /items/{id}")
    assert table.select("GET", "/items/7").route.key == "GET /items/{id}"
    assert table.select("DELETE", "/items/7").route.key == "ANY /items/{id}"


def test_a_longer_static_prefix_beats_a_shorter_greedy_match() -> None:
    table = _table("ANY /{proxy+}", "ANY /v1/{proxy+}")
    assert table.select("GET", "/v1/a/b").route.key == "ANY /v1/{proxy+}"
    assert table.select("GET", "/v2/a").route.key == "ANY /{proxy+}"


def test_without_a_default_route_nothing_matches_the_root_or_other_methods() -> None:
    table = _table("GET /health", "ANY /{proxy+}")
    assert table.select("GET", "/") is None
    assert _table("GET /health").select("POST", "/health") is None


def test_duplicate_routes_and_misplaced_greedy_variables_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate"):
        _table("GET /a", "GET /a")
    with pytest.raises(ValueError, match="greedy"):
        _table("GET /{proxy+}/a")


def test_routes_come_from_the_templates_http_api_events() -> None:
    template = load_template()
    table = routes_from_template(template)
    declared = {
        f"{e['Properties']['Method'].upper()} {e['Properties']['Path']}"
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
        for e in (r["Properties"].get("Events") or {}).values()
        if e["Type"] == "HttpApi"
    }
    assert {r.key for r in table.routes} == declared
    health = table.select("GET", "/health")
    assert health is not None and health.route.key == "GET /health" and health.route.function == "ApiFunction"
    catch_all = table.select("DELETE", "/beta/messages")
    assert catch_all is not None and catch_all.route.key == "ANY /{proxy+}"


# -- events ---------------------------------------------------------------------------------------


class Recorder:
    """A handler that keeps the events and contexts it was given and returns a canned result."""

    def __init__(self, result: Any = None) -> None:
        self.result = result if result is not None else {"statusCode": 204}
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        return self.result


def _gateway(handler: Any, timeout: float = 10, routes: RouteTable | None = None, **kwargs: Any) -> HttpApiGateway:
    table = routes or RouteTable([Route("POST", "/beta/messages", "Fn"), Route("ANY", "/{proxy+}", "Fn")])
    functions = {"Fn": LocalFunction("Fn", handler, memory_mb=512, timeout_seconds=timeout)}
    return HttpApiGateway(table, functions, API, clock=lambda: NOW, **kwargs)


def _request(
    method: str = "POST",
    target: str = "/beta/messages",
    headers: list[tuple[str, str]] | None = None,
    body: bytes = b"",
) -> HttpRequest:
    return HttpRequest(
        method=method,
        target=target,
        headers=headers if headers is not None else [("Host", "localhost:3000"), ("User-Agent", "curl/8.5.0")],
        body=body,
        source_ip="127.0.0.1",
        scheme="http",
        port=3000,
    )


def test_the_event_is_payload_format_2_0_as_api_gateway_builds_it() -> None:
    recorder = Recorder()
    body = json.dumps({"hello": "world"}).encode()
    headers = [
        ("Host", "localhost:3000"),
        ("User-Agent", "curl/8.5.0"),
        ("Content-Type", "application/json"),
        ("X-Repeated", "a"),
        ("x-repeated", "b"),
        ("Cookie", "one=1; two=2"),
    ]
    response = _gateway(recorder).handle(
        _request(target="/beta/messages?a=1&a=2&b=&c=%20x", headers=headers, body=body)
    )

    assert response.status == 204
    (event,) = recorder.events
    context = event.pop("requestContext")
    trace_id = event["headers"].pop("x-amzn-trace-id")
    assert trace_id.startswith("Root=1-")
    assert event == {
        "version": "2.0",
        "routeKey": "POST /beta/messages",
        "rawPath": "/beta/messages",
        "rawQueryString": "a=1&a=2&b=&c=%20x",
        "cookies": ["one=1", "two=2"],
        "headers": {
            "host": "localhost:3000",
            "user-agent": "curl/8.5.0",
            "content-type": "application/json",
            "x-repeated": "a,b",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-port": "3000",
            "x-forwarded-proto": "http",
        },
        "queryStringParameters": {"a": "1,2", "b": "", "c": " x"},
        "body": '{"hello": "world"}',
        "isBase64Encoded": False,
    }
    request_id = context.pop("requestId")
    assert response.header("apigw-requestid") == request_id
    assert context == {
        "accountId": "123456789012",
        "apiId": "testapi",
        "domainName": "localhost",
        "domainPrefix": "localhost",
        "http": {
            "method": "POST",
            "path": "/beta/messages",
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": "curl/8.5.0",
        },
        "routeKey": "POST /beta/messages",
        "stage": "$default",
        "time": "27/Nov/2026:12:00:00 +0000",
        "timeEpoch": 1_795_780_800_123,
    }


def test_a_request_without_body_or_query_leaves_those_keys_out_and_has_path_parameters() -> None:
    recorder = Recorder()
    _gateway(recorder).handle(_request("GET", "/v9/some%20thing/else"))
    (event,) = recorder.events
    assert "body" not in event and "queryStringParameters" not in event and "cookies" not in event
    assert event["isBase64Encoded"] is False
    assert event["routeKey"] == "ANY /{proxy+}"
    assert event["rawPath"] == "/v9/some thing/else"
    assert event["pathParameters"] == {"proxy": "v9/some thing/else"}


@pytest.mark.parametrize(
    ("content_type", "encoded"),
    [
        ("application/json; charset=utf-8", False),
        ("text/plain", False),
        ("application/xml", False),
        ("application/octet-stream", True),
        ("application/x-www-form-urlencoded", True),
        (None, True),
    ],
)
def test_bodies_that_are_not_text_are_base64_encoded(content_type: str | None, encoded: bool) -> None:
    recorder = Recorder()
    body = b"a=1&b=2"
    headers = [("Host", "localhost")] + ([("Content-Type", content_type)] if content_type else [])
    _gateway(recorder).handle(_request(headers=headers, body=body))
    (event,) = recorder.events
    assert event["isBase64Encoded"] is encoded
    assert event["body"] == (base64.b64encode(body).decode() if encoded else body.decode())


def test_binary_bytes_are_base64_encoded_whatever_the_content_type_says() -> None:
    recorder = Recorder()
    body = bytes(range(256))
    _gateway(recorder).handle(_request(headers=[("Content-Type", "text/plain")], body=body))
    assert base64.b64decode(recorder.events[0]["body"]) == body
    assert recorder.events[0]["isBase64Encoded"] is True


def test_the_handler_gets_a_lambda_context_from_the_functions_settings() -> None:
    recorder = Recorder()
    _gateway(recorder, timeout=10).handle(_request())
    (context,) = recorder.contexts
    assert context.function_name == "Fn"
    assert context.function_version == "$LATEST"
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:Fn"
    assert context.memory_limit_in_mb == 512
    assert context.log_group_name == "/aws/lambda/Fn"
    assert "[$LATEST]" in context.log_stream_name
    assert len(context.aws_request_id) == 36


def test_remaining_time_counts_down_from_the_timeout() -> None:
    context = LambdaContext("Fn", 128, timeout_seconds=30)
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
    assert LambdaContext("Fn", 128, timeout_seconds=0).get_remaining_time_in_millis() == 0


# -- responses ------------------------------------------------------------------------------------


def test_a_full_response_maps_status_headers_cookies_and_body() -> None:
    response = map_response(
        {
            "statusCode": 202,
            "headers": {"Content-Type": "application/json", "X-Count": 3, "X-Flag": True},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": '{"ok": true}',
        }
    )
    assert response.status == 202
    assert response.headers == [
        ("Content-Type", "application/json"),
        ("X-Count", "3"),
        ("X-Flag", "true"),
        ("Set-Cookie", "a=1; Path=/"),
        ("Set-Cookie", "b=2"),
    ]
    assert response.body == b'{"ok": true}'


def test_a_base64_response_body_is_decoded() -> None:
    data = bytes(range(256))
    response = map_response({"statusCode": 200, "body": base64.b64encode(data).decode(), "isBase64Encoded": True})
    assert response.body == data


@pytest.mark.parametrize("result", [{"message_uuid": "x"}, ["a", 1], "text", None])
def test_a_result_without_status_code_is_a_json_200(result: Any) -> None:
    response = map_response(result)
    assert response.status == 200
    assert response.header("content-type") == "application/json"
    assert json.loads(response.body) == result


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "abc"},
        {"statusCode": 99},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "headers": []},
    ],
)
def test_a_response_api_gateway_cannot_map_is_refused(result: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponse):
        map_response(result)


def test_a_malformed_response_becomes_a_500() -> None:
    response = _gateway(Recorder({"statusCode": "abc"})).handle(_request())
    assert (response.status, json.loads(response.body)) == (500, {"message": "Internal Server Error"})


def test_a_crashing_handler_becomes_api_gateways_500_and_its_traceback_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def crash(event: Any, context: Any) -> Any:
        raise RuntimeError("boom")

    response = _gateway(crash).handle(_request())
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal Server Error"}
    assert response.header("content-type") == "application/json"
    assert "RuntimeError: boom" in caplog.text and "Traceback" in caplog.text


def test_a_result_lambda_cannot_serialise_is_a_failed_invocation() -> None:
    response = _gateway(Recorder({"statusCode": 200, "body": object()})).handle(_request())
    assert response.status == 500


def test_a_function_past_its_timeout_is_a_500_and_past_the_integration_timeout_a_503() -> None:
    release = threading.Event()

    def stuck(event: Any, context: Any) -> Any:
        release.wait()
        return {"statusCode": 200}

    try:
        assert _gateway(stuck, timeout=0.05).handle(_request()).status == 500
        assert _gateway(stuck, timeout=10, integration_timeout=0.05).handle(_request()).status == 503
    finally:
        release.set()


def test_an_unknown_route_is_api_gateways_404() -> None:
    recorder = Recorder()
    response = _gateway(recorder, routes=RouteTable([Route("GET", "/health", "Fn")])).handle(_request("GET", "/nope"))
    assert (response.status, json.loads(response.body)) == (404, {"message": "Not Found"})
    assert recorder.events == []


def test_local_handlers_answer_their_prefix_before_any_template_route() -> None:
    recorder = Recorder()
    seen: list[str] = []

    def console(request: HttpRequest) -> HttpResponse:
        seen.append(request.target)
        return HttpResponse(200, [("Content-Type", "text/plain")], b"console")

    gateway = _gateway(recorder, local_handlers={"/_console": console})

    for target in ("/_console", "/_console/", "/_console/messages/abc?x=1"):
        assert gateway.handle(_request("GET", target)).body == b"console"
    # Only the prefix and paths under it: the catch-all route still gets everything else.
    assert gateway.handle(_request("GET", "/_consoles")).status == 204
    assert gateway.handle(_request("GET", "/beta/_console")).status == 204
    assert seen == ["/_console", "/_console/", "/_console/messages/abc?x=1"]
    assert [event["rawPath"] for event in recorder.events] == ["/_consoles", "/beta/_console"]


def test_a_body_over_10_mb_is_413() -> None:
    recorder = Recorder()
    response = _gateway(recorder).handle(_request(body=b"x" * (MAX_REQUEST_BODY_BYTES + 1)))
    assert (response.status, json.loads(response.body)) == (413, {"message": "Request Entity Too Large"})
    assert recorder.events == []


# -- listeners ------------------------------------------------------------------------------------


def _echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"proto": event["headers"]["x-forwarded-proto"], "body": event.get("body")}),
    }


@pytest.fixture
def http_listener() -> Any:
    listener = HttpListener(_gateway(_echo), "127.0.0.1", 0)
    yield listener
    listener.stop()


def _session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxies and no machine-wide CA bundle overriding ``verify``
    return session


def test_the_listener_refuses_connections_until_started(http_listener: HttpListener) -> None:
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", http_listener.port), timeout=2).close()
    http_listener.start()
    response = _session().post(f"http://127.0.0.1:{http_listener.port}/anything", json={"a": 1}, timeout=5)
    assert response.status_code == 200
    assert response.json() == {"proto": "http", "body": '{"a": 1}'}
    assert response.headers["apigw-requestid"]


def test_the_listener_answers_413_without_reading_an_oversized_body(http_listener: HttpListener) -> None:
    http_listener.start()
    with socket.create_connection(("127.0.0.1", http_listener.port), timeout=5) as sock:
        sock.sendall(
            b"POST /beta/messages HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {MAX_REQUEST_BODY_BYTES + 1}\r\n\r\n".encode()
        )
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.endswith(b"}"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            reply += chunk
    assert reply.startswith(b"HTTP/1.1 413")
    assert reply.endswith(b'{"message": "Request Entity Too Large"}')


def test_the_listener_reads_chunked_bodies(http_listener: HttpListener) -> None:
    http_listener.start()
    response = _session().post(
        f"http://127.0.0.1:{http_listener.port}/x",
        data=iter([b'{"a":', b" 2}"]),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.json()["body"] == '{"a": 2}'


def test_https_with_the_generated_certificate(tmp_path: Path) -> None:
    tls = ensure_certificate(tmp_path / "tls")
    listener = HttpListener(_gateway(_echo), "127.0.0.1", 0, server_tls_context(str(tls.cert_path), str(tls.key_path)))
    listener.start()
    try:
        for host in ("127.0.0.1", "localhost"):
            response = _session().get(f"https://{host}:{listener.port}/x", verify=str(tls.cert_path), timeout=5)
            assert response.json() == {"proto": "https", "body": None}
        with pytest.raises(requests.exceptions.SSLError):
            _session().get(f"https://127.0.0.1:{listener.port}/x", verify=True, timeout=5)
    finally:
        listener.stop()


def test_the_certificate_is_reused_while_valid_and_replaced_when_not(tmp_path: Path) -> None:
    first = ensure_certificate(tmp_path)
    cert, key = first.cert_path.read_bytes(), first.key_path.read_bytes()
    assert oct(first.key_path.stat().st_mode & 0o777) == "0o600"
    assert b"BEGIN PRIVATE KEY" in key  # PKCS#8

    again = ensure_certificate(tmp_path)
    assert again.cert_path.read_bytes() == cert

    later = datetime.now(timezone.utc) + timedelta(days=400)
    assert ensure_certificate(tmp_path, now=later).cert_path.read_bytes() != cert

    first.key_path.write_bytes(b"garbage")
    ensure_certificate(tmp_path)
    assert first.key_path.read_bytes() != b"garbage"


def test_responses_keep_their_headers_on_the_wire(http_listener: HttpListener) -> None:
    def cookies(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return {"statusCode": 201, "cookies": ["a=1", "b=2"], "headers": {"x-one": "1"}, "body": "done"}

    listener = HttpListener(_gateway(cookies), "127.0.0.1", 0)
    listener.start()
    try:
        response = _session().get(f"http://127.0.0.1:{listener.port}/x", timeout=5)
    finally:
        listener.stop()
    assert response.status_code == 201
    assert response.headers["x-one"] == "1"
    assert response.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
    assert response.text == "done"


def test_http_response_header_lookup_ignores_case() -> None:
    assert HttpResponse(200, [("Content-Type", "text/plain")]).header("content-type") == "text/plain"


def test_decimals_are_serialised_as_numbers_as_the_python_runtime_does() -> None:
    from decimal import Decimal

    response = _gateway(Recorder({"count": Decimal("3")})).handle(_request())
    assert (response.status, json.loads(response.body)) == (200, {"count": 3.0})
