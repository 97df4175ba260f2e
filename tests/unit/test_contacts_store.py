"""ContactStore: numbers a Viber service has sent a transaction message to."""
from __future__ import annotations

from tests.support.stores import ContactStore

T0 = 1_790_000_000.0
RETENTION_SECONDS = 90 * 86400


def test_unknown_contact_has_no_transaction(aws, now) -> None:
    assert ContactStore().has_transaction_contact("svc-1", "447700900000") is False


def test_recorded_contact_is_found_for_that_service_and_number_only(aws, now) -> None:
    store = ContactStore()

    store.record_transaction_contact("svc-1", "447700900000")

    assert store.has_transaction_contact("svc-1", "447700900000") is True
    assert store.has_transaction_contact("svc-2", "447700900000") is False
    assert store.has_transaction_contact("svc-1", "447700900001") is False


def test_item_layout_and_ttl(aws, now) -> None:
    store = ContactStore()

    store.record_transaction_contact("svc-1", "447700900000")

    key = {"pk": {"S": "viber#svc-1#447700900000"}}
    item = aws.client("dynamodb").get_item(TableName=store.table_name, Key=key)["Item"]
    assert item == {
        "pk": {"S": "viber#svc-1#447700900000"},
        "service_id": {"S": "svc-1"},
        "number": {"S": "447700900000"},
        "last_transaction_at": {"S": "2026-09-21T14:13:20.000Z"},
        "expires_at": {"N": str(int(T0) + RETENTION_SECONDS)},
    }


def test_recording_again_is_idempotent_and_extends_the_ttl(aws, now) -> None:
    store = ContactStore()
    store.record_transaction_contact("svc-1", "447700900000")
    now[0] += 86400

    store.record_transaction_contact("svc-1", "447700900000")

    table = aws.client("dynamodb")
    items = table.scan(TableName=store.table_name)["Items"]
    assert len(items) == 1
    assert items[0]["expires_at"] == {"N": str(int(T0) + 86400 + RETENTION_SECONDS)}


def test_an_expired_contact_no_longer_counts_before_dynamodb_deletes_it(aws, now) -> None:
    store = ContactStore()
    store.record_transaction_contact("svc-1", "447700900000")

    now[0] += RETENTION_SECONDS + 1

    assert store.has_transaction_contact("svc-1", "447700900000") is False


def test_a_known_contact_is_not_written_again_within_a_day(aws, now) -> None:
    store = ContactStore()
    store.record_transaction_contact("svc-1", "447700900000")
    table = aws.client("dynamodb")
    key = {"pk": {"S": "viber#svc-1#447700900000"}}
    table.delete_item(TableName=store.table_name, Key=key)  # so that any further put shows

    now[0] += 86400 - 1
    store.record_transaction_contact("svc-1", "447700900000")
    assert "Item" not in table.get_item(TableName=store.table_name, Key=key)

    now[0] += 1
    store.record_transaction_contact("svc-1", "447700900000")
    item = table.get_item(TableName=store.table_name, Key=key)["Item"]
    assert item["expires_at"] == {"N": str(int(T0) + 86400 + RETENTION_SECONDS)}
    # Another number of the same service is a new contact: written at once.
    store.record_transaction_contact("svc-1", "447700900001")
    assert "Item" in table.get_item(TableName=store.table_name, Key={"pk": {"S": "viber#svc-1#447700900001"}})
