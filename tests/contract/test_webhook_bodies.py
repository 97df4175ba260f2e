"""Golden customer webhook bodies, in both shapes, checked against JSON Schemas written from the OpenAPI documents.

For every status (submitted, delivered, read where the channel has it, rejected, undeliverable)
and every inbound content type of each channel, the body is built from a message record, compared
with its golden file under ``golden/`` and validated against its schema under ``schemas/``
(``schemas/README.md`` names the source of each). v1 bodies come from
``switchboard.domain.webhook_bodies``; 2018 (v0.1) bodies from today's builders in
``switchboard.domain.notification``.

A deliberate change of a body: ``SWITCHBOARD_UPDATE_GOLDEN=1`` rewrites the golden files (review the diff).
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import jwt
import pytest
from jsonschema import Draft202012Validator
from vonage_jwt.verify_jwt import verify_signature

from switchboard.domain.message import Channel
from switchboard.domain.notification import STATUS_KIND, Notification, inbound_body, status_body
from switchboard.domain.webhook_bodies import V0_1, V1, V1_CHANNEL_NAMES, SmsStatusExtras, v1_inbound_body, v1_status_body
from switchboard.notifier.webhook_signing import webhook_token

HERE = Path(__file__).parent
SCHEMAS = HERE / "schemas"
GOLDEN = HERE / "golden"
UPDATE = os.environ.get("SWITCHBOARD_UPDATE_GOLDEN") == "1"

OCCURRED_AT = "2026-09-21T14:13:20.250Z"
RECEIVED_AT = "2026-09-21T14:13:21.500Z"
SIGNATURE_SECRET = "a-signature-secret-of-forty-characters-00"

OUTBOUND: dict[Channel, dict[str, Any]] = {
    Channel.SMS: {
        "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-000000000001",
        "channel": "sms",
        "from": {"type": "sms", "number": "447700900001"},
        "to": {"type": "sms", "number": "447700900000"},
        "api_version": "v1",
        "client_ref": "order-42",
        "api_key": "abcd1234",
    },
    Channel.MESSENGER: {
        "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-000000000002",
        "channel": "messenger",
        "from": {"type": "messenger", "id": "107083064136738"},
        "to": {"type": "messenger", "id": "1234567890"},
        "api_version": "v0.1",
        "api_key": "abcd1234",
        "application_id": "11111111-2222-4333-8444-555555555555",
    },
    Channel.VIBER: {
        "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-000000000003",
        "channel": "viber_service_msg",
        "from": {"type": "viber_service_msg", "id": "16273"},
        "to": {"type": "viber_service_msg", "number": "447700900002"},
        "api_version": "beta",
        "client_ref": "campaign-7",
        "api_key": "abcd1234",
    },
}
ERRORS: dict[Channel, dict[str, dict[str, Any]]] = {
    Channel.SMS: {"rejected": {"code": 1050, "reason": "Number barred"},
                  "undeliverable": {"code": 1180, "reason": "Absent Subscriber Temporary"}},
    Channel.MESSENGER: {"rejected": {"code": 1300, "reason": "Not part of the provider network"},
                        "undeliverable": {"code": 1100, "reason": "Communication Failed"}},
    Channel.VIBER: {"rejected": {"code": 1260, "reason": "Destination unreachable"},
                    "undeliverable": {"code": 1360, "reason": "TTL was activated (no callbacks and no charge)"}},
}
STATUSES: dict[Channel, tuple[str, ...]] = {
    Channel.SMS: ("submitted", "delivered", "rejected", "undeliverable"),
    Channel.MESSENGER: ("submitted", "delivered", "read", "rejected", "undeliverable"),
    Channel.VIBER: ("submitted", "delivered", "read", "rejected", "undeliverable"),
}
# A delivered multipart SMS whose receipt named the destination network.
SMS_EXTRAS = {"delivered": SmsStatusExtras(count_total=3, network_code="23410"), "submitted": SmsStatusExtras(count_total=3)}

WORKFLOW_STEPS = {
    # the first step of a v1 failover, rejected; the second step of a v0.1 dispatch, delivered
    "v1-failover-step": (
        {**OUTBOUND[Channel.MESSENGER], "api_version": "v1", "workflow_uuid": "cccccccc-dddd-4eee-8fff-000000000001",
         "workflow_step": 0},
        "rejected",
    ),
    "dispatch-step": (
        {**OUTBOUND[Channel.SMS], "api_version": "v0.1", "workflow_uuid": "cccccccc-dddd-4eee-8fff-000000000002",
         "workflow_step": 1},
        "delivered",
    ),
}


def inbound_record(channel: Channel, content: dict[str, Any], n: int) -> dict[str, Any]:
    user, ours = {
        Channel.SMS: ({"type": "sms", "number": "447700900003"}, {"type": "sms", "number": "447700900001"}),
        Channel.MESSENGER: ({"type": "messenger", "id": "1234567890"}, {"type": "messenger", "id": "107083064136738"}),
        Channel.VIBER: ({"type": "viber_service_msg", "number": "447700900002"}, {"type": "viber_service_msg", "id": "16273"}),
    }[channel]
    return {
        "message_uuid": f"bbbbbbbb-cccc-4ddd-8eee-{n:012d}",
        "direction": "inbound",
        "channel": channel.value,
        "from": user,
        "to": ours,
        "content": content,
        "timestamp": RECEIVED_AT,
        "status": "received",
        "api_key": "abcd1234",
    }


def media(kind: str) -> dict[str, Any]:
    return {"type": kind, kind: {"url": f"https://cdn.example.com/inbound/{kind}.bin"}}


INBOUND_CONTENT: dict[Channel, dict[str, dict[str, Any]]] = {
    Channel.SMS: {"text": {"type": "text", "text": "stop sending me offers"}},
    Channel.MESSENGER: {
        "text": {"type": "text", "text": "Hello from Facebook Messenger!"},
        **{kind: media(kind) for kind in ("image", "audio", "video", "file")},
        "location": {"type": "location", "location": {"lat": "51.5033635", "long": "-0.1276248",
                                                      "url": "https://www.bing.com/maps/?v=2&cp=51.5033635~-0.1276248"}},
    },
    # Switchboard receives no Viber inbound messages today; these pin the shape for when it does.
    Channel.VIBER: {
        "text": {"type": "text", "text": "Thanks!"},
        **{kind: media(kind) for kind in ("image", "video", "file")},
    },
}
# The 2018 (v0.1) Viber inbound document has text and unsupported only.
V0_1_INBOUND_TYPES = {Channel.SMS: ("text",), Channel.MESSENGER: tuple(INBOUND_CONTENT[Channel.MESSENGER]),
                      Channel.VIBER: ("text",)}


def channel_name(version: str, channel: Channel) -> str:
    return V1_CHANNEL_NAMES[channel] if version == V1 else channel.value


@cache
def validator(version: str, kind: str, channel: Channel) -> Draft202012Validator:
    name = "message-status" if kind == STATUS_KIND else "inbound-message"
    schema = json.loads((SCHEMAS / version / f"{name}-{channel_name(version, channel)}.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def errors_of(version: str, kind: str, channel: Channel, body: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator(version, kind, channel).iter_errors(body)]


def check_golden(relative: str, body: dict[str, Any]) -> None:
    path = GOLDEN / relative
    text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {relative}: run with SWITCHBOARD_UPDATE_GOLDEN=1 and review it"
    assert json.loads(path.read_text()) == body, f"{relative} differs from the body built now"


STATUS_CASES = [(c, s) for c in OUTBOUND for s in STATUSES[c]]
INBOUND_CASES = [(c, t) for c in INBOUND_CONTENT for t in INBOUND_CONTENT[c]]


def _status_id(case: tuple[Channel, str]) -> str:
    return f"{case[0].value}-{case[1]}"


@pytest.mark.parametrize("case", STATUS_CASES, ids=_status_id)
def test_v1_status_body_matches_its_golden_file_and_the_v1_schema(case: tuple[Channel, str]) -> None:
    channel, state = case
    body = v1_status_body(OUTBOUND[channel], state, OCCURRED_AT, ERRORS[channel].get(state),
                          sms=SMS_EXTRAS.get(state) if channel is Channel.SMS else None)
    check_golden(f"v1/status-{channel_name(V1, channel)}-{state}.json", body)
    assert errors_of(V1, STATUS_KIND, channel, body) == []


@pytest.mark.parametrize("case", STATUS_CASES, ids=_status_id)
def test_2018_status_body_matches_its_golden_file_and_the_v0_1_schema(case: tuple[Channel, str]) -> None:
    channel, state = case
    body = status_body(OUTBOUND[channel], state, OCCURRED_AT, ERRORS[channel].get(state))
    check_golden(f"v0.1/status-{channel.value}-{state}.json", body)
    assert errors_of(V0_1, STATUS_KIND, channel, body) == []


@pytest.mark.parametrize("name", sorted(WORKFLOW_STEPS))
def test_workflow_step_status_in_both_shapes(name: str) -> None:
    record, state = WORKFLOW_STEPS[name]
    channel = Channel(record["channel"])
    error = ERRORS[channel].get(state)
    v1 = v1_status_body(record, state, OCCURRED_AT, error)
    check_golden(f"v1/status-{name}.json", v1)
    assert errors_of(V1, STATUS_KIND, channel, v1) == []
    assert v1["workflow"] == {"workflow_id": record["workflow_uuid"], "status": "in_progress",
                              "items_number": str(record["workflow_step"] + 1)}
    v0_1 = status_body(record, state, OCCURRED_AT, error)
    check_golden(f"v0.1/status-{name}.json", v0_1)
    assert errors_of(V0_1, STATUS_KIND, channel, v0_1) == []


def _inbound_id(case: tuple[Channel, str]) -> str:
    return f"{case[0].value}-{case[1]}"


@pytest.mark.parametrize("case", INBOUND_CASES, ids=_inbound_id)
def test_v1_inbound_body_matches_its_golden_file_and_the_v1_schema(case: tuple[Channel, str]) -> None:
    channel, kind = case
    body = v1_inbound_body(inbound_record(channel, INBOUND_CONTENT[channel][kind], INBOUND_CASES.index(case)))
    check_golden(f"v1/inbound-{channel_name(V1, channel)}-{kind}.json", body)
    assert errors_of(V1, "inbound", channel, body) == []


@pytest.mark.parametrize("case", [(c, t) for c, t in INBOUND_CASES if t in V0_1_INBOUND_TYPES[c]], ids=_inbound_id)
def test_2018_inbound_body_matches_its_golden_file_and_the_v0_1_schema(case: tuple[Channel, str]) -> None:
    channel, kind = case
    body = inbound_body(inbound_record(channel, INBOUND_CONTENT[channel][kind], INBOUND_CASES.index(case)))
    check_golden(f"v0.1/inbound-{channel.value}-{kind}.json", body)
    assert errors_of(V0_1, "inbound", channel, body) == []


def test_every_golden_file_is_produced_by_a_case() -> None:
    """A golden file no case writes any more is a stale contract: delete it with the case."""
    produced = {f"v1/status-{channel_name(V1, c)}-{s}.json" for c, s in STATUS_CASES}
    produced |= {f"v0.1/status-{c.value}-{s}.json" for c, s in STATUS_CASES}
    produced |= {f"{v}/status-{name}.json" for v in (V1, V0_1) for name in WORKFLOW_STEPS}
    produced |= {f"v1/inbound-{channel_name(V1, c)}-{t}.json" for c, t in INBOUND_CASES}
    produced |= {f"v0.1/inbound-{c.value}-{t}.json" for c, t in INBOUND_CASES if t in V0_1_INBOUND_TYPES[c]}
    on_disk = {str(p.relative_to(GOLDEN)) for p in GOLDEN.rglob("*.json")}
    assert on_disk == produced


# -- the schemas tell the two shapes apart (so a body validating is not a schema accepting anything) --


@pytest.mark.parametrize("case", STATUS_CASES, ids=_status_id)
def test_each_status_shape_fails_the_other_versions_schema(case: tuple[Channel, str]) -> None:
    channel, state = case
    error = ERRORS[channel].get(state)
    assert errors_of(V0_1, STATUS_KIND, channel, v1_status_body(OUTBOUND[channel], state, OCCURRED_AT, error))
    assert errors_of(V1, STATUS_KIND, channel, status_body(OUTBOUND[channel], state, OCCURRED_AT, error))


@pytest.mark.parametrize("case", [(c, t) for c, t in INBOUND_CASES if t in V0_1_INBOUND_TYPES[c]], ids=_inbound_id)
def test_each_inbound_shape_fails_the_other_versions_schema(case: tuple[Channel, str]) -> None:
    channel, kind = case
    record = inbound_record(channel, INBOUND_CONTENT[channel][kind], 0)
    assert errors_of(V0_1, "inbound", channel, v1_inbound_body(record))
    assert errors_of(V1, "inbound", channel, inbound_body(record))


def v1_sms_rejected() -> dict[str, Any]:
    return v1_status_body(OUTBOUND[Channel.SMS], "rejected", OCCURRED_AT, ERRORS[Channel.SMS]["rejected"])


@pytest.mark.parametrize(
    "change, complaint",
    [
        (lambda b: b.update(to={"type": "sms", "number": b["to"]}), "to"),
        (lambda b: b["error"].pop("instance"), "error"),
        (lambda b: b["error"].update(code=1050), "error"),
        (lambda b: b.update(status="read"), "status"),
        (lambda b: b.update(channel="viber_service_msg"), "channel"),
        (lambda b: b.pop("channel"), ""),
        (lambda b: b.update(client_ref="x" * 101), "client_ref"),
        (lambda b: b.update(sms={"count_total": 3}), "sms/count_total"),
        (lambda b: b.update(timestamp="2026-09-21 14:13:20"), "timestamp"),
    ],
    ids=["nested-to", "error-without-instance", "error-with-2018-code", "sms-read", "2018-channel-name",
         "no-channel", "client-ref-too-long", "count-total-not-a-string", "timestamp-not-iso"],
)
def test_the_v1_status_schema_refuses_near_misses(change: Any, complaint: str) -> None:
    body = v1_sms_rejected()
    assert errors_of(V1, STATUS_KIND, Channel.SMS, body) == []
    change(body)
    errors = errors_of(V1, STATUS_KIND, Channel.SMS, body)
    assert errors and any(e.startswith(complaint) for e in errors), errors


def test_the_v1_inbound_schema_refuses_a_field_of_another_message_type() -> None:
    body = v1_inbound_body(inbound_record(Channel.MESSENGER, INBOUND_CONTENT[Channel.MESSENGER]["text"], 0))
    assert errors_of(V1, "inbound", Channel.MESSENGER, body) == []
    body["image"] = {"url": "https://cdn.example.com/x.jpg"}
    assert errors_of(V1, "inbound", Channel.MESSENGER, body)


# -- signing does not depend on the shape ---------------------------------------------------------


@pytest.mark.parametrize("version", [V0_1, V1])
def test_both_shapes_are_signed_over_the_exact_body_bytes(version: str) -> None:
    record = OUTBOUND[Channel.SMS]
    build = v1_status_body if version == V1 else status_body
    body = build(record, "delivered", OCCURRED_AT)
    notification = Notification(kind=STATUS_KIND, message_uuid=record["message_uuid"], notification="status:delivered",
                                body=body, target={"api_key": record["api_key"]}, attempt=1, first_attempt_at=0.0)
    raw = notification.body_bytes()
    token = webhook_token(raw, SIGNATURE_SECRET, record["api_key"])
    assert verify_signature(token, SIGNATURE_SECRET)
    claims = jwt.decode(token, SIGNATURE_SECRET, algorithms=["HS256"])
    assert claims["payload_hash"] == hashlib.sha256(raw).hexdigest()
    assert json.loads(raw) == body
