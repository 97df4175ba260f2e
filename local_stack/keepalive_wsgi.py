"""A threaded HTTP/1.1 WSGI server that keeps connections open, for moto's process.

werkzeug's development server, which moto ships with, answers every request with
``Connection: close``: each AWS call of every function instance then paid for a new TCP connection,
a new server thread and werkzeug's per-request set-up, about a sixth of moto's CPU in the load run.
The SDK keeps a pool of connections per client, so with this server a function instance's calls
reuse a few long-lived connections, each served by one thread.

It serves what the AWS SDK sends moto: a request line, headers, and a body given by
``Content-Length`` (or chunked); the answer is written in one send with its ``Content-Length``. A
connection stays open until the client closes it, asks to (``Connection: close``, or HTTP/1.0
without keep-alive), sends something that is not HTTP, or stays idle for ``IDLE_TIMEOUT_SECONDS``.
An application error is answered 500 and the connection closed.
"""

from __future__ import annotations

import io
import socket
import socketserver
import sys
import traceback
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote

IDLE_TIMEOUT_SECONDS = 300.0
MAX_LINE = 65536
MAX_HEADERS = 200

_FRAMING_HEADERS = frozenset({"connection", "content-length", "transfer-encoding", "keep-alive"})

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class BadRequest(Exception):
    pass


class KeepAliveWSGIServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, listener: socket.socket, app: WsgiApp) -> None:
        """Serve ``app`` on ``listener``, a socket already bound and listening."""
        super().__init__(listener.getsockname()[:2], KeepAliveHandler, bind_and_activate=False)
        self.socket.close()
        self.socket = listener
        self.server_address = listener.getsockname()[:2]
        self.app = app


class KeepAliveHandler(socketserver.StreamRequestHandler):
    server: KeepAliveWSGIServer
    timeout = IDLE_TIMEOUT_SECONDS

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # small answers, sent at once

    def handle(self) -> None:
        try:
            while self._serve_one():
                pass
        except (ConnectionError, TimeoutError, socket.timeout, BadRequest):
            return

    def _serve_one(self) -> bool:
        """Read one request and answer it; True when the connection stays open for the next."""
        request_line = self.rfile.readline(MAX_LINE + 1)
        if not request_line:
            return False
        try:
            method, target, version = request_line.decode("latin-1").rstrip("\r\n").split(" ")
        except ValueError:
            raise BadRequest(request_line) from None
        if not version.startswith("HTTP/1."):
            raise BadRequest(version)
        headers = self._read_headers()
        connection = headers.get("connection", "").lower()
        keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
        body = self._read_body(headers)
        status, response_headers, chunks = self._call_app(method, target, version, headers, body)
        if status is None:
            keep_alive = False
            status, response_headers, chunks = "500 Internal Server Error", [("Content-Type", "text/plain")], [b"error"]
        payload = b"".join(chunks)
        declared = [value for name, value in response_headers if name.lower() == "content-length"]
        length = declared[0] if method == "HEAD" and declared else str(len(payload))
        lines = [f"HTTP/1.1 {status}"]
        lines += [f"{name}: {value}" for name, value in response_headers if name.lower() not in _FRAMING_HEADERS]
        lines.append(f"Content-Length: {length}")
        lines.append("Connection: keep-alive" if keep_alive else "Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self.wfile.write(head if method == "HEAD" else head + payload)
        return keep_alive

    def _read_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = self.rfile.readline(MAX_LINE + 1)
            if line in (b"\r\n", b"\n", b""):
                return headers
            name, separator, value = line.decode("latin-1").partition(":")
            if not separator:
                raise BadRequest(line)
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]},{value}" if key in headers else value
        raise BadRequest("too many headers")

    def _read_body(self, headers: dict[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size_line = self.rfile.readline(MAX_LINE + 1).split(b";")[0].strip()
                try:
                    size = int(size_line or b"0", 16)
                except ValueError:
                    raise BadRequest(size_line) from None
                if size == 0:
                    while self.rfile.readline(MAX_LINE + 1) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(MAX_LINE + 1)
        length = headers.get("content-length")
        if not length:
            return b""
        try:
            return self.rfile.read(int(length))
        except ValueError:
            raise BadRequest(length) from None

    def _call_app(
        self, method: str, target: str, version: str, headers: dict[str, str], body: bytes
    ) -> tuple[str | None, list[tuple[str, str]], list[bytes]]:
        path, _, query = target.partition("?")
        if path.startswith(("http://", "https://")):  # an absolute target: keep its path
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
        host, port = self.server.server_address[:2]
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "RAW_URI": target,
            "REQUEST_URI": target,
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "CONTENT_TYPE": headers.get("content-type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in headers.items():
            if name not in ("content-type", "content-length"):
                environ["HTTP_" + name.upper().replace("-", "_")] = value
        answer: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            answer["status"], answer["headers"] = status, list(response_headers)
            return answer.setdefault("written", []).append

        try:
            result = self.server.app(environ, start_response)
            try:
                produced = list(result)
                chunks = [*answer.get("written", []), *produced]
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
        except Exception:  # noqa: BLE001 - answered 500, logged like werkzeug's server does
            traceback.print_exc()
            return None, [], []
        if "status" not in answer:
            return None, [], []
        return answer["status"], answer["headers"], chunks

