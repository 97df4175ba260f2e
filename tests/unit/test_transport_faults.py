"""Transport failures against real sockets: RETRY only when the request certainly never left, else UNKNOWN.

Each fake provider is a plain TCP server that misbehaves at one point of the exchange, and records
whether an HTTP request reached it, so every test checks the classification against what the
"provider" actually received.
"""
from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from switchboard.adapters.providers import transport
from switchboard.adapters.providers.transport import ProviderReply
from switchboard.domain.sending import SendOutcome, SendResult, accepted

READ_TIMEOUT = 0.5
OK_ANSWER = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 18\r\n\r\n{"message_id":"1"}'


def interpret(reply: ProviderReply) -> SendResult:
    body = reply.body if isinstance(reply.body, dict) else {}
    if reply.status_code == 200 and body.get("message_id"):
        return accepted(str(body["message_id"]))
    return transport.unparsable("fake", reply)


@dataclass
class FakeProvider:
    """Accepts connections and does ``behaviour(connection, first bytes)`` with each."""

    behaviour: Callable[[socket.socket, bytes], None]
    received: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            first = read_request(connection)
            self.received.append(first)
            try:
                self.behaviour(connection, first)
            finally:
                connection.close()

    @property
    def got_an_http_request(self) -> bool:
        return any(chunk.startswith(b"POST ") for chunk in self.received)

    def close(self) -> None:
        self._listener.close()


def read_request(connection: socket.socket) -> bytes:
    """One whole HTTP request (head and Content-Length body), or whatever arrived before it stopped."""
    data = b""
    while True:
        chunk = connection.recv(65536)
        data += chunk
        head, separator, body = data.partition(b"\r\n\r\n")
        if not chunk or (separator and not head.startswith(b"POST ")):
            return data  # closed, or not HTTP (a TLS ClientHello): take what came
        if separator:
            length = next(
                (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
                0,
            )
            if len(body) >= length:
                return data
        elif data and not b"POST ".startswith(data[:5]) and not data.startswith(b"POST "):
            return data


def reset(connection: socket.socket, _: bytes) -> None:
    """Close with an RST instead of an answer."""
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def answer_after(seconds: float) -> Callable[[socket.socket, bytes], None]:
    def slow(connection: socket.socket, _: bytes) -> None:
        time.sleep(seconds)
        try:
            connection.sendall(OK_ANSWER)
        except OSError:
            pass

    return slow


def say(raw: bytes) -> Callable[[socket.socket, bytes], None]:
    def answer(connection: socket.socket, _: bytes) -> None:
        connection.sendall(raw)

    return answer


def silent(connection: socket.socket, _: bytes) -> None:
    time.sleep(READ_TIMEOUT * 3)


@pytest.fixture(autouse=True)
def short_timeouts() -> Iterator[None]:
    transport.configure(transport.ProviderHttp(pool_size=2, connect_timeout=READ_TIMEOUT, read_timeout=READ_TIMEOUT))
    yield
    transport.reset_sessions()


@pytest.fixture
def provider() -> Iterator[Callable[[Callable[[socket.socket, bytes], None]], FakeProvider]]:
    started: list[FakeProvider] = []

    def start(behaviour: Callable[[socket.socket, bytes], None]) -> FakeProvider:
        started.append(FakeProvider(behaviour))
        return started[-1]

    yield start
    for each in started:
        each.close()


def post(url: str) -> SendResult:
    return transport.post("fake", url, interpret, message_uuid="m-1", data={"to": "447700900000"})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# -- never sent: safe to send again -------------------------------------------------------------


def test_connection_refused_is_a_retry() -> None:
    result = post(f"http://127.0.0.1:{free_port()}/send")

    assert (result.outcome, result.error_code) == (SendOutcome.RETRY, 1100)


def test_a_name_that_does_not_resolve_is_a_retry() -> None:
    result = post("http://provider.invalid/send")  # .invalid never resolves (RFC 6761)

    assert (result.outcome, result.error_code) == (SendOutcome.RETRY, 1100)


@pytest.mark.parametrize("behaviour", [reset, silent], ids=["handshake-reset", "handshake-unanswered"])
def test_a_failed_tls_handshake_is_a_retry(provider, behaviour) -> None:
    fake = provider(behaviour)  # speaks no TLS: the handshake is broken off or never answered

    result = post(f"https://127.0.0.1:{fake.port}/send")

    assert (result.outcome, result.error_code) == (SendOutcome.RETRY, 1100)
    assert fake.received and not fake.got_an_http_request


def test_a_connect_timeout_is_a_retry(monkeypatch) -> None:
    # A listener whose backlog is full leaves the next connection unanswered: a true connect timeout.
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        for _ in range(8):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        result = post(f"http://127.0.0.1:{port}/send")
    finally:
        for filler in fillers:
            filler.close()
        listener.close()

    assert result.outcome is SendOutcome.RETRY


# -- may have been sent: never repeated blindly -------------------------------------------------


@pytest.mark.parametrize(
    "behaviour",
    [
        answer_after(READ_TIMEOUT * 3),
        reset,
        lambda connection, _: None,  # closed without an answer
        say(b"NOT HTTP AT ALL\r\n\r\n"),
        say(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"message_id\""),  # cut off mid-body
    ],
    ids=["answer-after-read-timeout", "reset-after-request", "closed", "garbage", "truncated-body"],
)
def test_a_failure_after_the_request_reached_the_provider_is_unknown(provider, behaviour) -> None:
    fake = provider(behaviour)

    result = post(f"http://127.0.0.1:{fake.port}/send")

    assert (result.outcome, result.error_code) == (SendOutcome.UNKNOWN, 1100)
    assert fake.got_an_http_request
    assert result.error_reason and "127.0.0.1" not in result.error_reason


@pytest.mark.parametrize(
    "raw, outcome",
    [
        (b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", SendOutcome.UNKNOWN),
        (b"HTTP/1.1 504 Gateway Timeout\r\nContent-Length: 0\r\n\r\n", SendOutcome.UNKNOWN),
        (b'HTTP/1.1 500 Internal Server Error\r\nContent-Length: 18\r\n\r\n{"message_id":"1"}', SendOutcome.UNKNOWN),
        (b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n", SendOutcome.RETRY),
    ],
    ids=["502", "504", "500-with-an-acceptance", "503"],
)
def test_server_errors_other_than_503_may_follow_an_acceptance(provider, raw, outcome) -> None:
    fake = provider(say(raw))

    result = post(f"http://127.0.0.1:{fake.port}/send")

    assert result.outcome is outcome
    assert fake.got_an_http_request


def test_a_reset_on_a_reused_keep_alive_connection_is_unknown(provider) -> None:
    def first_answers_then_resets(connection: socket.socket, first: bytes) -> None:
        connection.sendall(OK_ANSWER)
        fake.received.append(read_request(connection))  # the second request, on the same connection
        reset(connection, first)

    fake = provider(first_answers_then_resets)

    assert post(f"http://127.0.0.1:{fake.port}/send").outcome is SendOutcome.ACCEPTED
    result = post(f"http://127.0.0.1:{fake.port}/send")

    assert result.outcome is SendOutcome.UNKNOWN
    assert sum(chunk.startswith(b"POST ") for chunk in fake.received) == 2  # the second one did arrive
