"""Small helpers the outbound integration tests share: unique addresses, sends, lookups, logs.

Every test addresses its own recipients (random digits before the simulator's four-digit scenario
suffix), so the provider simulator's log can be filtered per message without seeing other tests'
traffic on the same session-wide stack.

The API is never called concurrently from here: the local stack runs overlapping ApiFunction
invocations on threads of one process, where Powertools keeps the current request in a class
attribute, so overlapping requests can read each other's path, headers and body. Tests send
everything first and wait afterwards instead, which overlaps the slow part (the sender's back-off).
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from tests.support.stack import RunningStack

# Recipient suffixes the provider simulators act on (local_stack/simulators/scenarios.py).
NOT_ON_NETWORK = "0001"
NO_REPORT = "0003"  # accepted and never reported on: the status stays "submitted"
SERVER_ERROR_TWICE = "0005"
THROTTLED_ONCE = "0006"

# Long enough for a noisy shared machine; 0005 alone needs two back-off delays (about 2 + 4 s).
SETTLE_TIMEOUT_SECONDS = 60.0
POLL_INTERVAL_SECONDS = 0.2

SUBMITTED = "submitted"
REJECTED = "rejected"
# What a message can show once the provider accepted it (delivery reports may follow "submitted").
SENT_STATUSES = ("submitted", "delivered", "read")

# The sender's log messages (layers/switchboard/sender/worker.py, ``correlation_id`` = the message
# uuid) that end one SQS delivery of an accepted message: it submitted the message, found it already
# final or held by another worker, or lost its claim before recording the outcome.
DELIVERY_SUBMITTED = "message submitted"
DELIVERY_ALREADY_FINAL = "message already past sending; acknowledged"
DELIVERY_IN_FLIGHT = "message is being sent by another worker; will look again later"
DELIVERY_CLAIM_LOST = "claim lost before the outcome was recorded"
HANDLED_DELIVERY_MESSAGES = frozenset(
    {DELIVERY_SUBMITTED, DELIVERY_ALREADY_FINAL, DELIVERY_IN_FLIGHT, DELIVERY_CLAIM_LOST}
)

RUN_TOKEN = secrets.token_hex(3)


def unique_text(label: str) -> str:
    """A message text no other test sends: ``label`` plus a run token and a random part."""
    return f"{label} [{RUN_TOKEN}-{secrets.token_hex(4)}]"


def unique_msisdn(suffix: str = NO_REPORT) -> str:
    """A 15-digit E.164 number (no ``+``) that ends in the simulator scenario ``suffix``."""
    middle = "".join(secrets.choice("0123456789") for _ in range(9))
    return f"44{middle}{suffix}"


def unique_psid(suffix: str = NO_REPORT) -> str:
    """A 16-digit Messenger page-scoped id that ends in the simulator scenario ``suffix``."""
    middle = "".join(secrets.choice("0123456789") for _ in range(11))
    return f"9{middle}{suffix}"


@dataclass(frozen=True)
class SendRequest:
    """One POST to a send endpoint: ``path`` is ``/beta/messages``, ``/v0.1/messages`` or ``/v1/messages``."""

    path: str
    body: dict[str, Any]


def post_message(stack: RunningStack, request: SendRequest, auth: Any = None) -> str:
    """Send one message with the demo account's Basic auth (or ``auth``); its message_uuid."""
    response = stack.post(request.path, json=request.body, auth=auth or stack.auth)
    assert response.status_code == 202, f"{request.path} answered {response.status_code}: {response.text}"
    message_uuid = response.json()["message_uuid"]
    assert str(uuid.UUID(message_uuid)) == message_uuid
    return message_uuid


def post_messages(stack: RunningStack, requests_to_send: Sequence[SendRequest]) -> list[str]:
    """Send them one after the other (see the module docstring); their message_uuids in order."""
    return [post_message(stack, each) for each in requests_to_send]


