"""Part of measurement 4 (``aws_requests``): what the WhatsApp customer service window costs.

Every inbound WhatsApp message moves the customer's window (one conditional UpdateItem of its item
in the ContactsTable); every free-form WhatsApp send reads it before it is accepted (one eventually
consistent GetItem). Both are driven through the template's functions, with the same recorder as the
lifecycle passes: inbound messages as signed Cloud API webhooks to ``/webhooks/whatsapp``, then a
free-form reply to each customer through ``POST /v1/messages``. Only the calls on the ContactsTable
are the window's; the rest of an inbound message or a send is what any channel's costs.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

from bench.api_requests import DELIVERED_AND_READ, recipient, send_request
from bench.aws_call_recorder import AwsCall, AwsCallRecorder
from bench.message_lifecycle import EVENT_SOURCE_MAPPING, MessageLifecycle
from bench.results import Measurement
from local_stack.gateway import HttpRequest
from local_stack.simulators import DEMO_WHATSAPP_NUMBER
from local_stack.simulators.reports import whatsapp_envelope, whatsapp_signed
from tests.support.lambdas import basic_auth

CONTACTS_TABLE = "ContactsTable"
INBOUND_STAGE = "whatsapp_window:inbound"
SEND_STAGE = "whatsapp_window:free_form_send"
FIRST_SERIAL = 500  # customers no other pass writes to, each in the simulators' "delivered and read" scenario


def window_rows(lifecycle: MessageLifecycle, recorder: AwsCallRecorder, contacts_table: str, messages: int) -> list[Measurement]:
    customers = [recipient("whatsapp", DELIVERED_AND_READ, FIRST_SERIAL + index) for index in range(messages)]
    with recorder.attributed_to(stage=INBOUND_STAGE, caller=EVENT_SOURCE_MAPPING):
        for index, customer in enumerate(customers):
            _post_inbound(lifecycle, customer, index)
    with recorder.attributed_to(stage=SEND_STAGE, caller=EVENT_SOURCE_MAPPING):
        authorization = basic_auth(lifecycle.demo.api_key, lifecycle.demo.api_secret)
        for customer in customers:
            body = {"channel": "whatsapp", "message_type": "text", "from": DEMO_WHATSAPP_NUMBER, "to": customer,
                    "text": "a free-form reply inside the window"}
            response = lifecycle.gateway.handle(send_request(body, authorization))
            if response.status != 202:
                raise RuntimeError(f"the API answered {response.status}: {response.body[:300]!r}")
    lifecycle.drain_queues()  # the replies and the inbound webhooks: keep the queues empty
    calls = recorder.calls()
    return [
        _row("inbound", _window_calls(calls, INBOUND_STAGE, contacts_table), messages,
             "per inbound WhatsApp message: its window write (ContactsTable UpdateItem, conditional on an older time)"),
        _row("free_form_send", _window_calls(calls, SEND_STAGE, contacts_table), messages,
             "per free-form WhatsApp send: the window read before it is accepted (templates and other channels: none)"),
    ]


def _post_inbound(lifecycle: MessageLifecycle, customer: str, index: int) -> None:
    section = lifecycle.channels_secret["whatsapp"]
    phone_number_id = str(section["numbers"][DEMO_WHATSAPP_NUMBER]["phone_number_id"])
    message = {"from": customer, "id": f"wamid.bench-window-{index}", "timestamp": str(int(time.time())),
               "type": "text", "text": {"body": "hello"}}
    webhook = whatsapp_signed(
        whatsapp_envelope(DEMO_WHATSAPP_NUMBER, phone_number_id, "messages", [message]), str(section["app_secret"])
    )
    request = HttpRequest(webhook.method, webhook.path, list(webhook.headers.items()), webhook.body, "127.0.0.1")
    response = lifecycle.gateway.handle(request)
    if response.status != 200:
        raise RuntimeError(f"the WhatsApp webhook was answered {response.status}: {response.body[:300]!r}")


def _window_calls(calls: Sequence[AwsCall], stage: str, contacts_table: str) -> list[AwsCall]:
    return [c for c in calls if c.stage == stage and c.service == "dynamodb" and c.table == contacts_table]


def _row(subject: str, calls: Sequence[AwsCall], messages: int, note: str) -> Measurement:
    operations = sorted({c.operation for c in calls})
    writes = sum(c.write_units for c in calls) / messages
    reads = sum(c.read_units for c in calls) / messages
    return Measurement(
        name=f"aws_requests.whatsapp_window.{subject}",
        value=len(calls) / messages,
        unit="calls",
        runs=messages,
        note=f"{note}; {', '.join(operations) or 'no call'}: {writes:.3g} write units, {reads:.3g} read units",
    )
