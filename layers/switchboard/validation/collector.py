"""Collects every invalid field of one request so the client hears about all of them at once."""
from __future__ import annotations

from switchboard.domain.errors import InvalidParameter, ValidationFailed


class Problems:
    def __init__(self) -> None:
        self._items: list[InvalidParameter] = []

    def add(self, name: str, reason: str) -> None:
        self._items.append(InvalidParameter(name, reason))

    def __bool__(self) -> bool:
        return bool(self._items)

    def raise_if_any(self) -> None:
        if self._items:
            raise ValidationFailed(self._items)


def reject_non_object_body(body: object) -> dict[str, object]:
    """The request body itself must be a JSON object; anything else is one problem named ``body``."""
    if not isinstance(body, dict):
        raise ValidationFailed([InvalidParameter("body", "must be a JSON object")])
    return body
