"""What an attack did, as the stack shows it: the answer, records, provider calls, customer webhooks, logs.

Every attack carries markers (a recipient number, a text) that nothing else in the run uses. An
attack that was refused must leave no trace of them anywhere:

- no record: neither the MessagesTable nor the WorkflowsTable (read from the stack's moto server)
  holds an item, created or changed since the marker was made, that mentions it. The API writes a
  message's record before it answers 202, so a refused request that wrote nothing cannot have
  queued anything for the sender either;
- no provider call: the provider simulators' request log has no request mentioning a marker;
- no customer webhook: the webhook sink's log has no request mentioning a marker.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from datetime import datetime, timezone
from typing import Any

import requests

from tests.support.stack import RunningStack

PROBLEM_CONTENT_TYPE = "application/problem+json"
# How every provider route refuses an unsigned or wrongly signed webhook: 403 problem+json, the
# answer Messenger and Viber always gave and SMS gives too (issue 8 item 3: "exactly as Messenger
# and Viber already do"). The security contracts' item 7 says 401; the routes answer 403.
PROVIDER_REFUSAL_STATUS = 403
TRACE_HEADER = "x-nexmo-trace-id"
GATEWAY_REQUEST_ID_HEADER = "apigw-requestid"  # the functions' log correlation id
RUN_TOKEN = secrets.token_hex(3)
SCANNED_TABLE_OUTPUTS = ("MessagesTableName", "WorkflowsTableName")
# Records are searched from a little before their marker was made: the stack shares this machine's clock.
CLOCK_MARGIN_SECONDS = 5.0
UNKNOWN_MARKER_WINDOW_SECONDS = 600.0
_made_at: dict[str, float] = {}


def _made(value: str) -> str:
    _made_at[value] = time.time()
    return value


def marker(label: str) -> str:
    """A text no other test (nor an earlier run) sends."""
    return _made(f"{label} [{RUN_TOKEN}-{secrets.token_hex(4)}]")


def unique_msisdn(suffix: str = "0003") -> str:
    """A 15-digit number ending in the simulators' scenario ``suffix`` (0003: accepted, never reported on)."""
    return _made("44" + "".join(secrets.choice("0123456789") for _ in range(9)) + suffix)


def unique_psid(suffix: str = "0003") -> str:
    """A 16-digit Messenger page-scoped user id ending in ``suffix``."""
    return _made("9" + "".join(secrets.choice("0123456789") for _ in range(11)) + suffix)


# -- the answer ---------------------------------------------------------------------------------


def assert_problem(response: requests.Response, *statuses: int) -> dict[str, Any]:
    """An ``application/problem+json`` answer with one of ``statuses``, a trace id as ``instance``, no traceback."""
    assert response.status_code in statuses, f"expected {statuses}, got {response.status_code}: {response.text[:500]}"
    assert response.headers.get("content-type", "").startswith(PROBLEM_CONTENT_TYPE), response.headers
    problem = response.json()
    assert isinstance(problem, dict), problem
    assert problem.get("instance") == response.headers.get(TRACE_HEADER), (problem, response.headers)
    assert problem.get("type") and problem.get("title"), problem
    assert "Traceback" not in response.text
    return problem


def without_instance(problem: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in problem.items() if name != "instance"}


def invalid_parameter_names(problem: dict[str, Any]) -> list[str]:
    return [each.get("name") for each in problem.get("invalid_parameters") or []]


def assert_no_error_logged(stack: RunningStack, response: requests.Response) -> None:
    """The function that answered logged no error or traceback for this request (found by its correlation id)."""
    request_id = response.headers.get(GATEWAY_REQUEST_ID_HEADER)
    assert request_id, response.headers
    output, logged = "\n".join(stack.function_log_lines()), []
    found = output.find(request_id)
    while found != -1:
        start, end = output.rfind("\n", 0, found) + 1, output.find("\n", found)
        line = output[start : end if end != -1 else len(output)]
        try:
            record = json.loads(line) if line.startswith("{") else {}
        except ValueError:
            record = {}  # a line still being written
        if record.get("correlation_id") == request_id:
            logged.append(record)
        found = output.find(request_id, end) if end != -1 else -1
    errors = [r for r in logged if r.get("level") in ("ERROR", "CRITICAL") or "exception" in r]
    assert not errors, f"the request {request_id} logged errors: {errors}"


