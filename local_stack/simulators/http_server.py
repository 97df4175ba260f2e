"""A small threaded HTTP server that hands every request to a plain function.

The provider simulators and the webhook sink are both "receive a request, answer it, record it";
this keeps the socket plumbing out of them so their logic is functions of ``HttpRequest``.
"""

from __future__ import annotations

import json
import logging
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local_stack.log_redaction import redact_query_secrets

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # the request target as received: path and query string
    path: str
    query: dict[str, str]  # a repeated parameter keeps its last value
    headers: dict[str, str]  # names as sent; a repeated header keeps its last value
    body: bytes

    @classmethod
    def build(cls, method: str, target: str, headers: dict[str, str], body: bytes) -> HttpRequest:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        return cls(method=method, target=target, path=parts.path, query=query, headers=headers, body=body)

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        return next((value for key, value in self.headers.items() if key.lower() == wanted), None)

    def media_type(self) -> str:
        return (self.header("Content-Type") or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()  # sent after Content-Type and Content-Length
    # Injected faults (provider simulators): answer only after this many seconds, or reset the
    # connection (RST) instead of answering at all.
    delay_seconds: float = 0.0
    reset: bool = False
    # For the simulators' request log: the provider accepted the message (whatever the client saw),
    # and the fault injected into the answer, if any.
    accepted: bool = False
    fault: str | None = None

    @classmethod
    def json(cls, status: int, payload: Any) -> HttpResponse:
        return cls(status=status, body=json.dumps(payload).encode("utf-8"))

    @classmethod
    def text(cls, status: int, text: str) -> HttpResponse:
        return cls(status=status, body=text.encode("utf-8"), content_type="text/plain; charset=utf-8")


RequestHandler = Callable[[HttpRequest], HttpResponse]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections would otherwise make server_close() wait for their threads.
    block_on_close = False


def _handler_class(handle: RequestHandler) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes; with Nagle on, keep-alive clients wait ~40 ms for each.
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                self.close_connection = True
                self._send(HttpResponse.text(411, "Content-Length required"))
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length > 0 else b""
            request = HttpRequest.build(self.command, self.path, dict(self.headers.items()), body)
            try:
                response = handle(request)
            except Exception:
                logger.exception("handler failed for %s %s", self.command, request.path)
                response = HttpResponse.text(500, "internal error")
            try:
                self._send(response)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up first (e.g. its read timeout before a slow answer): nobody to answer.
                self.close_connection = True

        def _send(self, response: HttpResponse) -> None:
            if response.delay_seconds > 0:
                time.sleep(response.delay_seconds)
            if response.reset:
                # SO_LINGER 0: close() sends an RST, so the client sees "connection reset", no answer.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), redact_query_secrets(format % args))

    return Handler


class BackgroundHttpServer:
    """Serves ``handle`` on a daemon thread. ``port`` is the bound port once started (0 asks the OS)."""

    def __init__(
        self, handle: RequestHandler, host: str = "127.0.0.1", port: int = 0, name: str = "http"
    ) -> None:
        self.host = host
        self.port = port
        self._handle = handle
        self._name = name
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._wake_reader: socket.socket | None = None
        self._wake_writer: socket.socket | None = None

    def start(self) -> None:
        if self._server is not None:
            raise RuntimeError(f"{self._name} server already started")
        self._server = _Server((self.host, self.port), _handler_class(self._handle))
        self.port = self._server.server_address[1]
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._thread = threading.Thread(
            target=self._serve_until_woken,
            args=(self._server, self._wake_reader),
            name=f"{self._name}-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if (
            self._server is None
            or self._thread is None
            or self._wake_writer is None
            or self._wake_reader is None
        ):
            return
        self._wake_writer.send(b"\0")
        self._thread.join()
        self._server.server_close()
        self._wake_writer.close()
        self._wake_reader.close()
        self._server = self._thread = self._wake_reader = self._wake_writer = None

    @staticmethod
    def _serve_until_woken(server: _Server, wake: socket.socket) -> None:
        # Unlike serve_forever(), which polls for shutdown, this stops as soon as stop() writes to `wake`.
        with selectors.DefaultSelector() as selector:
            selector.register(server, selectors.EVENT_READ)
            selector.register(wake, selectors.EVENT_READ)
            while not any(key.fileobj is wake for key, _ in selector.select()):
                server.handle_request()
