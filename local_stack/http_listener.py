"""Serves an ``HttpApiGateway`` over HTTP or HTTPS with the standard library's threaded server.

The port is bound when the listener is created, so a busy port fails the start at once, but
connections are accepted only after ``start()``: until then a client is refused, which is how the
local stack keeps ``/health`` from answering before everything behind it is ready.
TLS handshakes run on the connection's own thread, so a slow client cannot hold up the others.
Request lines are logged with secret query parameters (``hub.verify_token``, ``sig``, ...) as ``***``.
"""

from __future__ import annotations

import logging
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local_stack.gateway import MAX_REQUEST_BODY_BYTES, HttpApiGateway, HttpRequest, HttpResponse, gateway_error
from local_stack.log_redaction import redact_query_secrets

logger = logging.getLogger(__name__)

_IDLE_CONNECTION_SECONDS = 120
_SHUTDOWN_POLL_SECONDS = 0.1


class BodyTooLarge(Exception):
    pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], gateway: HttpApiGateway, tls: ssl.SSLContext | None) -> None:
        super().__init__(address, _RequestHandler, bind_and_activate=False)
        self.gateway = gateway
        self.tls = tls
        try:
            self.server_bind()
        except OSError as exc:
            self.server_close()
            raise OSError(exc.errno, f"cannot listen on {address[0]}:{address[1]}: {exc.strerror}") from None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is not None:
            request.settimeout(_IDLE_CONNECTION_SECONDS)
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                logger.debug("TLS handshake with %s failed: %s", client_address, exc)
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("connection from %s ended with an error", client_address, exc_info=True)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = _IDLE_CONNECTION_SECONDS
    server: _Server

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except BodyTooLarge:
            # The unread body stays on the socket: answer and drop the connection.
            self.close_connection = True
            self._send(gateway_error(413, "Request Entity Too Large"))
            return
        except ValueError:
            self.close_connection = True
            self._send(gateway_error(400, "Bad Request"))
            return
        local_port = self.server.server_address[1]
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            scheme="https" if self.server.tls is not None else "http",
            port=local_port,
        )
        self._send(self.server.gateway.handle(request))

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > MAX_REQUEST_BODY_BYTES:
            raise BodyTooLarge
        return self.rfile.read(length) if length else b""

    def _read_chunked(self) -> bytes:
        chunks, total = [], 0
        while True:
            size = int(self.rfile.readline(1024).split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(1024).strip():  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_REQUEST_BODY_BYTES:
                raise BodyTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base class signature
        # The request line carries the query string: a verify token or a signature must not be logged.
        logger.info("%s %s", self.address_string(), redact_query_secrets(format % args))


class HttpListener:
    def __init__(self, gateway: HttpApiGateway, host: str, port: int, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server((host, port), gateway, tls)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def start(self) -> None:
        self._server.server_activate()
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": _SHUTDOWN_POLL_SECONDS},
            name=f"http-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()


def server_tls_context(cert_path: str, key_path: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    return context
