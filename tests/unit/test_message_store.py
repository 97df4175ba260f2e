"""MessagesTable: the record written at accept time and the conditional updates the sender makes."""
from __future__ import annotations

from decimal import Decimal

import pytest

from switchboard.domain.message import (
    ApiVersion,
    Channel,
    Content,
    Endpoint,
    MessengerOptions,
    OutboundMessage,
    Principal,
)
from tests.support.stores import MessagesTable
from switchboard.domain.message_record import ClaimState, MessageAlreadyExists, StaleClaim

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z
UUID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
RETENTION_SECONDS = 90 * 86400  # template default RetentionDays


def messenger_message() -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.MESSENGER,
        sender=Endpoint(type="messenger", id="page-1"),
        recipient=Endpoint(type="messenger", id="psid-1"),
        content=Content(type="text", text="hello"),
        api_version=ApiVersion.V0_1,
        client_ref="ref-1",
        messenger=MessengerOptions(category="message_tag", tag="TICKET_UPDATE"),
    )


def jwt_principal() -> Principal:
    return Principal(api_key="abcd1234", application_id="app-1", auth_method="jwt")


def test_create_writes_an_accepted_record(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())

    record = store.get(UUID)

    assert record is not None
    assert record["message_uuid"] == UUID
    assert record["status"] == "accepted"
    assert record["history"] == [{"status": "accepted", "timestamp": "2026-09-21T14:13:20.000Z"}]
    assert record["api_key"] == "abcd1234"
    assert record["application_id"] == "app-1"
    assert record["auth_method"] == "jwt"
    assert record["created_at"] == record["updated_at"] == "2026-09-21T14:13:20.000Z"
    assert record["attempts"] == 0
    assert record["channel"] == "messenger"
    assert record["client_ref"] == "ref-1"
    assert OutboundMessage.from_item(record) == messenger_message()


def test_get_returns_plain_python_values(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), Principal(api_key="abcd1234"))

    record = store.get(UUID)

    assert record is not None
    assert "application_id" not in record
    assert record["auth_method"] == "basic"
    assert type(record["expires_at"]) is int
    assert not any(isinstance(v, Decimal) for v in record.values())


def test_get_unknown_uuid_is_none(aws) -> None:
    assert MessagesTable().get("no-such-uuid") is None


def test_expires_at_is_the_table_ttl_and_set_from_retention(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())

    ttl = aws.client("dynamodb").describe_time_to_live(TableName=store.table_name)["TimeToLiveDescription"]

    assert ttl["AttributeName"] == "expires_at"
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert store.get(UUID)["expires_at"] == int(T0) + RETENTION_SECONDS


def test_create_never_overwrites_an_existing_record(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())

    with pytest.raises(MessageAlreadyExists):
        store.create(UUID, messenger_message(), Principal(api_key="other999"))

    assert store.get(UUID)["api_key"] == "abcd1234"


