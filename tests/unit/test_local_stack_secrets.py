"""Local-stack secret hygiene: private state files, and no query-string secret in the request log."""
from __future__ import annotations

import json
import logging
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local_stack.gateway import HttpRequest, HttpResponse
from local_stack.http_listener import HttpListener
from local_stack.log_redaction import redact_query_secrets
from local_stack.stack import write_json

VERIFY_TOKEN = "verify-token-Zq3x9"
SIGNATURE = "773019e9a0cb3774ed0cf4a552cc1723"


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """umask 000: whatever mode a file gets, it gets from how it was created."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_state_files_are_created_private_whatever_the_umask(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "stack.json"

    write_json(path, {"api_secret": "s3cret"})

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"api_secret": "s3cret"}


def test_a_world_readable_state_file_from_an_older_run_is_replaced_by_a_private_one(
    tmp_path: Path, permissive_umask: None
) -> None:
    path = tmp_path / "stack.json"
    path.write_text("{}")
    path.chmod(0o644)
    (tmp_path / "stack.json.partial").write_text("left over from a crash")

    write_json(path, {"api_secret": "s3cret"})

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {"api_secret": "s3cret"}
    assert not (tmp_path / "stack.json.partial").exists()


@pytest.mark.parametrize(
    "logged, expected",
    [
        (
            f'"GET /webhooks/messenger?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42 HTTP/1.1" 200 -',
            '"GET /webhooks/messenger?hub.mode=subscribe&hub.verify_token=***&hub.challenge=42 HTTP/1.1" 200 -',
        ),
        (
            f'"GET /webhooks/sms/dlr?messageId=0A&timestamp=1795780800&sig={SIGNATURE} HTTP/1.1" 200 -',
            '"GET /webhooks/sms/dlr?messageId=0A&timestamp=1795780800&sig=*** HTTP/1.1" 200 -',
        ),
        (f"/x?sig={SIGNATURE}&hub%2Everify_token={VERIFY_TOKEN}", "/x?sig=***&hub%2Everify_token=***"),
        ("/sms/json?api_key=abcd&api_secret=p4ss&access_token=EAAx", "/sms/json?api_key=abcd&api_secret=***&access_token=***"),
        ("/v1/messages?signature=kept&design=kept", "/v1/messages?signature=kept&design=kept"),
        ("no query string at all: sig=not-a-parameter", "no query string at all: sig=not-a-parameter"),
    ],
)
def test_secret_query_parameters_are_redacted(logged: str, expected: str) -> None:
    assert redact_query_secrets(logged) == expected


class Answer200:
    def handle(self, request: HttpRequest) -> HttpResponse:
        return HttpResponse(200, [("Content-Type", "text/plain")], b"42")


@pytest.fixture
def listener() -> Iterator[HttpListener]:
    running = HttpListener(Answer200(), "127.0.0.1", 0)  # type: ignore[arg-type]
    running.start()
    yield running
    running.stop()


def test_the_listener_logs_requests_without_the_verify_token_or_the_sms_signature(
    listener: HttpListener, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="local_stack.http_listener")
    session = requests.Session()
    session.trust_env = False
    base = f"http://127.0.0.1:{listener.port}"

    session.get(f"{base}/webhooks/messenger?hub.mode=subscribe&hub.verify_token={VERIFY_TOKEN}&hub.challenge=42", timeout=5)
    session.get(f"{base}/webhooks/sms/inbound?msisdn=447700900001&timestamp=1&sig={SIGNATURE}", timeout=5)
    with socket.create_connection(("127.0.0.1", listener.port), timeout=5) as raw:  # a request line it refuses
        raw.sendall(f"GET /webhooks/sms/dlr?sig={SIGNATURE} extra HTTP/1.1\r\n\r\n".encode())
        raw.recv(4096)

    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "local_stack.http_listener")
    assert VERIFY_TOKEN not in logged and SIGNATURE not in logged
    assert "hub.verify_token=***&hub.challenge=42" in logged
    assert "msisdn=447700900001&timestamp=1&sig=***" in logged
    assert logged.count("sig=***") == 3  # the refused line is logged twice: in the error and the request
