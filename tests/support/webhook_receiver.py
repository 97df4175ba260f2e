"""A customer's webhook endpoint that a test scripts: down, slow, 4xx, 5xx or redirecting, per request.

It is a real HTTP server on 127.0.0.1 (the notifier's real poster calls it), and it logs every
request it got with what it answered, late or not: the evidence of what a customer received.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from switchboard import clock


@dataclass(frozen=True)
class Answer:
    status: int = 200
    delay: float = 0.0  # seconds before answering
    location: str | None = None


@dataclass(frozen=True)
class Received:
    number: int  # 1-based, in arrival order
    at: float  # ``switchboard.clock`` time (injected in unit tests)
    path: str
    body: bytes
    status: int  # what the receiver answered (late or not)


Script = Callable[[int, bytes], Answer]  # (request number, body) -> how to answer


class WebhookReceiver:
    """``script(n, body)`` says how to answer the n-th request. ``stop`` refuses connections; ``start`` again on the same port."""

    def __init__(self, script: Script = lambda n, body: Answer()) -> None:
        self.script = script
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver._lock:
                    number = len(receiver.received) + 1
                    answer = receiver.script(number, body)
                    receiver.received.append(Received(number, clock.now(), self.path, body, answer.status))
                threading.Event().wait(answer.delay)
                try:
                    self.send_response(answer.status)
                    if answer.location:
                        self.send_header("Location", answer.location)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the caller stopped waiting (its read timeout)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def running(self) -> bool:
        return self._server is not None

    def url(self, host: str = "127.0.0.1", path: str = "/webhooks/status") -> str:
        return f"http://{host}:{self.port}{path}"

    def answered_2xx(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if 200 <= r.status < 300]
