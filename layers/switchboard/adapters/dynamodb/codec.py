"""Python values <-> DynamoDB attribute values, for every store.

Numbers come back as ``int`` when integral and ``float`` otherwise; floats go in as the
``Decimal`` of their shortest repr (boto3 refuses floats).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


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
    return to_python({k: _deserializer.deserialize(v) for k, v in item.items()})


def serialize(value: Any) -> dict[str, Any]:
    """One attribute value (``{"S": ...}``, ``{"M": ...}``, ...)."""
    return _serializer.serialize(_with_decimals(value))


def serialize_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: serialize(v) for k, v in item.items()}


def _with_decimals(value: Any) -> Any:
    """boto3 refuses floats: store them as the Decimal of their shortest repr."""
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _with_decimals(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_decimals(v) for v in value]
    return value