def test_mark_enqueue_failed_rejects_the_record(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    now[0] += 1.5

    assert store.mark_enqueue_failed(UUID, "could not be queued for sending (EndpointConnectionError)")

    record = store.get(UUID)
    expected_error = {"code": 1030, "reason": "could not be queued for sending (EndpointConnectionError)"}
    assert record["status"] == "rejected"
    assert record["error"] == expected_error
    assert record["enqueue_failed"] is True
    assert record["updated_at"] == "2026-09-21T14:13:21.500Z"
    assert record["history"][-1] == {
        "status": "rejected",
        "timestamp": "2026-09-21T14:13:21.500Z",
        "error": expected_error,
        "event": "enqueue_failed",
    }


def test_mark_enqueue_failed_leaves_a_record_the_sender_already_took(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    assert store.claim(UUID, "token-1", int(T0) + 60).state is ClaimState.CLAIMED

    assert store.mark_enqueue_failed(UUID, "could not be queued") is False

    record = store.get(UUID)
    assert record["status"] == "sending"
    assert "enqueue_failed" not in record


def test_claim_moves_accepted_to_sending_and_returns_the_new_record(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    now[0] += 2

    attempt = store.claim(UUID, "token-1", int(T0) + 62)

    assert attempt.state is ClaimState.CLAIMED
    record = attempt.record
    assert record["status"] == "sending"
    assert record["claim_token"] == "token-1"
    assert record["lease_expires_at"] == int(T0) + 62
    assert record["attempts"] == 1
    assert record["history"][-1] == {"status": "sending", "timestamp": "2026-09-21T14:13:22.000Z"}
    assert record == store.get(UUID)


def test_claim_says_why_it_could_not_claim(aws, now) -> None:
    store = MessagesTable()
    assert store.claim(UUID, "t0", int(T0) + 60).state is ClaimState.MISSING

    store.create(UUID, messenger_message(), jwt_principal())
    store.claim(UUID, "t1", int(T0) + 60)
    in_flight = store.claim(UUID, "t2", int(T0) + 60)
    assert in_flight.state is ClaimState.IN_FLIGHT
    assert in_flight.record["claim_token"] == "t1"

    now[0] = T0 + 60
    assert store.claim(UUID, "t3", int(T0) + 120).state is ClaimState.LEASE_EXPIRED

    store.mark_submitted(UUID, "t1", "mid.1", "messenger#mid.1")
    final = store.claim(UUID, "t4", int(T0) + 120)
    assert final.state is ClaimState.FINAL
    assert final.record["status"] == "submitted"
    assert store.get(UUID)["attempts"] == 1


def test_updates_need_the_current_claim_token(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    store.claim(UUID, "token-1", int(T0) + 60)

    with pytest.raises(StaleClaim):
        store.mark_submitted(UUID, "stale-token", "mid.1", "messenger#mid.1")
    with pytest.raises(StaleClaim):
        store.mark_rejected(UUID, "stale-token", {"code": 1300, "reason": "Not part of the provider network"})
    with pytest.raises(StaleClaim):
        store.release_for_retry(UUID, "stale-token", 1, {"code": 1000, "reason": "Throttled"}, 2)

    assert store.get(UUID)["status"] == "sending"


def test_submitted_record_fields_and_provider_ref_index(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    store.claim(UUID, "token-1", int(T0) + 60)

    store.mark_submitted(UUID, "token-1", "mid.1", "messenger#mid.1")

    record = store.get(UUID)
    assert record["status"] == "submitted"
    assert record["provider_message_id"] == "mid.1"
    assert record["provider_ref"] == "messenger#mid.1"
    assert "claim_token" not in record and "lease_expires_at" not in record
    found = aws.client("dynamodb").query(
        TableName=store.table_name,
        IndexName="ProviderRefIndex",
        KeyConditionExpression="provider_ref = :ref",
        ExpressionAttributeValues={":ref": {"S": "messenger#mid.1"}},
    )["Items"]
    assert found == [{"message_uuid": {"S": UUID}, "provider_ref": {"S": "messenger#mid.1"}}]


def test_release_for_retry_then_claim_again_counts_attempts(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    store.claim(UUID, "token-1", int(T0) + 60)
    now[0] += 1

    store.release_for_retry(UUID, "token-1", 1, {"code": 1000, "reason": "Throttled"}, 2)

    released = store.get(UUID)
    assert released["status"] == "accepted"
    assert released["last_error"] == {"code": 1000, "reason": "Throttled"}
    assert "claim_token" not in released
    assert released["history"][-1] == {
        "status": "accepted",
        "timestamp": "2026-09-21T14:13:21.000Z",
        "event": "retry_scheduled",
        "attempt": 1,
        "error": {"code": 1000, "reason": "Throttled"},
        "retry_in_seconds": 2,
    }
    again = store.claim(UUID, "token-2", int(T0) + 61)
    assert again.state is ClaimState.CLAIMED
    assert again.record["attempts"] == 2


def test_take_over_and_reject_abandoned_need_the_expired_token_and_an_expired_lease(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    store.claim(UUID, "token-1", int(T0) + 60)

    with pytest.raises(StaleClaim):  # lease still live
        store.take_over(UUID, "token-1", "token-2", int(T0) + 120)
    now[0] = T0 + 61
    with pytest.raises(StaleClaim):  # wrong token
        store.reject_abandoned(UUID, "token-x", {"code": 1030, "reason": "x"})

    record = store.take_over(UUID, "token-1", "token-2", int(T0) + 121)

    assert record["claim_token"] == "token-2"
    assert record["attempts"] == 2
    assert record["history"][-1]["event"] == "lease_expired_resend"


def test_history_keeps_every_change_in_order_with_its_time(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    now[0] += 1
    store.claim(UUID, "t1", int(T0) + 60)
    now[0] += 1
    store.release_for_retry(UUID, "t1", 1, {"code": 1100, "reason": "Communication Failed"}, 2)
    now[0] += 2
    store.claim(UUID, "t2", int(T0) + 60)
    now[0] += 0.25
    store.mark_rejected(UUID, "t2", {"code": 1300, "reason": "Not part of the provider network"})

    history = store.get(UUID)["history"]

    assert [(h["status"], h["timestamp"]) for h in history] == [
        ("accepted", "2026-09-21T14:13:20.000Z"),
        ("sending", "2026-09-21T14:13:21.000Z"),
        ("accepted", "2026-09-21T14:13:22.000Z"),
        ("sending", "2026-09-21T14:13:24.000Z"),
        ("rejected", "2026-09-21T14:13:24.250Z"),
    ]
    assert history[-1]["error"] == {"code": 1300, "reason": "Not part of the provider network"}


# ---------------------------------------------------------------------------- status webhooks, receipts, inbound


def submitted_record(store: MessagesTable, **kwargs) -> dict:
    store.create(UUID, messenger_message(), jwt_principal())
    store.claim(UUID, "token-1", int(T0) + 60)
    return store.mark_submitted(UUID, "token-1", "mid.1", "messenger#mid.1", **kwargs)


def test_final_writes_return_the_record_with_the_status_seen_and_its_webhook_decided(aws, now) -> None:
    store = MessagesTable()

    record = submitted_record(store)

    assert record == store.get(UUID)
    assert record["seen_statuses"] == {"submitted"}
    assert record["outbox_submitted"] == int(T0) + 60


def test_mark_submitted_indexes_a_messenger_send_by_conversation_and_time(aws, now) -> None:
    store = MessagesTable()
    submitted_record(store, conversation="messenger#page-1#psid-1", sent_at_ms=1_790_000_000_123)

    found = aws.client("dynamodb").query(
        TableName=store.table_name,
        IndexName="ConversationIndex",
        KeyConditionExpression="conversation = :c AND sent_at_ms <= :w",
        ExpressionAttributeValues={":c": {"S": "messenger#page-1#psid-1"}, ":w": {"N": "1790000000123"}},
    )["Items"]

    assert [item["message_uuid"]["S"] for item in found] == [UUID]
    assert list(store.conversation_message_uuids("messenger#page-1#psid-1", 1_790_000_000_123)) == [[UUID]]
    assert list(store.conversation_message_uuids("messenger#page-1#psid-1", 1_790_000_000_122)) == []
    assert store.message_uuids_by_provider_ref("messenger#mid.1") == [UUID]
    assert store.message_uuids_by_provider_ref("messenger#mid.2") == []


def test_conversation_pages_come_newest_first(aws, now) -> None:
    store = MessagesTable()
    for i in range(5):
        uuid = f"m-{i}"
        store.create(uuid, messenger_message(), jwt_principal())
        store.claim(uuid, "t", int(T0) + 60)
        store.mark_submitted(uuid, "t", f"mid.{i}", f"messenger#mid.{i}", conversation="c", sent_at_ms=1000 + i)

    pages = list(store.conversation_message_uuids("c", 1003, page_size=2))

    assert pages == [["m-3", "m-2"], ["m-1", "m-0"]]


def test_an_enqueue_failure_rejection_is_seen_but_sends_no_webhook(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())

    store.mark_enqueue_failed(UUID, "could not be queued")

    record = store.get(UUID)
    assert record["seen_statuses"] == {"rejected"}
    assert "outbox_rejected" not in record


def test_a_notify_lease_is_taken_over_only_from_the_holder_last_seen(aws, now) -> None:
    from switchboard.domain.outbox_markers import LeaseState

    store = MessagesTable()
    submitted_record(store)

    now[0] = T0 + 60
    assert store.take_notify_lease(UUID, "status:submitted", int(T0) + 59).state is LeaseState.HELD
    taken = store.take_notify_lease(UUID, "status:submitted", int(T0) + 60)
    assert taken.state is LeaseState.TAKEN
    assert taken.record["outbox_submitted"] == int(T0) + 120
    # Of two callers that saw the same lease, the second finds it taken.
    assert store.take_notify_lease(UUID, "status:submitted", int(T0) + 60).state is LeaseState.HELD
    assert store.take_notify_lease(UUID, "status:read", int(T0) + 60).state is LeaseState.NOT_PENDING
    assert store.take_notify_lease("no-such-uuid", "status:submitted", int(T0) + 60).state is LeaseState.MISSING


def test_a_lease_is_released_only_by_its_holder(aws, now) -> None:
    store = MessagesTable()
    submitted_record(store)

    store.release_notify_lease(UUID, "status:submitted", int(T0) + 59)
    assert store.get(UUID)["outbox_submitted"] == int(T0) + 60

    store.release_notify_lease(UUID, "status:submitted", int(T0) + 60)
    assert store.get(UUID)["outbox_submitted"] == 0  # ran out: a retry may take it at once


def test_webhook_attempts_go_to_their_own_item_with_the_records_retention(aws, now) -> None:
    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())
    first = {"webhook": "status:submitted", "kind": "status", "attempt": 1, "outcome": "failed", "http_status": 500}
    second = {"webhook": "status:submitted", "kind": "status", "attempt": 2, "outcome": "gave_up"}
    note = {"timestamp": "2026-09-22T14:13:20.000Z", "event": "webhook_undeliverable", "webhook": "status:submitted"}

    assert store.record_webhook_attempt(UUID, first)
    now[0] += 3600
    assert store.record_webhook_attempt(UUID, second, history_note=note)

    record = store.get(UUID)
    assert "webhook_attempts" not in record  # the record stays small
    assert record["history"][-1] == note
    assert store.webhook_attempts(UUID) == [first, second]
    item = store.get(f"webhooks#{UUID}")
    assert item["kind"] == "webhook_attempts"
    assert item["expires_at"] == int(T0) + RETENTION_SECONDS  # set by the first attempt, like the record's
    assert store.webhook_attempts("no-attempts-yet") == []


def test_a_workflow_reports_attempts_are_not_kept_on_the_messages_table(aws, now) -> None:
    store = MessagesTable()

    attempt = {"webhook": "workflow:completed", "kind": "workflow", "attempt": 1, "outcome": "delivered"}

    assert store.record_webhook_attempt("wf-1", attempt) is False
    assert store.get("webhooks#wf-1") is None


def inbound_message(mid: str = "mid.in.1"):
    from switchboard.domain.provider_events import InboundMessage

    return InboundMessage(
        channel=Channel.MESSENGER,
        sender=Endpoint(type="messenger", id="psid-1"),
        recipient=Endpoint(type="messenger", id="page-1"),
        content={"type": "location", "location": {"lat": "51.5", "long": "-0.12", "url": "https://maps.example"}},
        occurred_at=T0 - 0.5,
        provider_message_id=mid,
    )


def test_create_inbound_records_the_message_with_its_webhook_decided(aws, now) -> None:
    store = MessagesTable()

    created = store.create_inbound(UUID, inbound_message(), "abcd1234", "app-1", "messenger#mid.in.1")

    record = store.get(UUID)
    assert created == record
    assert record["direction"] == "inbound"
    assert record["status"] == "received"
    assert record["channel"] == "messenger"
    assert record["from"] == {"type": "messenger", "id": "psid-1"}
    assert record["to"] == {"type": "messenger", "id": "page-1"}
    assert record["content"]["location"]["lat"] == "51.5"
    assert record["timestamp"] == "2026-09-21T14:13:19.500Z"
    assert record["api_key"] == "abcd1234"
    assert record["application_id"] == "app-1"
    assert record["provider_message_id"] == "mid.in.1"
    assert record["history"] == [{"status": "received", "timestamp": "2026-09-21T14:13:20.000Z"}]
    assert record["expires_at"] == int(T0) + RETENTION_SECONDS
    assert record["outbox_inbound"] == int(T0) + 60


def test_create_inbound_with_a_dedupe_key_records_a_provider_retry_once(aws, now) -> None:
    store = MessagesTable()
    store.create_inbound(UUID, inbound_message(), "abcd1234", None, "messenger#mid.in.1")

    again = store.create_inbound("bbbbbbbb-bbbb-cccc-dddd-0123456789ab", inbound_message(), "abcd1234", None, "messenger#mid.in.1")

    assert again is None
    assert store.get("bbbbbbbb-bbbb-cccc-dddd-0123456789ab") is None
    assert store.find_inbound("abcd1234", "messenger#mid.in.1")["message_uuid"] == UUID
    assert store.find_inbound("abcd1234", "messenger#mid.other") is None
    # The key is per account.
    other = store.create_inbound("cccccccc-bbbb-cccc-dddd-0123456789ab", inbound_message(), "other999", None, "messenger#mid.in.1")
    assert other is not None and "application_id" not in other


def test_create_inbound_without_a_dedupe_key_never_overwrites(aws, now) -> None:
    store = MessagesTable()
    assert store.create_inbound(UUID, inbound_message(), "abcd1234", None, None) is not None

    with pytest.raises(MessageAlreadyExists):
        store.create_inbound(UUID, inbound_message("mid.in.2"), "abcd1234", None, None)
    with pytest.raises(MessageAlreadyExists):
        store.create_inbound(UUID, inbound_message("mid.in.2"), "abcd1234", None, "messenger#mid.in.2")

    assert store.get(UUID)["provider_message_id"] == "mid.in.1"
    assert store.find_inbound("abcd1234", "messenger#mid.in.2") is None


def test_tag_workflow_step_marks_an_existing_record_only(aws, now) -> None:
    from botocore.exceptions import ClientError

    store = MessagesTable()
    store.create(UUID, messenger_message(), jwt_principal())

    store.tag_workflow_step(UUID, "wf-1", 2)

    record = store.get(UUID)
    assert record is not None
    assert (record["workflow_uuid"], record["workflow_step"]) == ("wf-1", 2)
    with pytest.raises(ClientError):
        store.tag_workflow_step("no-such-message", "wf-1", 0)
    assert store.get("no-such-message") is None
