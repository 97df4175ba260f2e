"""Requests to the Messages API as customers send them, and the events API Gateway makes of them."""
from __future__ import annotations

import json
import time
from typing import Any

from local_stack.gateway import ApiIdentity, HttpRequest, build_event, new_request_id
from local_stack.routes import RouteTable
from local_stack.simulators import DEMO_PAGE_ID, DEMO_SMS_SENDER_ID, DEMO_VIBER_SERVICE_ID

SEND_PATH = "/v1/messages"
API_ID = "bench"
CHANNELS = ("sms", "messenger", "viber_service")
SMS_SENDER = DEMO_SMS_SENDER_ID
# Recipients' last four digits choose what the provider simulators do (local_stack.simulators.scenarios).
DELIVERED_AND_READ = "0000"
SERVER_ERROR_TWICE = "0005"
THROTTLED_ONCE = "0006"


def bearer_authorization(token: str) -> str:
    return f"Bearer {token}"


def recipient(channel: str, scenario: str, serial: int = 0) -> str:
    """A recipient of ``channel`` whose last four digits are ``scenario``; ``serial`` varies the rest."""
    prefix = "35235235" if channel == "messenger" else "447700"
    return f"{prefix}{serial % 1000:03d}{scenario}"


def v1_message(channel: str, to: str, text: str) -> dict[str, Any]:
    """A valid v1 text message from the local stack's demo senders (configured, and linked to the demo
    account and to the bench's own accounts)."""
    sender = {"sms": SMS_SENDER, "messenger": DEMO_PAGE_ID, "viber_service": DEMO_VIBER_SERVICE_ID}[channel]
    return {"to": to, "from": sender, "channel": channel, "message_type": "text", "text": text}


def send_request(body: dict[str, Any], authorization: str, path: str = SEND_PATH) -> HttpRequest:
    return HttpRequest(
        method="POST",
        target=path,
        headers=[
            ("Host", "api.bench.test"),
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
            ("User-Agent", "switchboard-bench"),
            ("Authorization", authorization),
        ],
        body=json.dumps(body).encode("utf-8"),
        source_ip="127.0.0.1",
    )


def api_event(routes: RouteTable, request: HttpRequest) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway (and the local stack) builds for ``request``."""
    match = routes.select(request.method, request.target.split("?", 1)[0])
    if match is None:
        raise LookupError(f"no route for {request.method} {request.target}")
    return build_event(request, match, ApiIdentity(API_ID), new_request_id(), time.time())
