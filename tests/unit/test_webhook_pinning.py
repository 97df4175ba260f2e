"""Webhook delivery over real sockets: the connection goes only to the address the SSRF guard checked.

A local receiver stands for an internal service an attacker wants the notifier to reach.
"""
from __future__ import annotations

import _socket
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from local_stack.tls import ensure_certificate
from switchboard.adapters.webhook_http.webhook_poster import WebhookPoster
from switchboard.adapters.webhook_http.pinned_connection import webhook_session

PUBLIC = "93.184.215.14"


@dataclass
class Receiver:
    """Records every request it answers: path, Host header, the client's port, the TLS server name."""

    tls: ssl.SSLContext | None = None
    status: int = 200
    location: str | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append(
                    {"path": self.path, "host": self.headers.get("Host"), "client_port": self.client_address[1],
                     "body": body}
                )
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass

        if self.tls is not None:
            self.tls.sni_callback = lambda sock, name, context: self.server_names.append(name)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    local = Receiver()
    yield local
    local.stop()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connect of the test; anything but loopback is refused here (unit tests use no network)."""
    made: list[tuple[str, int]] = []

    def connect(sock: socket.socket, address: Any) -> None:
        made.append((address[0], address[1]))
        if address[0] not in ("127.0.0.1", "::1"):
            raise ConnectionRefusedError(111, "Connection refused (no network in unit tests)")
        _socket.socket.connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return made


def answers(*addresses: str | tuple[str, ...]) -> Any:
    """A getaddrinfo stand-in whose n-th lookup of a name answers ``addresses[n]`` (the last one after)."""
    calls: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> list[tuple]:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith(".example.test"):
            calls.append(name)
            answer = addresses[min(len(calls), len(addresses)) - 1]
            return [
                (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
                for a in ((answer,) if isinstance(answer, str) else answer)
            ]
        return real(host, port, *args, **kwargs)

    getaddrinfo.calls = calls  # type: ignore[attr-defined]
    return getaddrinfo


def poster(**kwargs: Any) -> WebhookPoster:
    session = webhook_session(pool_connections=4, pool_maxsize=4, verify=kwargs.pop("verify", True))
    return WebhookPoster(session=session, connect_timeout=2, read_timeout=5, **kwargs)


def test_dns_rebinding_public_at_the_check_private_at_the_connection_reaches_nothing(
    receiver: Receiver, connections: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The system resolver itself answers public first, loopback after: whoever looks the name up
    # again when connecting (urllib3 does) reaches the local receiver.
    rebinding = answers(PUBLIC, "127.0.0.1")
    monkeypatch.setattr(socket, "getaddrinfo", rebinding)

    result = poster().post(f"http://rebind.example.test:{receiver.port}/hook", b"{}", "Bearer x")

    assert not result.delivered
    assert result.error == "connection error"
    assert receiver.requests == []
    assert connections == [(PUBLIC, receiver.port)]  # the checked address and nothing else
    assert rebinding.calls == ["rebind.example.test"]  # resolved once


def test_the_bypass_string_is_refused_at_delivery_and_reaches_nothing(
    receiver: Receiver, connections: list[tuple[str, int]]
) -> None:
    result = poster().post(f"http://127.0.0.1:{receiver.port}\\@8.8.8.8/", b"{}", "Bearer x")

    assert not result.delivered
    assert result.error == "unsafe url: webhook URL must not contain a backslash"
    assert receiver.requests == [] and connections == []


def test_a_session_refuses_a_request_that_carries_no_checked_address(
    receiver: Receiver, connections: list[tuple[str, int]]
) -> None:
    session = webhook_session(pool_connections=1, pool_maxsize=1)

    with pytest.raises(requests.exceptions.InvalidURL, match="checked"):
        session.post(f"http://127.0.0.1:{receiver.port}/", data=b"{}", timeout=2)

    assert receiver.requests == [] and connections == []


def test_the_host_header_keeps_the_name_and_keep_alive_reuses_one_connection(
    receiver: Receiver, connections: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", answers("127.0.0.1"))
    sink = poster(allowed_private_hosts=["sink.example.test"])
    url = f"http://sink.example.test:{receiver.port}/status?x=1"

    assert sink.post(url, b'{"n": 1}', "Bearer x").delivered
    assert sink.post(url, b'{"n": 2}', "Bearer x").delivered

    assert [r["path"] for r in receiver.requests] == ["/status?x=1", "/status?x=1"]
    assert {r["host"] for r in receiver.requests} == {f"sink.example.test:{receiver.port}"}
    assert [r["body"] for r in receiver.requests] == [b'{"n": 1}', b'{"n": 2}']
    assert len({r["client_port"] for r in receiver.requests}) == 1  # one keep-alive connection
    assert connections == [("127.0.0.1", receiver.port)]


def test_a_rotated_dns_answer_keeps_the_keep_alive_connection(
    receiver: Receiver, connections: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", answers(("127.0.0.1", "::1"), ("::1", "127.0.0.1")))
    sink = poster(allowed_private_hosts=["sink.example.test"])
    url = f"http://sink.example.test:{receiver.port}/status"

    assert sink.post(url, b"{}", "Bearer x").delivered
    assert sink.post(url, b"{}", "Bearer x").delivered

    assert len({r["client_port"] for r in receiver.requests}) == 1
    assert connections == [("127.0.0.1", receiver.port)]


def test_a_changed_dns_answer_gets_a_new_connection_to_the_new_checked_address(
    receiver: Receiver, connections: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(socket, "getaddrinfo", answers("127.0.0.1", PUBLIC))
    sink = poster(allowed_private_hosts=["sink.example.test"])
    url = f"http://sink.example.test:{receiver.port}/status"

    assert sink.post(url, b"{}", "Bearer x").delivered
    assert sink.post(url, b"{}", "Bearer x").error == "connection error"  # not the old keep-alive socket

    assert len(receiver.requests) == 1
    assert connections == [("127.0.0.1", receiver.port), (PUBLIC, receiver.port)]


def test_redirects_to_an_internal_host_are_not_followed(
    receiver: Receiver, connections: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    internal = Receiver()
    try:
        receiver.status, receiver.location = 307, f"http://127.0.0.1:{internal.port}/admin"
        monkeypatch.setattr(socket, "getaddrinfo", answers("127.0.0.1"))

        result = poster(allowed_private_hosts=["sink.example.test"]).post(
            f"http://sink.example.test:{receiver.port}/", b"{}", "Bearer x"
        )

        assert (result.delivered, result.http_status, result.error) == (False, 307, "redirect not followed")
        assert internal.requests == []
    finally:
        internal.stop()


@pytest.fixture
def tls_receiver(tmp_path: Path) -> Iterator[tuple[Receiver, Path]]:
    """An HTTPS receiver on 127.0.0.1 whose certificate names ``localhost`` and 127.0.0.1."""
    files = ensure_certificate(tmp_path / "tls")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(files.cert_path), str(files.key_path))
    local = Receiver(tls=context)
    yield local, files.cert_path
    local.stop()


def test_tls_sends_the_host_name_as_sni_and_verifies_the_certificate_for_it(
    tls_receiver: tuple[Receiver, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    receiver, cert = tls_receiver
    monkeypatch.setattr(socket, "getaddrinfo", answers("127.0.0.1"))
    resolve_localhost = lambda host, port, *a: [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]  # noqa: E731
    sink = poster(allowed_private_hosts=["localhost"], resolve=resolve_localhost, verify=str(cert))

    result = sink.post(f"https://localhost:{receiver.port}/hook", b"{}", "Bearer x")

    assert result.delivered, result.error
    assert receiver.server_names == ["localhost"]
    assert receiver.requests[0]["host"] == f"localhost:{receiver.port}"


def test_tls_to_the_checked_address_fails_when_the_certificate_is_not_for_the_host_name(
    tls_receiver: tuple[Receiver, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The address (127.0.0.1) is in the certificate; the name is not. Verification is on the name.
    receiver, cert = tls_receiver
    monkeypatch.setattr(socket, "getaddrinfo", answers("127.0.0.1"))
    sink = poster(allowed_private_hosts=["hooks.example.test"], verify=str(cert))

    result = sink.post(f"https://hooks.example.test:{receiver.port}/hook", b"{}", "Bearer x")

    assert (result.delivered, result.error) == (False, "connection error")
    assert receiver.server_names == ["hooks.example.test"]
    assert receiver.requests == []
