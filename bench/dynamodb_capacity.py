"""DynamoDB on-demand capacity arithmetic: item sizes, read and write request units, index writes.

Rules (Amazon DynamoDB Developer Guide, "Item sizes and formats" and "Read/write capacity mode"):

- an item's size is the sum of its attribute names' and values' sizes: strings and binary by their
  (UTF-8) length, numbers about 1 byte per two significant digits plus 1, booleans and null 1
  byte, lists and maps 3 bytes plus 1 byte per element plus the elements, sets their elements;
- a write costs 1 write unit per started KB of the larger of the item before and after it (at
  least 1), whether or not its condition held; a transactional write costs twice that;
- a strongly consistent read costs 1 read unit per started 4 KB (at least 1, even for no item), an
  eventually consistent one half that, a transactional one twice; a query or scan pays for the
  total size of the items it reads, rounded up to 4 KB;
- a global secondary index pays writes when a table write touches it: 1 when the item enters or
  leaves the index or a projected attribute changes, 2 when its index key changes (delete + put).

Items are in the low-level format (``{"S": "..."}``, ``{"N": "..."}``, ``{"M": {...}}``, ...).
"""
from __future__ import annotations

import base64
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WRITE_UNIT_BYTES = 1024
READ_UNIT_BYTES = 4096
DOCUMENT_OVERHEAD_BYTES = 3
ELEMENT_OVERHEAD_BYTES = 1

AttributeValue = Mapping[str, Any]
Item = Mapping[str, AttributeValue]


def number_size(text: str) -> int:
    """About 1 byte per two significant digits, plus 1."""
    digits = text.strip().lstrip("+-").lower().split("e", 1)[0].replace(".", "")
    significant = digits.strip("0") or "0"
    return math.ceil(len(significant) / 2) + 1


def _binary_size(value: Any) -> int:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return len(base64.b64decode(value))


def value_size(value: AttributeValue) -> int:
    (kind, content), = value.items()
    if kind == "S":
        return len(content.encode("utf-8"))
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return _binary_size(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(each.encode("utf-8")) for each in content)
    if kind == "NS":
        return sum(number_size(each) for each in content)
    if kind == "BS":
        return sum(_binary_size(each) for each in content)
    if kind == "L":
        return DOCUMENT_OVERHEAD_BYTES + sum(ELEMENT_OVERHEAD_BYTES + value_size(each) for each in content)
    if kind == "M":
        return DOCUMENT_OVERHEAD_BYTES + sum(
            ELEMENT_OVERHEAD_BYTES + len(name.encode("utf-8")) + value_size(each) for name, each in content.items()
        )
    raise ValueError(f"unknown DynamoDB attribute type {kind!r}")


def item_size(item: Item | None) -> int:
    if not item:
        return 0
    return sum(len(name.encode("utf-8")) + value_size(value) for name, value in item.items())


def write_units(before: Item | None, after: Item | None, transactional: bool = False) -> int:
    units = max(1, math.ceil(max(item_size(before), item_size(after)) / WRITE_UNIT_BYTES))
    return 2 * units if transactional else units


def read_units(total_bytes: int, consistent: bool, transactional: bool = False) -> float:
    units = max(1, math.ceil(total_bytes / READ_UNIT_BYTES))
    if transactional:
        return 2.0 * units
    return float(units) if consistent else units / 2


@dataclass(frozen=True)
class IndexSchema:
    name: str
    key_attributes: tuple[str, ...]  # the index's hash (and range) key
    table_key_attributes: tuple[str, ...]
    projection: str  # KEYS_ONLY, INCLUDE or ALL
    included: tuple[str, ...] = ()  # INCLUDE's non-key attributes

    def entry(self, item: Item | None) -> dict[str, AttributeValue] | None:
        """The item as the index stores it, or None when it is not in the index (a key attribute is missing)."""
        if not item or any(key not in item for key in self.key_attributes):
            return None
        if self.projection == "ALL":
            return dict(item)
        names = {*self.key_attributes, *self.table_key_attributes}
        if self.projection == "INCLUDE":
            names |= set(self.included)
        return {name: item[name] for name in names if name in item}


def index_write_units(index: IndexSchema, before: Item | None, after: Item | None) -> int:
    old, new = index.entry(before), index.entry(after)
    if old is None and new is None:
        return 0
    if old is None or new is None:
        return write_units(None, old or new)
    if any(old.get(key) != new.get(key) for key in index.key_attributes):
        return write_units(None, old) + write_units(None, new)
    return write_units(old, new) if old != new else 0


def table_write_units(
    before: Item | None, after: Item | None, indexes: Sequence[IndexSchema], transactional: bool = False
) -> int:
    """The write units of one item write, its global secondary indexes included."""
    return write_units(before, after, transactional) + sum(index_write_units(i, before, after) for i in indexes)
