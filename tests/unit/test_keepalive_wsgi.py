"""The keep-alive WSGI server moto's process runs: connections reused, requests and answers framed right."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local_stack.keepalive_wsgi import KeepAliveWSGIServer


def echo_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("application error")
    body = environ["wsgi.input"].read(int(environ["CONTENT_LENGTH"] or 0))
    answer = {
        "method": environ["REQUEST_METHOD"],
        "path": environ["PATH_INFO"],
        "query": environ["QUERY_STRING"],
        "target": environ.get("HTTP_X_AMZ_TARGET"),
        "content_type": environ["CONTENT_TYPE"],
        "body": body.decode(),
        "client_port": environ["REMOTE_PORT"],
    }
    start_response("200 OK", [("Content-Type", "application/json"), ("Connection", "close")])
    return [json.dumps(answer).encode()]


@pytest.fixture
def server_url() -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    server = KeepAliveWSGIServer(listener, echo_app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_one_connection_serves_many_requests(server_url: str) -> None:
    with requests.Session() as session:
        session.trust_env = False
        answers = [session.post(server_url + "/", data=f"call {i}", headers={"X-Amz-Target": "DynamoDB_20120810.GetItem"}) for i in range(5)]
    assert [a.json()["body"] for a in answers] == [f"call {i}" for i in range(5)]
    assert {a.json()["client_port"] for a in answers} == {answers[0].json()["client_port"]}
    assert all(a.headers["Connection"] == "keep-alive" for a in answers)  # the app's own "close" is not passed on
    assert answers[0].json()["target"] == "DynamoDB_20120810.GetItem"


def _raw(url: str, request: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(request)
        connection.settimeout(5)
        received = b""
        while chunk := connection.recv(65536):  # the server closes: the whole exchange
            received += chunk
    return received


def test_a_chunked_body_a_query_and_an_encoded_path(server_url: str) -> None:
    answer = _raw(
        server_url,
        b"POST /a%20b?Action=SendMessage HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n4\r\nhell\r\n1\r\no\r\n0\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"Connection: close" in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body) | {"client_port": ""} == {
        "method": "POST", "path": "/a b", "query": "Action=SendMessage", "target": None,
        "content_type": "text/plain", "body": "hello", "client_port": "",
    }


def test_pipelined_requests_on_one_connection_are_answered_in_order(server_url: str) -> None:
    answer = _raw(
        server_url,
        b"POST /1 HTTP/1.1\r\nContent-Length: 3\r\n\r\none"
        b"POST /2 HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\ntwo",
    )
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.index(b'"body": "one"') < answer.index(b'"body": "two"')


def test_http_1_0_closes_unless_asked_to_keep_alive(server_url: str) -> None:
    assert b"Connection: close" in _raw(server_url, b"GET / HTTP/1.0\r\n\r\n")


def test_an_application_error_is_a_500_and_the_connection_closes(server_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    answer = _raw(server_url, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 500 Internal Server Error")
    assert b"Connection: close" in answer
    assert "application error" in capsys.readouterr().err


def test_what_is_not_http_is_dropped(server_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _raw(server_url, b"hello\r\n\r\n") == b""
    assert _raw(server_url, b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n") == b""
    assert _raw(server_url, b"POST / HTTP/1.1\r\nContent-Length: many\r\n\r\n") == b""
    assert "Traceback" not in capsys.readouterr().err
