"""Provider sessions read the environment's request settings once per origin, and still honour them.

A proxy here is a plain HTTP server that answers every request as the provider would, and records
the request line: a request sent through a proxy names the absolute URL (``POST http://host/...``),
a direct one only the path.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests.sessions

from switchboard.adapters.providers import transport
from switchboard.adapters.providers.transport import ProviderReply
from switchboard.domain.sending import SendOutcome, SendResult, accepted


def interpret(reply: ProviderReply) -> SendResult:
    return accepted(str(reply.body["message_id"]))


class RecordingServer:
    """Answers every POST with a provider acceptance and keeps each request line."""

    def __init__(self) -> None:
        self.request_lines: list[str] = []
        self.authorizations: list[str | None] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                recorder.request_lines.append(self.requestline)
                recorder.authorizations.append(self.headers.get("Authorization"))
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                payload = json.dumps({"message_id": "m1"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    recording = RecordingServer()
    yield recording
    recording.close()


@pytest.fixture(autouse=True)
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("NETRC", "/nonexistent/netrc")
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    transport.configure(transport.ProviderHttp(pool_size=2, connect_timeout=2, read_timeout=2))
    yield
    transport.reset_sessions()


def send(url: str, provider: str = "fake") -> SendResult:
    return transport.post(provider, url, interpret, message_uuid="u1", data={"text": "hi"})


def test_the_environment_is_read_once_per_origin(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    original = requests.sessions.get_environ_proxies

    def counting(url: str, no_proxy: Any = None) -> Any:
        reads.append(url)
        return original(url, no_proxy=no_proxy)

    monkeypatch.setattr(requests.sessions, "get_environ_proxies", counting)
    other_origin = server.url.replace("127.0.0.1", "localhost")

    results = [send(f"{server.url}/sms/json"), send(f"{server.url}/sms/json?page=2"), send(f"{other_origin}/sms/json")]

    assert [result.outcome for result in results] == [SendOutcome.ACCEPTED] * 3
    assert len(server.request_lines) == 3
    assert reads == [f"{server.url}/sms/json", f"{other_origin}/sms/json"]


def test_a_proxy_named_by_the_environment_is_used(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)

    first, second = send("http://provider.test/sms/json"), send("http://provider.test/sms/json")

    assert first.outcome is second.outcome is SendOutcome.ACCEPTED
    assert server.request_lines == ["POST http://provider.test/sms/json HTTP/1.1"] * 2


def test_no_proxy_is_honoured_per_host(server: RecordingServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", server.url)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")

    direct, proxied = send(f"{server.url}/direct"), send("http://provider.test/proxied")

    assert direct.outcome is proxied.outcome is SendOutcome.ACCEPTED
    assert server.request_lines == ["POST /direct HTTP/1.1", "POST http://provider.test/proxied HTTP/1.1"]


def test_a_netrc_file_is_looked_up_once_per_origin_and_still_applies(
    server: RecordingServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine localhost login user password secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    lookups: list[str] = []
    original = requests.utils.get_netrc_auth

    def counting(url: str, raise_errors: bool = False) -> Any:
        lookups.append(url)
        return original(url, raise_errors)

    monkeypatch.setattr(requests.utils, "get_netrc_auth", counting)
    monkeypatch.setattr(requests.sessions, "get_netrc_auth", counting)
    named = server.url.replace("127.0.0.1", "localhost")

    results = [send(f"{named}/a"), send(f"{named}/b"), send(f"{server.url}/c"), send(f"{server.url}/d")]

    assert [result.outcome for result in results] == [SendOutcome.ACCEPTED] * 4
    assert server.authorizations == ["Basic dXNlcjpzZWNyZXQ="] * 2 + [None] * 2
    assert lookups == [f"{named}/a", f"{server.url}/c"]
