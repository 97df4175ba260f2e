"""DynamoDB item sizes and on-demand capacity units, as the benchmarks count them."""
from __future__ import annotations

import pytest

from bench.dynamodb_capacity import (
    IndexSchema,
    index_write_units,
    item_size,
    number_size,
    read_units,
    table_write_units,
    write_units,
)


def test_item_size_counts_names_and_values() -> None:
    assert item_size({"id": {"S": "abc"}}) == 2 + 3
    assert item_size({"n": {"N": "12345"}}) == 1 + 4  # ceil(5 / 2) + 1
    assert item_size({"ok": {"BOOL": True}, "x": {"NULL": True}}) == 2 + 1 + 1 + 1
    assert item_size({"b": {"B": b"\x00\x01\x02"}}) == 1 + 3
    assert item_size({"s": {"S": "é"}}) == 1 + 2  # UTF-8 bytes


def test_documents_carry_overhead_per_document_and_element() -> None:
    assert item_size({"l": {"L": [{"S": "a"}, {"S": "b"}]}}) == 1 + 3 + (1 + 1) * 2
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + 1 + 1 + 1


@pytest.mark.parametrize(("text", "size"), [("0", 2), ("100", 2), ("0.0012", 2), ("-123.45", 4), ("1E10", 2)])
def test_number_size_counts_significant_digits(text: str, size: int) -> None:
    assert number_size(text) == size


def test_writes_round_up_per_kilobyte_of_the_larger_version() -> None:
    small = {"k": {"S": "x" * 100}}
    large = {"k": {"S": "x" * 1500}}
    assert write_units(None, small) == 1
    assert write_units(small, large) == 2
    assert write_units(large, small) == 2
    assert write_units(None, None) == 1  # even a failed conditional write on nothing costs 1
    assert write_units(None, small, transactional=True) == 2


def test_reads_round_up_per_4_kb_and_halve_when_eventually_consistent() -> None:
    assert read_units(0, consistent=True) == 1.0
    assert read_units(5000, consistent=True) == 2.0
    assert read_units(5000, consistent=False) == 1.0
    assert read_units(100, consistent=False) == 0.5
    assert read_units(100, consistent=True, transactional=True) == 2.0


PROVIDER_REF_INDEX = IndexSchema("ProviderRefIndex", ("provider_ref",), ("message_uuid",), "KEYS_ONLY")


def test_an_item_entering_an_index_costs_one_index_write() -> None:
    before = {"message_uuid": {"S": "u"}, "status": {"S": "sending"}}
    after = {**before, "provider_ref": {"S": "viber#1"}}
    assert index_write_units(PROVIDER_REF_INDEX, before, after) == 1
    assert table_write_units(before, after, [PROVIDER_REF_INDEX]) == 2


def test_changes_outside_a_keys_only_projection_cost_the_index_nothing() -> None:
    before = {"message_uuid": {"S": "u"}, "provider_ref": {"S": "viber#1"}, "status": {"S": "submitted"}}
    after = {**before, "status": {"S": "delivered"}}
    assert index_write_units(PROVIDER_REF_INDEX, before, after) == 0


def test_a_changed_index_key_is_a_delete_and_a_put() -> None:
    before = {"message_uuid": {"S": "u"}, "provider_ref": {"S": "viber#1"}}
    after = {"message_uuid": {"S": "u"}, "provider_ref": {"S": "viber#2"}}
    assert index_write_units(PROVIDER_REF_INDEX, before, after) == 2


def test_an_all_projection_pays_for_any_attribute_change() -> None:
    index = IndexSchema("All", ("g",), ("pk",), "ALL")
    before = {"pk": {"S": "1"}, "g": {"S": "x"}, "v": {"N": "1"}}
    assert index_write_units(index, before, {**before, "v": {"N": "2"}}) == 1
