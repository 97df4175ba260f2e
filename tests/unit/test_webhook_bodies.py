"""Which webhook shape goes out, and the v1 builders' rules beyond the golden bodies (tests/contract)."""
from __future__ import annotations

from typing import Any

import pytest

from switchboard.domain.notification import INBOUND_KIND, STATUS_KIND, WORKFLOW_KIND, inbound_body, status_body
from switchboard.domain.webhook_bodies import (
    V0_1,
    V1,
    SmsStatusExtras,
    inbound_body_for,
    select_webhook_version,
    status_body_for,
    v1_error,
    v1_inbound_body,
    v1_status_body,
)

AT = "2026-09-21T14:13:20.000Z"


def outbound(channel: str = "sms", **extra: Any) -> dict[str, Any]:
    endpoints = {
        "sms": ({"type": "sms", "number": "447700900001"}, {"type": "sms", "number": "447700900000"}),
        "messenger": ({"type": "messenger", "id": "107083064136738"}, {"type": "messenger", "id": "1234567890"}),
        "viber_service_msg": ({"type": "viber_service_msg", "id": "16273"},
                              {"type": "viber_service_msg", "number": "447700900002"}),
    }[channel]
    return {"message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", "channel": channel, "from": endpoints[0],
            "to": endpoints[1], "api_version": "v1", "api_key": "abcd1234", **extra}


def inbound(channel: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"message_uuid": "bbbbbbbb-cccc-4ddd-8eee-0123456789ab", "channel": channel,
            "from": {"type": channel, "id": "1234567890"}, "to": {"type": channel, "id": "107083064136738"},
            "content": content, "timestamp": AT}


# -- select_webhook_version -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings, sent_with, expected",
    [
        ({"message": "v1", "application": "v0.1", "account": "v0.1"}, "beta", V1),
        ({"message": "v0.1", "application": "v1", "account": "v1"}, "v1", V0_1),
        ({"application": "v1"}, "beta", V1),
        ({"application": "v0.1", "account": "v1"}, "v1", V0_1),
        ({"account": "v1"}, "v0.1", V1),
        ({"account": "v0.1"}, "v1", V0_1),
        ({}, "v1", V1),
        ({}, "v0.1", V0_1),
        ({}, "beta", V0_1),
    ],
    ids=["message-over-all", "message-v0.1-over-v1-owner", "application-over-api-version",
         "application-over-account", "account-when-application-unset", "account-over-api-version",
         "unset-v1-request", "unset-v0.1-request", "unset-beta-request"],
)
def test_status_version_message_then_application_then_account_then_api_version(
    settings: dict[str, str], sent_with: str, expected: str
) -> None:
    assert select_webhook_version(STATUS_KIND, sent_with=sent_with, **settings) == expected


@pytest.mark.parametrize(
    "settings, expected",
    [({}, V0_1), ({"application": "v1"}, V1), ({"account": "v1"}, V1), ({"application": "v0.1", "account": "v1"}, V0_1)],
    ids=["unset-is-2018", "application", "account", "application-over-account"],
)
def test_inbound_version_is_2018_unless_the_application_or_account_says_v1(settings: dict[str, str], expected: str) -> None:
    assert select_webhook_version(INBOUND_KIND, **settings) == expected


