"""A webhook receiver for the local stack: answers 200 to any request and records what it got.

One exception, for trying the notifier's redirect rule: a request to ``/redirect?location=URL`` is
answered ``307 Temporary Redirect`` to ``URL`` (the notifier must not follow it).

Each request is appended to ``<state_dir>/webhooks.jsonl`` before the answer goes out, with
``signature_valid`` telling whether a Vonage-style signed webhook checks out: the
``Authorization: Bearer`` JWT verifies with HS256 against one of the signature secrets and its
``payload_hash`` claim is the hex SHA-256 of the raw body. Time claims (``iat``, ``exp``, ``nbf``)
are not checked, so a webhook signed under a test's injected clock is still judged on its signature.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jwt

from local_stack.simulators.http_server import BackgroundHttpServer, HttpRequest, HttpResponse
from local_stack.simulators.jsonl import JsonLinesLog, iso_utc_now

WEBHOOKS_FILE = "webhooks.jsonl"
REDIRECT_PATH = "/redirect"
REDIRECT_LOCATION_PARAM = "location"

_DECODE_OPTIONS = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}


def bearer_token(authorization: str | None) -> str | None:
    scheme, _, token = (authorization or "").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def signed_body_is_valid(token: str, raw_body: bytes, signature_secrets: Iterable[str]) -> bool:
    expected_hash = hashlib.sha256(raw_body).hexdigest()
    for secret in signature_secrets:
        if not secret:
            continue
        try:
            claims = jwt.decode(token, secret, algorithms=["HS256"], options=_DECODE_OPTIONS)
        except jwt.InvalidTokenError:
            continue
        return claims.get("payload_hash") == expected_hash
    return False


def _parsed_body(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


class WebhookSink:
    def __init__(
        self,
        state_dir: Path,
        signature_secrets: Callable[[], list[str]],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.state_dir = state_dir
        self._signature_secrets = signature_secrets
        self._log = JsonLinesLog(state_dir / WEBHOOKS_FILE)
        self._server = BackgroundHttpServer(self._handle, host, port, name="webhook-sink")

    @property
    def host(self) -> str:
        return self._server.host

    @property
    def port(self) -> int:
        return self._server.port

    @property
    def received(self) -> list[dict[str, Any]]:
        """The recorded requests, oldest first (the most recent 10 000; the file keeps all)."""
        return self._log.records()

    @property
    def log_path(self) -> Path:
        return self._log.path

    def start(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def url(self, path: str = "/") -> str:
        if not self.port:
            raise RuntimeError("start() the sink first: the port is chosen when the server binds")
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    def _signature_valid(self, request: HttpRequest) -> bool | None:
        token = bearer_token(request.header("Authorization"))
        if token is None:
            return None
        return signed_body_is_valid(token, request.body, self._signature_secrets())

    def _handle(self, request: HttpRequest) -> HttpResponse:
        raw_text = request.body.decode("utf-8", errors="replace")
        self._log.append(
            {
                "received_at": iso_utc_now(),
                "method": request.method,
                "path": request.path,
                "query": request.query,
                "headers": request.headers,
                "body": _parsed_body(raw_text),
                "raw_body": raw_text,
                "signature_valid": self._signature_valid(request),
            }
        )
        location = request.query.get(REDIRECT_LOCATION_PARAM)
        if request.path == REDIRECT_PATH and location:
            return HttpResponse(307, json.dumps({"location": location}).encode(), headers=(("Location", location),))
        return HttpResponse.json(200, {"status": "ok"})