# -- records, provider calls, webhooks ----------------------------------------------------------------


def records_mentioning(stack: RunningStack, text: str) -> list[dict[str, Any]]:
    """Items of the MessagesTable and the WorkflowsTable made or changed since ``text`` was, that mention it.

    The time filter runs in the table scan, so only the few recent items travel and are searched.
    """
    made_at = _made_at.get(text, time.time() - UNKNOWN_MARKER_WINDOW_SECONDS)
    since = datetime.fromtimestamp(made_at - CLOCK_MARGIN_SECONDS, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")
    client = stack.boto3_client("dynamodb")
    outputs = stack.outputs()
    found = []
    for output in SCANNED_TABLE_OUTPUTS:
        pages = client.get_paginator("scan").paginate(
            TableName=outputs[output],
            ConsistentRead=True,
            FilterExpression="created_at >= :since OR updated_at >= :since",
            ExpressionAttributeValues={":since": {"S": since}},
        )
        for page in pages:
            found.extend(item for item in page["Items"] if text in json.dumps(item, ensure_ascii=False))
    return found


def provider_requests_mentioning(stack: RunningStack, text: str) -> list[dict[str, Any]]:
    return [r for r in stack.provider_requests() if text in json.dumps(r, ensure_ascii=False)]


def webhooks_mentioning(stack: RunningStack, text: str) -> list[dict[str, Any]]:
    return [r for r in stack.webhooks() if text in json.dumps(r, ensure_ascii=False)]


def assert_no_effects(stack: RunningStack, *markers: str) -> None:
    """Nothing in the stack mentions any of ``markers``: no record, no provider call, no customer webhook."""
    for text in markers:
        assert not records_mentioning(stack, text), f"a record mentions {text!r}"
        assert not provider_requests_mentioning(stack, text), f"a provider was called about {text!r}"
        assert not webhooks_mentioning(stack, text), f"a customer webhook mentions {text!r}"


def record(stack: RunningStack, message_uuid: str) -> dict[str, Any]:
    """A message's record, straight from the MessagesTable (DynamoDB JSON turned into plain values)."""
    from boto3.dynamodb.types import TypeDeserializer

    item = stack.boto3_client("dynamodb").get_item(
        TableName=stack.outputs()["MessagesTableName"], Key={"message_uuid": {"S": message_uuid}}, ConsistentRead=True
    ).get("Item")
    assert item is not None, f"no record for {message_uuid}"
    deserializer = TypeDeserializer()
    return {name: deserializer.deserialize(value) for name, value in item.items()}


def lookup(stack: RunningStack, message_uuid: str, auth: Any) -> dict[str, Any]:
    response = stack.get(f"/v1/messages/{message_uuid}", auth=auth)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_provider_id(stack: RunningStack, message_uuid: str, timeout: float = 60) -> str:
    """The provider's id for the message once the sender submitted it (receipts can only find it then)."""

    def submitted() -> str | None:
        current = record(stack, message_uuid)
        return current.get("provider_message_id") if current.get("status") != "accepted" else None

    provider_id = stack.wait_for(submitted, timeout=timeout, interval=0.1, what=f"{message_uuid} to be submitted")
    assert record(stack, message_uuid)["status"] == "submitted"
    return str(provider_id)


def webhook_statuses(stack: RunningStack, message_uuid: str, path: str | None = None) -> list[str]:
    """The statuses of the sink's webhooks about ``message_uuid`` (at ``path`` when given), oldest first."""
    return [
        r["body"]["status"]
        for r in stack.webhooks()
        if isinstance(r.get("body"), dict)
        and r["body"].get("message_uuid") == message_uuid
        and "status" in r["body"]
        and (path is None or r["path"] == path)
    ]


def history_statuses(view: dict[str, Any]) -> list[str]:
    return [entry["status"] for entry in view.get("history") or [] if "status" in entry]


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
