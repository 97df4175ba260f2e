"""What the status and inbound webhook tests share: the sink's records, checked as a customer would check them.

A customer verifies a signed webhook with the official SDK (``vonage_jwt.verify_signature``) and
compares the token's ``payload_hash`` with the SHA-256 of the body it received; the sink's own
``signature_valid`` must agree. Every wait is event-driven, with a generous timeout.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import jwt
from vonage_jwt import verify_signature

from tests.support.stack import RunningStack

STATUS_PATH = "/webhooks/status"  # the demo application's status URL at the sink
INBOUND_PATH = "/webhooks/inbound"  # its inbound URL
WEBHOOK_TIMEOUT_SECONDS = 30.0
POLL_INTERVAL_SECONDS = 0.1
PROVIDER_REPORTS_FILE = "provider-reports.jsonl"  # the simulators' reports to the API (local_stack.simulators)
ISO_8601_MS_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")

Record = dict[str, Any]


def header(record: Record, name: str) -> str | None:
    wanted = name.lower()
    return next((value for key, value in record["headers"].items() if key.lower() == wanted), None)


def bearer_token(record: Record) -> str:
    authorization = header(record, "Authorization") or ""
    scheme, _, token = authorization.partition(" ")
    assert scheme == "Bearer" and token, f"the webhook is not signed: {record['headers']}"
    return token


def assert_signed_for_the_demo_account(stack: RunningStack, record: Record) -> None:
    """Signed with the demo account's signature secret, over exactly the bytes the sink received."""
    assert record["signature_valid"] is True, record
    token = bearer_token(record)
    assert verify_signature(token, stack.signature_secret) is True
    claims = jwt.decode(token, stack.signature_secret, algorithms=["HS256"])
    assert claims["payload_hash"] == hashlib.sha256(record["raw_body"].encode("utf-8")).hexdigest()
    assert json.loads(record["raw_body"]) == record["body"]
    assert claims["iss"] == "Vonage"
    assert claims["api_key"] == stack.api_key


def webhooks_for(stack: RunningStack, message_uuid: str, path: str | None = None) -> list[Record]:
    """The sink's records whose JSON body is about ``message_uuid`` (at ``path`` when given), oldest first."""
    return [
        record
        for record in stack.webhooks()
        if isinstance(record["body"], dict)
        and record["body"].get("message_uuid") == message_uuid
        and (path is None or record["path"] == path)
    ]


def statuses(records: list[Record]) -> list[str]:
    return [record["body"]["status"] for record in records]


def wait_for_webhooks(
    stack: RunningStack, select: Callable[[], list[Record]], count: int, what: str
) -> list[Record]:
    """``select()`` once it holds at least ``count`` records."""
    return stack.wait_for(
        lambda: (found if len(found := select()) >= count else None),
        timeout=WEBHOOK_TIMEOUT_SECONDS,
        interval=POLL_INTERVAL_SECONDS,
        what=what,
    )


def wait_for_statuses(
    stack: RunningStack, message_uuid: str, count: int, path: str | None = STATUS_PATH
) -> list[Record]:
    """The first ``count`` status webhooks of ``message_uuid`` at the sink, oldest first."""
    found = wait_for_webhooks(
        stack, lambda: webhooks_for(stack, message_uuid, path), count, f"{count} status webhooks of {message_uuid}"
    )
    return found


def wait_for_status(
    stack: RunningStack, message_uuid: str, status: str, path: str | None = STATUS_PATH
) -> list[Record]:
    """Every status webhook of ``message_uuid`` so far, once one of them says ``status``."""
    return stack.wait_for(
        lambda: (found if status in statuses(found := webhooks_for(stack, message_uuid, path)) else None),
        timeout=WEBHOOK_TIMEOUT_SECONDS,
        interval=POLL_INTERVAL_SECONDS,
        what=f"a {status} webhook of {message_uuid}",
    )


def provider_reports_to(stack: RunningStack, recipient: str) -> list[Record]:
    """The simulators' delivery and read reports (every attempt) about messages to ``recipient``."""
    path = stack.local_dir / PROVIDER_REPORTS_FILE
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            break  # a line being written
        if record.get("recipient") == recipient:
            records.append(record)
    return records


def sink_base_url(stack: RunningStack) -> str:
    """``http://host:port`` of the webhook sink: the demo account's status URL points at it."""
    item = stack.boto3_client("dynamodb").get_item(
        TableName=stack.outputs()["AccountsTableName"], Key={"pk": {"S": f"account#{stack.api_key}"}}
    )["Item"]
    parts = urlsplit(item["status_url"]["S"])
    return f"{parts.scheme}://{parts.netloc}"