@pytest.mark.parametrize(
    "kind, arguments, message",
    [
        (STATUS_KIND, {}, "needs the API version"),
        (INBOUND_KIND, {"message": "v1"}, "no webhook_version of its own"),
        (STATUS_KIND, {"application": "v2", "sent_with": "v1"}, "unknown webhook version 'v2'"),
        (WORKFLOW_KIND, {"sent_with": "v1"}, "no webhook version applies"),
    ],
    ids=["status-without-api-version", "inbound-with-message-setting", "unknown-version", "workflow-report"],
)
def test_select_webhook_version_refuses_what_it_cannot_decide(kind: str, arguments: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        select_webhook_version(kind, **arguments)


# -- dispatch by version --------------------------------------------------------------------------


def test_status_body_for_builds_the_chosen_shape() -> None:
    record, error = outbound(client_ref="r1"), {"code": 1050, "reason": "Number barred"}
    assert status_body_for(V0_1, record, "rejected", AT, error) == status_body(record, "rejected", AT, error)
    assert status_body_for(V1, record, "rejected", AT, error) == v1_status_body(record, "rejected", AT, error)
    assert status_body_for(V1, record, "rejected", AT, error)["to"] == "447700900000"
    with pytest.raises(ValueError, match="unknown webhook version"):
        status_body_for("v2", record, "rejected", AT, error)


def test_inbound_body_for_builds_the_chosen_shape() -> None:
    record = inbound("messenger", {"type": "text", "text": "hi"})
    assert inbound_body_for(V0_1, record) == inbound_body(record)
    assert inbound_body_for(V1, record) == {
        "channel": "messenger", "message_uuid": record["message_uuid"], "to": "107083064136738",
        "from": "1234567890", "timestamp": AT, "message_type": "text", "text": "hi",
    }


# -- v1 status rules ------------------------------------------------------------------------------


def test_v1_error_names_the_code_by_its_documentation_url_and_identifies_the_occurrence() -> None:
    error = v1_error("aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", "rejected", {"code": 1260, "reason": "Destination unreachable"})
    assert error["type"] == "https://developer.vonage.com/api-errors/messages#1260"
    assert error["title"] == "1260"
    assert error["detail"] == "Destination unreachable"
    rebuilt = v1_error("aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", "rejected", {"code": 1260, "reason": "Destination unreachable"})
    assert rebuilt["instance"] == error["instance"]  # a webhook rebuilt for the same change names the same occurrence
    assert error["instance"] != v1_error("aaaaaaaa-bbbb-4ccc-8ddd-0123456789ab", "undeliverable", {"code": 1260})["instance"]
    assert error["instance"] != v1_error("aaaaaaaa-bbbb-4ccc-8ddd-000000000000", "rejected", {"code": 1260})["instance"]


def test_v1_error_without_a_reason_takes_the_codes_reason() -> None:
    assert v1_error("m", "rejected", {"code": 1300, "reason": ""})["detail"] == "Not part of the provider network"


def test_v1_status_carries_client_ref_only_when_the_message_had_one() -> None:
    assert "client_ref" not in v1_status_body(outbound(), "submitted", AT)
    assert v1_status_body(outbound(client_ref=""), "submitted", AT)["client_ref"] == ""


def test_v1_sms_extras_are_each_optional() -> None:
    assert "destination" not in v1_status_body(outbound(), "delivered", AT, sms=SmsStatusExtras(count_total=2))
    body = v1_status_body(outbound(), "delivered", AT, sms=SmsStatusExtras(network_code="23410"))
    assert body["destination"] == {"network_code": "23410"} and "sms" not in body


def test_v1_viber_status_uses_the_v1_channel_name_and_flat_addresses() -> None:
    body = v1_status_body(outbound("viber_service_msg"), "read", AT)
    assert (body["channel"], body["from"], body["to"]) == ("viber_service", "16273", "447700900002")


@pytest.mark.parametrize(
    "record, state, kwargs, message",
    [
        (outbound(), "read", {}, "no read status"),
        (outbound(), "accepted", {}, "not a status customers are told about"),
        (outbound("messenger"), "delivered", {"sms": SmsStatusExtras(count_total=1)}, "SMS messages only"),
    ],
    ids=["sms-read", "internal-state", "sms-extras-on-messenger"],
)
def test_v1_status_refuses_inputs_no_transition_produces(
    record: dict[str, Any], state: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        v1_status_body(record, state, AT, **kwargs)


def test_v1_workflow_object_numbers_the_step_from_one_and_takes_the_workflow_status() -> None:
    record = outbound(workflow_uuid="cccccccc-dddd-4eee-8fff-0123456789ab", workflow_step=2)
    body = v1_status_body(record, "delivered", AT, workflow_status="completed")
    assert body["workflow"] == {"workflow_id": "cccccccc-dddd-4eee-8fff-0123456789ab", "status": "completed",
                                "items_number": "3"}
    assert "workflow" not in v1_status_body(outbound(), "delivered", AT)


# -- v1 inbound rules -----------------------------------------------------------------------------


def test_v1_messenger_content_without_a_v1_type_is_unsupported() -> None:
    body = v1_inbound_body(inbound("messenger", {"type": "sticker", "sticker": {"url": "https://x.example/s.png"}}))
    assert body["message_type"] == "unsupported"
    assert "sticker" not in body


def test_v1_viber_audio_is_unsupported_as_v1_viber_has_no_audio() -> None:
    body = v1_inbound_body(inbound("viber_service_msg", {"type": "audio", "audio": {"url": "https://x.example/a.mp3"}}))
    assert body["message_type"] == "unsupported" and "audio" not in body


def test_v1_messenger_location_keeps_its_coordinates_as_numbers() -> None:
    body = v1_inbound_body(inbound("messenger", {"type": "location", "location": {"lat": "-33.8688", "long": "151.2093"}}))
    assert body["message_type"] == "unsupported"
    assert body["location"] == {"lat": -33.8688, "long": 151.2093}


def test_v1_location_without_usable_coordinates_is_plain_unsupported() -> None:
    body = v1_inbound_body(inbound("messenger", {"type": "location", "location": {"lat": "north", "long": "1"}}))
    assert body["message_type"] == "unsupported" and "location" not in body


@pytest.mark.parametrize("text, sms", [("  stop  now", {"num_messages": "1", "keyword": "STOP"}),
                                       ("   ", {"num_messages": "1"})], ids=["first-word", "blank"])
def test_v1_inbound_sms_counts_one_message_and_names_the_first_word(text: str, sms: dict[str, str]) -> None:
    record = inbound("sms", {"type": "text", "text": text})
    record["from"], record["to"] = {"type": "sms", "number": "447700900003"}, {"type": "sms", "number": "447700900001"}
    assert v1_inbound_body(record)["sms"] == sms
