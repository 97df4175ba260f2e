"""Python values <-> DynamoDB attribute values, for every store.

Numbers come back as ``int`` when integral and ``float`` otherwise; floats go in as the
``Decimal`` of their shortest repr (boto3 refuses floats).

Every write and every returned record goes through here, several times per message, so the common
shapes (strings, integers, booleans, null, string sets, maps and lists of them) are converted
directly; anything else (floats, decimals, number and binary sets, binary) goes through boto3's
``TypeSerializer`` / ``TypeDeserializer`` exactly as before. Both paths give the same values
(``tests/unit/test_dynamodb_toolkit.py`` compares them).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
# DynamoDB numbers carry at most 38 significant digits; boto3 refuses longer ones, so they take its path.
_MAX_DIGITS = 38
_INT_LIMIT = 10**_MAX_DIGITS


def to_python(value: Any) -> Any:
    """DynamoDB numbers come back as ``Decimal``: integral ones become ``int``, others ``float``."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, set):
        return {to_python(v) for v in value}
    return value


def deserialize(item: dict[str, Any] | None) -> dict[str, Any] | None:
    """An item as plain Python values; ``None`` for a missing or empty item."""
    if not item:
        return None
    return {k: _from_attribute(v) for k, v in item.items()}


def serialize(value: Any) -> dict[str, Any]:
    """One attribute value (``{"S": ...}``, ``{"M": ...}``, ...)."""
    kind = type(value)
    if kind is str:
        return {"S": value}
    if kind is dict:
        return {"M": {k: serialize(v) for k, v in value.items()}}
    if kind is list:
        return {"L": [serialize(v) for v in value]}
    if kind is int and -_INT_LIMIT < value < _INT_LIMIT:
        return {"N": str(value)}
    if kind is bool:
        return {"BOOL": value}
    if value is None:
        return {"NULL": True}
    if kind is set and value and all(type(member) is str for member in value):
        return {"SS": list(value)}
    return _serializer.serialize(_with_decimals(value))


def serialize_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: serialize(v) for k, v in item.items()}


def _from_attribute(attribute: dict[str, Any]) -> Any:
    """One attribute value as a plain Python value (``to_python`` of boto3's deserialisation)."""
    if len(attribute) == 1:
        ((kind, data),) = attribute.items()
        if kind == "S":
            return data
        if kind == "M":
            return {k: _from_attribute(v) for k, v in data.items()}
        if kind == "L":
            return [_from_attribute(v) for v in data]
        if kind == "N" and _is_plain_integer(data):
            return int(data)
        if kind == "BOOL":
            return data
        if kind == "NULL":
            return None
        if kind == "SS":
            return set(data)
    return to_python(_deserializer.deserialize(attribute))


def _is_plain_integer(text: str) -> bool:
    digits = text[1:] if text[:1] == "-" else text
    return 0 < len(digits) <= _MAX_DIGITS and digits.isascii() and digits.isdigit()


def _with_decimals(value: Any) -> Any:
    """boto3 refuses floats: store them as the Decimal of their shortest repr."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _with_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_decimals(v) for v in value]
    return value
