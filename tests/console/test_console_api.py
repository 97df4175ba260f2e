"""The console's data endpoints and actions, on moto's in-process DynamoDB and JSON Lines logs in a temp dir.

Records are written in the shapes the functions write them (as ``GET /v1/messages/<uuid>`` shows
them), logs in the shapes the simulators and the webhook sink append.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import jwt
import pytest
from boto3.dynamodb.types import TypeSerializer

from local_stack.console import Console
from local_stack.console.state import StackState
from local_stack.gateway import HttpRequest, HttpResponse
from local_stack.replay import CapturedWebhook, ReplayResponse

T0 = 1_796_454_295.0  # 2026-12-05T07:04:55Z
ACCOUNT = "9f784519"
OTHER_ACCOUNT = "5a5a5a5a"
PAGE = "107083064136738"
VIBER_SERVICE = "16273"
SMS_FROM = "447700900001"
SIGNATURE_SECRET = "webhook-signature-secret-of-32-bytes!"
CHANNELS = {
    "messenger": {"api_base": "http://127.0.0.1:9/messenger", "api_version": "v18.0",
                  "app_secret": "messenger-app-secret", "verify_token": "verify", "pages": {PAGE: "EAApage"}},
    "viber": {"api_base": "http://127.0.0.1:9/viber", "callback_secret": "viber-callback-secret",
              "service_ids": [VIBER_SERVICE]},
    "sms": {"api_base": "http://127.0.0.1:9/sms", "api_key": "k", "api_secret": "s",
            "signature_secret": "sms-signature-secret", "signature_method": "md5hash"},
}
_serializer = TypeSerializer()


def at(seconds: float) -> str:
    return datetime.fromtimestamp(T0 + seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def outbound(
    uuid: str,
    channel: str,
    to: dict[str, str],
    text: str,
    *,
    status: str = "submitted",
    created: float = 0.0,
    history: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    sender = {"sms": {"type": "sms", "number": SMS_FROM}, "messenger": {"type": "messenger", "id": PAGE},
              "viber_service_msg": {"type": "viber_service_msg", "id": VIBER_SERVICE}}[channel]
    record = {
        "message_uuid": uuid,
        "channel": channel,
        "from": sender,
        "to": to,
        "content": {"type": "text", "text": text},
        "api_version": "v1",
        "status": status,
        "history": history or [{"status": "accepted", "timestamp": at(created)}],
        "api_key": ACCOUNT,
        "auth_method": "basic",
        "created_at": at(created),
        "updated_at": at(created),
        "expires_at": int(T0) + 86400,
    }
    return record | extra


def inbound(uuid: str, text: str, created: float, account: str = ACCOUNT) -> dict[str, Any]:
    return {
        "message_uuid": uuid,
        "direction": "inbound",
        "channel": "messenger",
        "from": {"type": "messenger", "id": "3523523523520000"},
        "to": {"type": "messenger", "id": PAGE},
        "content": {"type": "text", "text": text},
        "timestamp": at(created),
        "status": "received",
        "history": [{"status": "received", "timestamp": at(created)}],
        "api_key": account,
        "created_at": at(created),
        "updated_at": at(created),
        "provider_message_id": "m_text-1",
        "dedupe_key": f"messenger#{PAGE}#m_text-1",
    }


@pytest.fixture
def state(aws: Any, tmp_path: Path) -> StackState:
    aws.client("secretsmanager").put_secret_value(
        SecretId=aws.local.refs["ChannelsSecret"], SecretString=json.dumps(CHANNELS)
    )
    return StackState(
        api_url="http://127.0.0.1:3000",
        aws_endpoint_url=None,
        messages_table=aws.local.refs["MessagesTable"],
        workflows_table=aws.local.refs["WorkflowsTable"],
        channels_secret_arn=aws.local.refs["ChannelsSecret"],
        provider_requests_log=tmp_path / "provider-requests.jsonl",
        provider_reports_log=tmp_path / "provider-reports.jsonl",
        webhooks_log=tmp_path / "webhooks.jsonl",
    )


class Api:
    """Puts records and log lines where the stack would, and asks the console about them."""

    def __init__(self, aws: Any, state: StackState, console: Console, sent: list[CapturedWebhook]) -> None:
        self.aws, self.state, self.console, self.sent = aws, state, console, sent

    def put(self, table: str, *records: dict[str, Any]) -> None:
        client = self.aws.client("dynamodb")
        for record in records:
            client.put_item(TableName=table, Item={k: _serializer.serialize(v) for k, v in record.items()})

    def put_messages(self, *records: dict[str, Any]) -> None:
        self.put(self.state.messages_table, *records)

    def log(self, path: Path, *records: dict[str, Any]) -> None:
        with open(path, "a", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record) + "\n")

    def call(
        self, method: str, target: str, body: Any = None, headers: list[tuple[str, str]] | None = None
    ) -> HttpResponse:
        raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        default = [("Host", "127.0.0.1:3000")] + ([("Content-Type", "application/json")] if body is not None else [])
        request = HttpRequest(method, target, headers if headers is not None else default, raw, "127.0.0.1")
        return self.console.handle(request)

    def get(self, target: str, status: int = 200) -> dict[str, Any]:
        response = self.call("GET", target)
        assert response.status == status, response.body
        return json.loads(response.body)

    def post(self, target: str, body: Any, status: int = 200) -> dict[str, Any]:
        response = self.call("POST", target, body)
        assert response.status == status, response.body
        return json.loads(response.body)


@pytest.fixture
def api(aws: Any, state: StackState) -> Iterator[Api]:
    sent: list[CapturedWebhook] = []

    def sender(webhook: CapturedWebhook, api_url: str) -> ReplayResponse:
        assert api_url == state.api_url
        sent.append(webhook)
        return ReplayResponse(200, "OK")

    yield Api(aws, state, Console(state=state, sender=sender, clock=lambda: T0 + 60, event_wait_seconds=0.6), sent)


# -- the messages list ---------------------------------------------------------------------------------


def seed_list(api: Api) -> None:
    api.put_messages(
        outbound("m-sms-1", "sms", {"type": "sms", "number": "447700900000"}, "first", created=1, status="delivered",
                 client_ref="order-1234"),
        outbound("m-viber-1", "viber_service_msg", {"type": "viber_service_msg", "number": "447700900077"},
                 "second", created=2, status="read"),
        outbound("m-msgr-1", "messenger", {"type": "messenger", "id": "1234567890"}, "third", created=3,
                 status="rejected", api_key=OTHER_ACCOUNT),
        inbound("m-in-1", "hello from the user", created=4),
        # The de-duplication marker of the inbound message shares the table; it is no message.
        {"message_uuid": f"inbound-dedupe#{ACCOUNT}#messenger#{PAGE}#m_text-1", "kind": "inbound_dedupe",
         "record_uuid": "m-in-1"},
    )


def test_the_list_is_every_message_newest_first_with_what_a_row_shows(api: Api) -> None:
    seed_list(api)

    data = api.get("/_console/api/messages")

    assert [m["message_uuid"] for m in data["messages"]] == ["m-in-1", "m-msgr-1", "m-viber-1", "m-sms-1"]
    assert (data["total"], data["matched"]) == (4, 4)
    first_sms = data["messages"][-1]
    shown = ("direction", "channel", "from", "to", "preview", "status", "account", "client_ref")
    assert {k: first_sms[k] for k in shown} == {
        "direction": "outbound", "channel": "sms", "from": SMS_FROM, "to": "447700900000", "preview": "first",
        "status": "delivered", "account": ACCOUNT, "client_ref": "order-1234",
    }
    assert data["messages"][0]["direction"] == "inbound"
    assert data["facets"] == {
        "channel": ["messenger", "sms", "viber_service_msg"],
        "status": ["delivered", "read", "received", "rejected"],
        "account": [OTHER_ACCOUNT, ACCOUNT],
        "direction": ["inbound", "outbound"],
    }
    assert isinstance(data["version"], str) and data["version"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("channel=sms", ["m-sms-1"]),
        ("status=read", ["m-viber-1"]),
        (f"account={OTHER_ACCOUNT}", ["m-msgr-1"]),
        ("direction=inbound", ["m-in-1"]),
        ("q=VIBER-1", ["m-viber-1"]),  # a part of the message uuid, whatever its case
        ("q=900077", ["m-viber-1"]),  # a part of the recipient
        ("q=order-12", ["m-sms-1"]),  # a part of the client_ref
        ("channel=messenger&status=received", ["m-in-1"]),
        ("channel=sms&status=read", []),
        ("limit=2", ["m-in-1", "m-msgr-1"]),
    ],
)
def test_filters_and_search_narrow_the_list(api: Api, query: str, expected: list[str]) -> None:
    seed_list(api)

    data = api.get(f"/_console/api/messages?{query}")

    assert [m["message_uuid"] for m in data["messages"]] == expected
    assert data["total"] == 4


def test_a_limit_that_is_not_a_number_is_a_clear_400(api: Api) -> None:
    response = api.call("GET", "/_console/api/messages?limit=lots")

    assert response.status == 400
    assert response.header("Content-Type") == "application/problem+json"
    assert "limit" in json.loads(response.body)["detail"]


# -- one message ---------------------------------------------------------------------------------------


def signed_token(body: str, api_key: str = ACCOUNT) -> str:
    claims = {"iat": int(T0), "jti": "j-1", "iss": "Vonage", "api_key": api_key,
              "payload_hash": hashlib.sha256(body.encode()).hexdigest()}
    return jwt.encode(claims, SIGNATURE_SECRET, algorithm="HS256")


def sink_record(body: dict[str, Any], received: float, valid: bool | None = True) -> dict[str, Any]:
    raw = json.dumps(body)
    return {
        "received_at": at(received),
        "method": "POST",
        "path": "/webhooks/status",
        "query": {},
        "headers": {"Host": "127.0.0.1:46641", "Content-Type": "application/json",
                    "Authorization": f"Bearer {signed_token(raw)}"},
        "body": body,
        "raw_body": raw,
        "signature_valid": valid,
    }


def sms_request(uuid: str, to: str, text: str, received: float, message_id: str | None, status: int = 200) -> dict:
    answer = {"message-count": "1", "messages": [{"to": to, "status": "0", "client-ref": uuid} |
                                                 ({"message-id": message_id} if message_id else {})]}
    return {
        "provider": "sms", "method": "POST", "path": "/sms/sms/json",
        "body": {"api_key": "k", "api_secret": "***", "from": SMS_FROM, "to": to, "text": text, "type": "unicode",
                 "status-report-req": "1", "client-ref": uuid},
        "response_status": status, "response_body": answer, "received_at": at(received),
    }


def delivered_sms(uuid: str = "m-sms-1", to: str = "447700900000") -> dict[str, Any]:
    return outbound(
        uuid, "sms", {"type": "sms", "number": to}, "Привет! " + "ж" * 75, status="delivered",
        provider_message_id="F244CB526D5F3F03", provider_ref="sms#F244CB526D5F3F03",
        history=[
            {"status": "accepted", "timestamp": at(0)},
            {"status": "sending", "timestamp": at(1)},
            {"status": "submitted", "timestamp": at(1.2)},
            {"status": "delivered", "timestamp": at(2.3), "occurred_at": at(2.0)},
        ],
        webhook_attempts=[
            {"webhook": "status:submitted", "kind": "status", "status": "submitted", "attempt": 1, "at": at(1.3),
             "outcome": "delivered", "target": "account", "http_status": 200},
            {"webhook": "status:delivered", "kind": "status", "status": "delivered", "attempt": 1, "at": at(2.4),
             "outcome": "failed", "target": "account", "http_status": 503, "error": "http 503", "next_retry_in": 5},
            {"webhook": "status:delivered", "kind": "status", "status": "delivered", "attempt": 2, "at": at(7.5),
             "outcome": "delivered", "target": "account", "http_status": 200},
        ],
    )


def test_one_message_shows_its_timeline_provider_call_answer_receipts_and_webhooks(api: Api) -> None:
    record = delivered_sms()
    api.put_messages(record)
    text = record["content"]["text"]
    api.log(api.state.provider_requests_log,
            sms_request("m-sms-1", "447700900000", text, 1.1, "F244CB526D5F3F03"),
            sms_request("m-other", "447700900000", text, 1.1, "AAAA000011112222"))  # another message, same number
    api.log(api.state.provider_reports_log,
            {"provider": "sms", "report": "delivered", "message_id": "F244CB526D5F3F03", "recipient": "447700900000",
             "attempt": 1, "sent_at": at(2.1), "method": "POST", "path": "/webhooks/sms/dlr",
             "body": {"messageId": "F244CB526D5F3F03", "status": "delivered"}, "response_status": 200},
            {"provider": "sms", "report": "delivered", "message_id": "AAAA000011112222", "recipient": "447700900000",
             "attempt": 1, "sent_at": at(2.1), "method": "POST", "path": "/webhooks/sms/dlr", "body": {},
             "response_status": 200})
    submitted_body = {"message_uuid": "m-sms-1", "status": "submitted", "timestamp": at(1.2)}
    delivered_body = {"message_uuid": "m-sms-1", "status": "delivered", "timestamp": at(2.3)}
    api.log(api.state.webhooks_log,
            sink_record(submitted_body, 1.3),
            sink_record({"message_uuid": "m-other", "status": "submitted"}, 1.3),
            sink_record(delivered_body, 7.5, valid=False))

    data = api.get("/_console/api/messages/m-sms-1")

    assert [(s["status"], s["label"]) for s in data["timeline"]] == [
        ("accepted", "accepted"), ("sending", "sending"), ("submitted", "submitted"), ("delivered", "delivered"),
    ]
    assert data["timeline"][-1]["provider_time"] == at(2.0)

    (exchange,) = data["provider_exchanges"]
    assert exchange["matched_by"] == "client-ref"
    assert exchange["body"]["api_secret"] == "***"
    assert exchange["response_body"]["messages"][0]["message-id"] == "F244CB526D5F3F03"
    assert [r["message_id"] for r in data["provider_reports"]] == ["F244CB526D5F3F03"]

    submitted, delivered_failed, delivered = data["webhooks"]
    assert submitted["webhook"] == "status:submitted"
    assert submitted["delivery"]["url"] == "http://127.0.0.1:46641/webhooks/status"
    assert submitted["delivery"]["body"] == submitted_body
    assert submitted["delivery"]["signature"]["valid"] is True
    assert submitted["delivery"]["signature"]["claims"]["payload_hash"] == hashlib.sha256(
        json.dumps(submitted_body).encode()).hexdigest()
    assert submitted["delivery"]["signature"]["header"]["alg"] == "HS256"
    # The failed attempt got no copy at the sink; its retry is due 5 s after it.
    assert delivered_failed["attempt"]["http_status"] == 503 and "delivery" not in delivered_failed
    assert delivered_failed["next_attempt_due_at"] == at(7.4)
    assert delivered["attempt"]["attempt"] == 2
    assert delivered["delivery"]["signature"]["valid"] is False

    sms = data["preview"]["sms"]
    assert data["preview"]["kind"] == "sms"
    assert (sms["encoding"], sms["encoding_from"]) == ("UCS-2", "the request sent to the SMS API")
    assert (sms["characters"], sms["part_count"]) == (83, 2)
    assert data["record"]["provider_message_id"] == "F244CB526D5F3F03"


def test_failed_attempts_are_matched_by_recipient_content_and_time_and_retries_are_on_the_timeline(api: Api) -> None:
    viber_to = {"type": "viber_service_msg", "number": "447700900005"}
    api.put_messages(outbound(
        "m-viber", "viber_service_msg", viber_to, "flaky", status="submitted", created=10,
        provider_message_id="2167951282962418448",
        history=[
            {"status": "accepted", "timestamp": at(10)},
            {"status": "sending", "timestamp": at(11)},
            {"status": "accepted", "timestamp": at(11.3), "event": "retry_scheduled", "attempt": 1,
             "error": {"code": 1100, "reason": "Communication Failed"}, "retry_in_seconds": 2},
            {"status": "sending", "timestamp": at(13.4)},
            {"status": "submitted", "timestamp": at(13.6)},
        ],
    ))

    def viber_call(received: float, text: str, status: int, answer: dict[str, Any]) -> dict[str, Any]:
        return {"provider": "viber", "method": "POST", "path": "/viber/send_message",
                "body": {"service_id": 16273, "dest": "447700900005", "seq": 7, "type": 206,
                         "message": {"#txt": text}, "label": "transaction"},
                "response_status": status, "response_body": answer, "received_at": at(received)}

    failure = {"status": 1, "status_message": "SRVC_INTERNAL_FAILURE", "seq": 7}
    api.log(api.state.provider_requests_log,
            viber_call(2, "flaky", 500, failure),  # the same recipient and text, before this message existed
            viber_call(11.2, "flaky", 500, failure),
            viber_call(11.2, "another text", 500, failure),
            viber_call(13.5, "flaky", 200, {"status": 0, "status_message": "SRVC_SUCCESS", "seq": 7,
                                            "message_token": 2167951282962418448}),
            viber_call(13.5, "flaky", 200, {"status": 0, "message_token": 1}))  # another message's acceptance

    data = api.get("/_console/api/messages/m-viber")

    assert [(e["received_at"], e["response_status"], e["matched_by"]) for e in data["provider_exchanges"]] == [
        (at(11.2), 500, "recipient, content and time"),
        (at(13.5), 200, "provider message id"),
    ]
    # Shown as the stack formats it: the token is past 2**53, where a browser's JSON numbers round.
    assert '"message_token": 2167951282962418448' in data["provider_exchanges"][1]["response_body_text"]
    retry = data["timeline"][2]
    assert retry["kind"] == "retry"
    assert retry["error"] == {"code": 1100, "reason": "Communication Failed"}
    assert retry["next_attempt_at"] == at(13.3)
    assert data["preview"] == {
        "channel": "viber_service_msg", "channel_label": "Viber", "direction": "outbound", "from": VIBER_SERVICE,
        "to": "447700900005", "content": {"type": "text", "text": "flaky"}, "kind": "chat",
    }


def test_a_workflow_message_shows_its_workflow_steps_and_the_time_left_on_the_timer(api: Api) -> None:
    first = outbound("m-step-0", "messenger", {"type": "messenger", "id": "1234560004"}, "Your code is 1234",
                     status="delivered", workflow_uuid="w-1", workflow_step=0)
    api.put_messages(first)
    api.put(api.state.workflows_table, {
        "workflow_uuid": "w-1", "flavour": "dispatch", "template": "failover", "api_key": ACCOUNT,
        "steps": [
            {"message": {k: first[k] for k in ("channel", "from", "to", "content", "api_version")},
             "message_uuid": "m-step-0", "failover": {"expiry_time": 30, "condition_status": "read"}},
            {"message": {"channel": "sms", "from": {"type": "sms", "number": SMS_FROM},
                         "to": {"type": "sms", "number": "447700900000"},
                         "content": {"type": "text", "text": "Your code is 1234"}, "api_version": "v0.1"},
             "message_uuid": "m-step-1"},
        ],
        "current_step": 0, "started_at": {"0": at(0)}, "due_at": {"0": int(T0) + 72}, "status": "in_progress",
        "history": [{"timestamp": at(0), "event": "created"}], "created_at": at(0), "updated_at": at(0),
    })

    workflow = api.get("/_console/api/messages/m-step-0")["workflow"]  # the console's clock: T0 + 60

    assert (workflow["workflow_uuid"], workflow["status"], workflow["current_step"]) == ("w-1", "in_progress", 0)
    step0, step1 = workflow["steps"]
    assert (step0["state"], step0["current"], step0["seconds_left"]) == ("delivered", True, 12.0)
    assert step0["failover"] == {"expiry_time": 30, "condition_status": "read"}
    assert (step1["state"], step1["current"], step1["channel_label"]) == ("not started", False, "SMS")
    assert "seconds_left" not in step1

    listed = api.get("/_console/api/workflows")
    assert [w["workflow_uuid"] for w in listed["workflows"]] == ["w-1"]
    assert listed["workflows"][0]["steps"][0]["seconds_left"] == 12.0
    assert listed["now"] == T0 + 60


def test_an_unknown_message_is_a_404_problem(api: Api) -> None:
    seed_list(api)

    for target in ("/_console/api/messages/nope", f"/_console/api/messages/inbound-dedupe%23{ACCOUNT}"):
        response = api.call("GET", target)
        assert response.status == 404
        assert response.header("Content-Type") == "application/problem+json"


# -- live updates -------------------------------------------------------------------------------------------


def sse_fields(response: HttpResponse) -> dict[str, str]:
    assert response.status == 200
    assert response.header("Content-Type").startswith("text/event-stream")
    fields: dict[str, str] = {}
    for line in response.body.decode().splitlines():
        name, sep, value = line.partition(": ")
        if sep and name:
            fields[name] = value
    return fields


def test_the_event_stream_answers_with_a_change_as_soon_as_the_data_changes(api: Api) -> None:
    version = api.get("/_console/api/messages")["version"]

    started = time.monotonic()
    quiet = sse_fields(api.call("GET", f"/_console/api/events?since={version}"))
    assert time.monotonic() - started >= 0.5  # it waited for a change that did not come
    assert quiet["id"] == version and "event" not in quiet
    assert quiet["retry"] == "300"

    api.put_messages(outbound("m-new", "sms", {"type": "sms", "number": "447700900000"}, "new"))
    time.sleep(0.3)  # past the feed's minimum interval
    changed = sse_fields(api.call("GET", "/_console/api/events", headers=[("Host", "localhost:3000"),
                                                                           ("Last-Event-ID", version)]))
    assert changed["event"] == "change"
    assert changed["id"] != version
    assert json.loads(changed["data"]) == {"version": changed["id"]}

    time.sleep(0.3)
    api.log(api.state.webhooks_log, sink_record({"message_uuid": "m-new", "status": "submitted"}, 1))
    after_log = sse_fields(api.call("GET", f"/_console/api/events?since={changed['id']}"))
    assert after_log["event"] == "change" and after_log["id"] != changed["id"]


# -- actions ----------------------------------------------------------------------------------------------------


def test_reply_on_messenger_sends_a_signed_inbound_message_from_the_recipient_to_the_page(api: Api) -> None:
    api.put_messages(outbound("m-msgr", "messenger", {"type": "messenger", "id": "1234567890"}, "hi"))

    result = api.post("/_console/api/messages/m-msgr/reply", {"text": "Thanks, see you at 7!"})

    (webhook,) = api.sent
    assert (webhook.method, webhook.path) == ("POST", "/webhooks/messenger")
    expected = hmac.new(b"messenger-app-secret", webhook.body, hashlib.sha256).hexdigest()
    assert webhook.headers["X-Hub-Signature-256"] == f"sha256={expected}"
    envelope = json.loads(webhook.body)
    (entry,) = envelope["entry"]
    (event,) = entry["messaging"]
    assert (envelope["object"], entry["id"]) == ("page", PAGE)
    assert (event["sender"], event["recipient"]) == ({"id": "1234567890"}, {"id": PAGE})
    assert event["message"]["text"] == "Thanks, see you at 7!"
    assert event["message"]["mid"].startswith("m_console-")
    assert result["request"]["url"] == "http://127.0.0.1:3000/webhooks/messenger"
    assert result["response"] == {"status": 200, "body": "OK", "body_text": "OK"}

    api.post("/_console/api/messages/m-msgr/reply", {"text": "again"})
    assert json.loads(api.sent[1].body)["entry"][0]["messaging"][0]["message"]["mid"] != event["message"]["mid"]


def sms_sig(params: dict[str, str], secret: str) -> str:
    signed = "".join(f"&{k}={params[k].replace('&', '_').replace('=', '_')}" for k in sorted(params) if k != "sig")
    return hashlib.md5((signed + secret).encode()).hexdigest()


def test_reply_on_sms_sends_a_signed_inbound_sms_from_the_recipient_to_our_number(api: Api) -> None:
    api.put_messages(outbound("m-sms", "sms", {"type": "sms", "number": "447700900123"}, "hi"))

    api.post("/_console/api/messages/m-sms/reply", {"text": "stop please"})

    (webhook,) = api.sent
    assert webhook.path == "/webhooks/sms/inbound"
    params = json.loads(webhook.body)
    assert (params["msisdn"], params["to"], params["text"], params["keyword"]) == (
        "447700900123", SMS_FROM, "stop please", "STOP")
    assert params["sig"] == sms_sig(params, "sms-signature-secret")
    assert abs(int(params["timestamp"]) - time.time()) < 60


@pytest.mark.parametrize(
    ("channel", "to", "status", "path", "check"),
    [
        ("viber_service_msg", {"type": "viber_service_msg", "number": "447700900077"}, "read", "/webhooks/viber",
         lambda body, headers: body["message_status"] == 1 and body["message_token"] == 42
         and headers["X-Viber-Content-Signature"] == hmac.new(b"viber-callback-secret", json.dumps(body).encode(),
                                                               hashlib.sha256).hexdigest()),
        ("viber_service_msg", {"type": "viber_service_msg", "number": "447700900077"}, "failed", "/webhooks/viber",
         lambda body, headers: body["message_status"] == 2),
        ("sms", {"type": "sms", "number": "447700900000"}, "failed", "/webhooks/sms/dlr",
         lambda body, headers: body["status"] == "failed" and body["messageId"] == "42"
         and body["client-ref"] == "m-1" and body["sig"] == sms_sig(body, "sms-signature-secret")),
        ("messenger", {"type": "messenger", "id": "1234567890"}, "delivered", "/webhooks/messenger",
         lambda body, headers: body["entry"][0]["messaging"][0]["delivery"]["mids"] == ["42"]),
    ],
)
def test_receipts_are_the_providers_signed_webhooks_for_the_message(
    api: Api, channel: str, to: dict[str, str], status: str, path: str, check: Callable[..., bool]
) -> None:
    api.put_messages(outbound("m-1", channel, to, "hi", provider_message_id="42"))

    api.post("/_console/api/messages/m-1/receipts", {"status": status})

    (webhook,) = api.sent
    assert webhook.path == path
    body = (dict(parse_qsl(webhook.body.decode())) if path == "/webhooks/sms/dlr" else json.loads(webhook.body))
    assert check(body, webhook.headers)


def test_actions_that_do_not_apply_are_refused_with_the_reason_and_shown_so(api: Api) -> None:
    api.put_messages(
        outbound("m-msgr", "messenger", {"type": "messenger", "id": "1234567890"}, "hi", provider_message_id="mid.1"),
        outbound("m-sms", "sms", {"type": "sms", "number": "447700900000"}, "hi", provider_message_id="AB12"),
        outbound("m-viber", "viber_service_msg", {"type": "viber_service_msg", "number": "447700900077"}, "hi"),
        inbound("m-in", "hello", created=1),
    )

    refusals = [
        ("m-msgr", "receipts", {"status": "failed"}, "Messenger has no failure receipt"),
        ("m-sms", "receipts", {"status": "read"}, "the SMS API has no read receipt"),
        ("m-viber", "receipts", {"status": "delivered"}, "the provider has not accepted this message"),
        ("m-viber", "reply", {"text": "hi"}, "Viber Service Messages carry no inbound messages"),
        ("m-in", "reply", {"text": "hi"}, "this message came from the user"),
        ("m-in", "receipts", {"status": "read"}, "receipts are for messages sent to a user"),
    ]
    for uuid, action, body, reason in refusals:
        problem = api.post(f"/_console/api/messages/{uuid}/{action}", body, status=409)
        assert reason in problem["detail"]
    assert api.sent == []

    shown = api.get("/_console/api/messages/m-msgr")["actions"]
    assert {name: offered["available"] for name, offered in shown.items()} == {
        "reply": True, "delivered": True, "read": True, "failed": False}
    assert shown["failed"]["reason"].startswith("Messenger has no failure receipt")
    assert api.get("/_console/api/messages/m-sms")["actions"]["read"]["available"] is False


@pytest.mark.parametrize(
    ("action", "body", "detail"),
    [
        ("reply", {"text": "  "}, "the reply needs a text"),
        ("reply", {}, "the reply needs a text"),
        ("receipts", {"status": "seen"}, "status must be one of delivered, read, failed"),
        ("receipts", [], "the body must be a JSON object"),
        ("receipts", b"{not json", "the body is not JSON"),
    ],
)
def test_malformed_actions_are_a_400_problem(api: Api, action: str, body: Any, detail: str) -> None:
    api.put_messages(outbound("m-sms", "sms", {"type": "sms", "number": "447700900000"}, "hi", provider_message_id="A"))

    assert api.post(f"/_console/api/messages/m-sms/{action}", body, status=400)["detail"] == detail
    assert api.sent == []


# -- who may use it ----------------------------------------------------------------------------------------------


def test_only_loopback_hosts_are_answered(api: Api) -> None:
    for host in ("127.0.0.1:3000", "localhost:3000", "[::1]:3000", "LOCALHOST"):
        assert api.call("GET", "/_console/api/messages", headers=[("Host", host)]).status == 200
    for headers in ([("Host", "evil.example:3000")], [("Host", "127.0.0.1.evil.example")], []):
        response = api.call("GET", "/_console/api/messages", headers=headers)
        assert response.status == 403
        assert "loopback" in json.loads(response.body)["detail"]


def test_actions_take_only_json_from_the_consoles_own_origin(api: Api) -> None:
    api.put_messages(outbound("m-sms", "sms", {"type": "sms", "number": "447700900000"}, "hi", provider_message_id="A"))
    target = "/_console/api/messages/m-sms/receipts"
    body = json.dumps({"status": "delivered"}).encode()
    host = ("Host", "127.0.0.1:3000")

    form = api.call("POST", target, b"status=delivered", [host, ("Content-Type", "application/x-www-form-urlencoded")])
    plain = api.call("POST", target, body, [host, ("Content-Type", "text/plain")])
    cross_site = api.call("POST", target, body, [host, ("Content-Type", "application/json"),
                                                 ("Origin", "https://evil.example")])
    other_port = api.call("POST", target, body, [host, ("Content-Type", "application/json"),
                                                 ("Origin", "http://127.0.0.1:8080")])
    assert [r.status for r in (form, plain, cross_site, other_port)] == [415, 415, 403, 403]
    assert api.sent == []

    same_origin = api.call("POST", target, body, [host, ("Content-Type", "application/json"),
                                                  ("Origin", "http://127.0.0.1:3000")])
    assert same_origin.status == 200
    assert len(api.sent) == 1


# -- pages -------------------------------------------------------------------------------------------------------------


def test_pages_and_static_files_are_served_from_the_package_with_a_strict_policy(api: Api) -> None:
    for target in ("/_console/", "/_console/messages/m-1", "/_console/workflows"):
        page = api.call("GET", target)
        assert page.status == 200
        assert page.header("Content-Type") == "text/html; charset=utf-8"
        assert b'<script src="/_console/static/console.js"' in page.body
        policy = page.header("Content-Security-Policy")
        assert "script-src 'self'" in policy and "connect-src 'self'" in policy and "default-src 'none'" in policy
    script = api.call("GET", "/_console/static/console.js")
    assert (script.status, script.header("Content-Type")) == (200, "text/javascript; charset=utf-8")
    assert api.call("GET", "/_console/static/console.css").header("Content-Type") == "text/css; charset=utf-8"
    redirect = api.call("GET", "/_console")
    assert (redirect.status, redirect.header("Location")) == (308, "/_console/")
    for missing in ("/_console/static/../app.py", "/_console/static/app.py", "/_console/nope"):
        assert api.call("GET", missing).status == 404
    assert api.call("DELETE", "/_console/api/messages").status == 405
    assert api.call("POST", "/_console/").status == 405


def test_nothing_in_the_pages_comes_from_another_origin() -> None:
    from local_stack.console.app import STATIC_DIR

    pages = list(STATIC_DIR.iterdir())
    assert pages
    for path in pages:
        text = path.read_text(encoding="utf-8")
        assert set(re.findall(r"(?:https?:)?//[\w.-]+\.[a-z]{2,}[^\s\"'<>)]*", text)) <= {"http://www.w3.org/2000/svg"}
        assert "@import" not in text and "url(" not in text, path.name


def test_before_the_stack_wrote_its_state_the_console_says_it_is_not_ready(tmp_path: Path) -> None:
    console = Console(tmp_path)

    response = console.handle(HttpRequest("GET", "/_console/api/messages", [("Host", "127.0.0.1")], b"", "127.0.0.1"))

    assert response.status == 503
    assert "not ready" in json.loads(response.body)["detail"]


def test_background_reads_stay_out_of_the_stacks_access_log_and_actions_do_not(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    access_log = logging.getLogger("local_stack.http_listener")
    with caplog.at_level(logging.INFO, logger="local_stack.http_listener"):
        for line in ('"GET /_console/api/events?since=abc HTTP/1.1" 200 -',
                     '"GET /_console/api/messages HTTP/1.1" 200 -',
                     '"GET /_console/ HTTP/1.1" 200 -',
                     '"POST /_console/api/messages/m-1/reply HTTP/1.1" 200 -',
                     '"GET /v1/messages/m-1 HTTP/1.1" 200 -'):
            access_log.info("%s %s", "127.0.0.1", line)

    assert [record.getMessage().split('"')[1] for record in caplog.records] == [
        "GET /_console/ HTTP/1.1", "POST /_console/api/messages/m-1/reply HTTP/1.1", "GET /v1/messages/m-1 HTTP/1.1",
    ]


@pytest.mark.parametrize(
    ("message", "content"),
    [
        ({"#txt": "hello"}, "hello"),
        ({"#txt": "hello", "#caption": "Open", "#action": "https://e.x/go"}, "hello"),
        ({"#img": "https://e.x/a.jpg", "#txt": "a caption", "#caption": "", "#action": ""}, "https://e.x/a.jpg"),
        ({"#action": "https://e.x/v.mp4", "#thumbnail": "https://e.x/t.jpg", "#txt": "watch"}, "https://e.x/v.mp4"),
        ({"#media": "https://e.x/v.mp4", "#thumbnail": "https://e.x/t.jpg", "#action": "https://e.x/go"},
         "https://e.x/v.mp4"),
        ({"#action": "https://e.x/r.pdf", "#fileName": "r.pdf"}, "https://e.x/r.pdf"),
    ],
    ids=["text", "text-button", "image-caption", "video", "video-button", "file"],
)
def test_a_viber_request_is_matched_by_its_media_url_or_else_its_text(message: dict[str, Any], content: str) -> None:
    from local_stack.console.views import request_content

    request = {"provider": "viber", "body": {"dest": "447700900005", "type": 106, "message": message}}
    assert request_content(request) == content
