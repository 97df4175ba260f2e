"""A listener on a loopback port that no webhook, JWT header or redirect may ever make the stack call.

It stands for whatever an attacker would want the stack to reach: an internal service on a private
port (SSRF), or the attacker's own server (a ``jku`` / ``x5u`` key URL). It answers 200 to any request
and records it; tests put a unique token in the URLs they hand out, so each test sees only the
requests its own attack caused.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class CanaryRequest:
    method: str
    target: str  # path and query string as received
    headers: dict[str, str]
    body: bytes


class Canary:
    def __init__(self) -> None:
        self._requests: list[CanaryRequest] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((LOOPBACK, 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="canary", daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def netloc(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def url(self, path: str = "/") -> str:
        return f"http://{self.netloc}/{path.lstrip('/')}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def requests(self, token: str = "") -> list[CanaryRequest]:
        """Every request received so far whose target mentions ``token`` (all of them for ``""``)."""
        with self._lock:
            return [each for each in self._requests if token in each.target]

    def _record(self, request: CanaryRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        canary = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                canary._record(CanaryRequest(self.command, self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(b"{}")

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
                pass

        return Handler