def lookup(stack: RunningStack, message_uuid: str, version: str = "v1", auth: Any = None) -> dict[str, Any]:
    """``GET /{version}/messages/{uuid}``: the message's status, error and history."""
    response = stack.get(f"/{version}/messages/{message_uuid}", auth=auth or stack.auth)
    assert response.status_code == 200, f"lookup of {message_uuid} answered {response.status_code}: {response.text}"
    return response.json()


def history_statuses(view: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in view["history"]]


def wait_until_settled(
    stack: RunningStack, message_uuid: str, version: str = "v1", timeout: float = SETTLE_TIMEOUT_SECONDS
) -> dict[str, Any]:
    """The lookup view once the sender is done with the message: submitted (or later) or rejected."""

    def settled() -> dict[str, Any] | None:
        view = lookup(stack, message_uuid, version)
        done = view["status"] == REJECTED or SUBMITTED in history_statuses(view)
        return view if done else None

    return stack.wait_for(
        settled, timeout=timeout, interval=POLL_INTERVAL_SECONDS, what=f"message {message_uuid} to be sent or rejected"
    )


def wait_until_all_settled(
    stack: RunningStack, message_uuids: Iterable[str], version: str = "v1"
) -> dict[str, dict[str, Any]]:
    """Lookup views by message uuid, once every one of them is settled (see ``wait_until_settled``)."""
    return {each: wait_until_settled(stack, each, version) for each in message_uuids}


def provider_requests_to(stack: RunningStack, provider: str, recipient: str) -> list[dict[str, Any]]:
    """The simulator's log records of ``provider`` requests addressed to ``recipient``, oldest first."""
    return [
        record
        for record in stack.provider_requests()
        if record["provider"] == provider and recipient_of(record) == recipient
    ]


def recipient_of(record: dict[str, Any]) -> str | None:
    """Who a logged provider request was addressed to (SMS and WhatsApp ``to``, Viber ``dest``, Messenger recipient id)."""
    body = record.get("body")
    if not isinstance(body, dict):
        return None
    if record["provider"] in ("sms", "whatsapp"):
        return body.get("to")
    if record["provider"] == "viber":
        return body.get("dest")
    recipient = body.get("recipient")
    return recipient.get("id") if isinstance(recipient, dict) else None


def channels_secret(stack: RunningStack) -> dict[str, Any]:
    """The ChannelsSecret the stack's adapters use (it points them at the simulators)."""
    secret_arn = stack.outputs()["ChannelsSecretArn"]
    value = stack.boto3_client("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"]
    return json.loads(value)


def sender_log_records(stack: RunningStack, message_uuid: str) -> list[dict[str, Any]]:
    """The sender's structured log records about ``message_uuid`` (``correlation_id``), from the stack's logs.

    Only ``correlation_id`` is trusted: the functions share one process and one logger there, so the
    Lambda context fields (``function_name``, ``function_request_id``) can name another invocation.
    """
    records = []
    for line in stack.function_log_lines():
        if not line.startswith("{") or message_uuid not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line still being written
        if record.get("correlation_id") == message_uuid:
            records.append(record)
    return records


def handled_deliveries(stack: RunningStack, message_uuid: str) -> list[str]:
    """One log message per SQS delivery of the message that the sender handled without a provider error."""
    return [
        record["message"]
        for record in sender_log_records(stack, message_uuid)
        if record.get("message") in HANDLED_DELIVERY_MESSAGES
    ]


def assert_problem(response: requests.Response, status: int, title: str) -> dict[str, Any]:
    """An ``application/problem+json`` answer with ``status``, ``title`` and the trace id as ``instance``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    trace_id = response.headers["x-nexmo-trace-id"]
    assert re.fullmatch("[0-9a-f]{32}", trace_id), trace_id
    problem = response.json()
    assert problem["title"] == title
    assert problem["instance"] == trace_id
    assert problem["type"] and problem["detail"]
    return problem


def run_in_parallel(functions: Sequence[Callable[[], Any]]) -> list[Any]:
    """Call each function on its own thread; their results in order (the first exception propagates)."""
    with ThreadPoolExecutor(max_workers=max(1, len(functions))) as pool:
        return list(pool.map(lambda function: function(), functions))
