"""A provider that answers every send after a fixed delay, in the Messenger, Viber and SMS formats.

Paths match what the channel adapters call under the ``api_base`` that ``channels_secret()`` gives:
``/messenger/<version>/me/messages``, ``/viber/send_message`` and ``/sms/sms/json``. Every send is
accepted. Requests are counted per path, and the most requests in flight at once is kept, so a
caller can tell how many sends arrived and how many overlapped.
"""
from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from local_stack.simulators import DEMO_PAGE_ID, DEMO_VIBER_SERVICE_ID, MESSENGER_API_VERSION

HOST = "127.0.0.1"
PAGE_TOKEN = "bench-page-token"


def messenger_reply(body: dict[str, Any]) -> dict[str, Any]:
    psid = str((body.get("recipient") or {}).get("id", ""))
    return {"recipient_id": psid, "message_id": "mid.$" + secrets.token_urlsafe(24)}


def viber_reply(body: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": 0,
        "status_message": "SRVC_SUCCESS",
        "seq": body.get("seq"),
        "message_token": secrets.randbelow(2**63 - 1) + 1,
    }


def sms_reply(form: dict[str, str]) -> dict[str, Any]:
    return {
        "message-count": "1",
        "messages": [{"to": form.get("to", ""), "message-id": secrets.token_hex(8).upper(), "status": "0"}],
    }


def reply_for(path: str, raw_body: bytes) -> dict[str, Any] | None:
    """The provider's acceptance for a send to ``path``; None for a path no adapter calls."""
    if path == f"/messenger/{MESSENGER_API_VERSION}/me/messages":
        return messenger_reply(json.loads(raw_body or b"{}"))
    if path == "/viber/send_message":
        return viber_reply(json.loads(raw_body or b"{}"))
    if path == "/sms/sms/json":
        return sms_reply(dict(parse_qsl(raw_body.decode("utf-8"), keep_blank_values=True)))
    return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False


class SlowProvider:
    """``with SlowProvider(0.1) as provider:`` serves on a free port of 127.0.0.1 until the block ends."""

    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self.requests: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._server = _Server((HOST, 0), self._handler_class())
        self._thread = threading.Thread(target=self._server.serve_forever, name="slow-provider", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self._server.server_address[1]}"

    def __enter__(self) -> "SlowProvider":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def channels_secret(self) -> dict[str, Any]:
        """A ChannelsSecret pointing every channel here, with the local stack's demo page and service."""
        return {
            "messenger": {
                "api_base": f"{self.base_url}/messenger",
                "api_version": MESSENGER_API_VERSION,
                "app_secret": "bench",
                "verify_token": "bench",
                "pages": {DEMO_PAGE_ID: PAGE_TOKEN},
            },
            "viber": {
                "api_base": f"{self.base_url}/viber",
                "callback_secret": "bench",
                "service_ids": [DEMO_VIBER_SERVICE_ID],
            },
            "sms": {
                "api_base": f"{self.base_url}/sms",
                "api_key": "benchkey",
                "api_secret": "benchsecret",
                "signature_secret": "bench",
                "signature_method": "md5hash",
            },
        }

    def reset_max_in_flight(self) -> None:
        with self._lock:
            self.max_in_flight = self.in_flight

    def _arrived(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _answered(self, path: str) -> None:
        with self._lock:
            self.in_flight -= 1
            self.requests[path] += 1

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the adapters' sessions expect
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                provider._arrived()
                try:
                    time.sleep(provider.delay_seconds)
                    reply = reply_for(path, raw)
                finally:
                    provider._answered(path)
                payload = json.dumps(reply if reply is not None else {"error": "unknown path"}).encode()
                self.send_response(200 if reply is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
