"""Per-message accounting of recorded AWS calls and Lambda invocations (no AWS needed)."""
from __future__ import annotations

import pytest

from bench.aws_call_recorder import AwsCall
from bench.aws_requests import count_operations, counted, lambda_usage, message_usage
from bench.message_lifecycle import Invocation, viber_receipt, viber_webhook_route
from bench.template_functions import function_specs
from local_stack.routes import Route


def test_idle_polls_and_other_stages_are_not_counted() -> None:
    calls = [
        AwsCall("sqs", "ReceiveMessage", "warm:send", "event source mapping"),
        AwsCall("sqs", "ReceiveMessage", "warm:send", "event source mapping", found_nothing=True),
        AwsCall("dynamodb", "PutItem", "cold:accept", "ApiFunction"),
    ]
    assert counted(calls, {"warm:send"}) == calls[:1]


def test_operations_are_counted_per_message_with_their_stages_and_callers() -> None:
    calls = [
        AwsCall("dynamodb", "UpdateItem", "warm:send", "SenderFunction", write_units=2),
        AwsCall("dynamodb", "UpdateItem", "warm:send", "SenderFunction", write_units=1),
        AwsCall("dynamodb", "UpdateItem", "warm:read", "WebhooksFunction", write_units=2),
        AwsCall("sqs", "SendMessage", "warm:accept", "ApiFunction"),
    ]
    ops = {(op.service, op.operation): op for op in count_operations(calls, messages=2)}
    update = ops[("dynamodb", "UpdateItem")]
    assert update.per_message == 1.5
    assert update.by_stage == {"send": 1.0, "read": 0.5}
    assert update.by_caller == {"SenderFunction": 1.0, "WebhooksFunction": 0.5}
    usage = message_usage(calls, (), http_api_requests=3, messages=2)
    assert usage.dynamodb_write_units == 2.5
    assert usage.sqs_requests == 0.5


def test_lambda_usage_bills_whole_milliseconds_per_invocation() -> None:
    specs = function_specs()
    name = next(iter(specs))
    invocations = [
        Invocation(name, "warm:accept", 1.2),
        Invocation(name, "warm:accept", 3.0),
        Invocation(name, "cold:accept", 50),
    ]
    (usage,) = lambda_usage(invocations, {"warm:accept"}, messages=2, specs=specs)
    assert usage.invocations == 1.0
    assert usage.billed_ms == pytest.approx((2 + 3) / 2)
    assert usage.memory_mb == specs[name].config.memory_mb


def test_the_viber_route_is_found_by_its_literal_segment() -> None:
    routes = [Route("ANY", "/{proxy+}", "ApiFunction"), Route("POST", "/webhooks/viber", "WebhooksFunction")]
    assert viber_webhook_route(routes) == routes[1]
    assert viber_webhook_route(routes[:1]) is None


def test_viber_receipts_are_signed_over_the_raw_body() -> None:
    import hashlib
    import hmac

    request = viber_receipt("5741311803571721087", 0, "447700900000", "secret")
    signature = dict(request.headers)["X-Viber-Content-Signature"]
    assert signature == hmac.new(b"secret", request.body, hashlib.sha256).hexdigest()
    assert b'"message_token": 5741311803571721087' in request.body


def test_the_rate_limit_counter_has_its_own_row_with_its_write_units_and_cost() -> None:
    from bench.aws_requests import rate_limit_counter_row

    calls = [
        AwsCall("dynamodb", "UpdateItem", "warm:accept", "ApiFunction", write_units=1, table="RateLimitTable"),
        AwsCall("dynamodb", "UpdateItem", "warm:accept", "ApiFunction", write_units=1, table="RateLimitTable"),
        AwsCall("dynamodb", "PutItem", "warm:accept", "ApiFunction", write_units=2, table="MessagesTable"),
        AwsCall("sqs", "SendMessage", "warm:accept", "ApiFunction"),
    ]
    row = rate_limit_counter_row(calls, messages=2, table="RateLimitTable")
    assert (row.name, row.value, row.unit, row.runs) == ("aws_requests.rate_limit_counter", 1.0, "calls", 2)
    assert "UpdateItem 1" in row.note and "1 write units" in row.note and "0.625 USD per million" in row.note


def test_the_recorder_names_the_table_of_each_dynamodb_call() -> None:
    import boto3
    from moto import mock_aws

    from bench.aws_call_recorder import AwsCallRecorder

    recorder = AwsCallRecorder()
    recorder.install()
    try:
        with mock_aws():
            client = boto3.session.Session().client("dynamodb", region_name="us-east-1")
            client.create_table(
                TableName="Counters",
                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            recorder.recording = True
            client.update_item(
                TableName="Counters", Key={"pk": {"S": "a#1"}}, UpdateExpression="ADD #n :one",
                ExpressionAttributeNames={"#n": "count"}, ExpressionAttributeValues={":one": {"N": "1"}},
            )
    finally:
        recorder.uninstall()
    assert [(c.operation, c.table) for c in recorder.calls()] == [("UpdateItem", "Counters")]


def test_a_new_viber_contact_is_reported_as_what_it_adds_to_a_known_one() -> None:
    from bench.aws_requests import first_contact_rows
    from bench.message_lifecycle import PassResult

    first, warm = PassResult("first_contact", 2, {}), PassResult("warm", 2, {})
    first.stages = {"send": None}  # type: ignore[dict-item]
    warm.stages = {"send": None}  # type: ignore[dict-item]
    both = [
        AwsCall("dynamodb", "UpdateItem", f"{label}:send", "SenderFunction", write_units=1)
        for label in ("first_contact", "warm")
        for _ in range(2)
    ]
    contacts = [AwsCall("dynamodb", "PutItem", "first_contact:send", "SenderFunction", write_units=1)] * 2

    (row,) = first_contact_rows(first, warm, both + contacts)

    assert (row.name, row.value, row.unit) == ("aws_requests.first_contact_extra", 1.0, "calls")
    assert "dynamodb.PutItem 1" in row.note and "1 more write units" in row.note



def test_the_whatsapp_window_rows_count_only_the_contacts_table_calls_of_their_stage() -> None:
    from bench.whatsapp_window import INBOUND_STAGE, SEND_STAGE, _row, _window_calls

    calls = [
        AwsCall("dynamodb", "UpdateItem", INBOUND_STAGE, "WebhooksFunction", write_units=1.0, table="contacts"),
        AwsCall("dynamodb", "PutItem", INBOUND_STAGE, "WebhooksFunction", write_units=1.0, table="messages"),
        AwsCall("sqs", "SendMessage", INBOUND_STAGE, "WebhooksFunction"),
        AwsCall("dynamodb", "GetItem", SEND_STAGE, "ApiFunction", read_units=0.5, table="contacts"),
        AwsCall("dynamodb", "GetItem", "warm:accept", "ApiFunction", read_units=0.5, table="contacts"),
    ]

    inbound = _row("inbound", _window_calls(calls, INBOUND_STAGE, "contacts"), 1, "per inbound message")
    send = _row("free_form_send", _window_calls(calls, SEND_STAGE, "contacts"), 1, "per send")

    assert (inbound.name, inbound.value) == ("aws_requests.whatsapp_window.inbound", 1.0)
    assert inbound.note.endswith("UpdateItem: 1 write units, 0 read units")
    assert (send.name, send.value) == ("aws_requests.whatsapp_window.free_form_send", 1.0)
    assert send.note.endswith("GetItem: 0 write units, 0.5 read units")
