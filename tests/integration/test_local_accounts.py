"""A developer's own account on the local stack works as the demo account does: its own simulated
sender (``switchboard local add-sender``) and webhooks to a receiver of its own on localhost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest

from local_stack.child import ROOT
from tests.support.stack import RunningStack

pytestmark = pytest.mark.integration


class Receiver:
    """A webhook receiver the test controls, on http://localhost:<port>/."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("localhost", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://localhost:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    yield r
    r.server.shutdown()
    r.server.server_close()


def cli(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args, "--local-dir", str(stack.local_dir)],
        cwd=ROOT, capture_output=True, text=True, timeout=60, env=dict(os.environ),
    )


def test_an_own_account_sends_from_its_own_page_and_gets_webhooks_at_its_own_localhost_receiver(
    stack: RunningStack, receiver: Receiver
) -> None:
    created = cli(stack, "accounts", "create", "--status-url", receiver.url("/status"))
    assert created.returncode == 0, created.stderr
    account = json.loads(created.stdout)
    added = cli(stack, "local", "add-sender", "--api-key", account["api_key"], "--channel", "messenger")
    assert added.returncode == 0, added.stderr
    page = json.loads(added.stdout)["address"]

    response = stack.post(
        "/v1/messages",
        auth=(account["api_key"], account["api_secret"]),
        json={"message_type": "text", "text": "from my own page", "channel": "messenger",
              "from": page, "to": "5551234567"},
    )
    assert response.status_code == 202, response.text
    message_uuid = response.json()["message_uuid"]

    def statuses() -> list[str]:
        found = []
        for path, headers, body in list(receiver.received):
            document = json.loads(body)
            if path == "/status" and document.get("message_uuid") == message_uuid:
                token = headers["Authorization"].removeprefix("Bearer ")
                jwt.decode(token, account["signature_secret"], algorithms=["HS256"],
                           options={"verify_iat": False})  # signed for this account
                found.append(document["status"])
        return found

    seen = stack.wait_for(lambda: "read" in statuses() and statuses(), timeout=30, what="the read webhook")
    assert seen == ["submitted", "delivered", "read"]
    reports = [r for r in stack.provider_requests() if r["provider"] == "messenger"]
    assert any(r.get("body", {}).get("message", {}).get("text") == "from my own page" for r in reports)


def test_the_readmes_example_status_url_is_accepted_offline_too(stack: RunningStack) -> None:
    created = cli(stack, "accounts", "create", "--status-url", "https://example.com/status")
    assert created.returncode == 0, created.stderr
    if created.stderr:  # offline: example.com does not resolve here
        assert "accepted for the local stack only" in created.stderr
