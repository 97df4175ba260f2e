"""One UpdateItem expression, built clause by clause with ``#name`` / ``:value`` placeholders.

A placeholder is named after its attribute (``#status``, ``:status``), so conditions written
against the same builder reuse them: ``f"{update.name('status')} = {update.value('expected', s)}"``.
"""
from __future__ import annotations

from typing import Any

from switchboard.adapters.dynamodb.codec import serialize


class UpdateBuilder:
    """SET / REMOVE / ADD / DELETE clauses and list appends, with their placeholders."""

    def __init__(self) -> None:
        self._sets: list[str] = []
        self._removes: list[str] = []
        self._adds: list[str] = []
        self._deletes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, attr: str) -> str:
        placeholder = f"#{attr}"
        self.names[placeholder] = attr
        return placeholder

    def value(self, key: str, value: Any) -> str:
        placeholder = f":{key}"
        self.values[placeholder] = serialize(value)
        return placeholder

    def set(self, attr: str, value: Any) -> UpdateBuilder:
        self._sets.append(f"{self.name(attr)} = {self.value(attr, value)}")
        return self

    def set_expression(self, attr: str, expression: str) -> UpdateBuilder:
        self._sets.append(f"{self.name(attr)} = {expression}")
        return self

    def set_in_map(self, attr: str, key: int, value: Any) -> UpdateBuilder:
        """``attr.<key> = value`` in a map attribute keyed by numbers (e.g. ``started_at.1``)."""
        self.names[f"#k{key}"] = str(key)
        self._sets.append(f"{self.name(attr)}.#k{key} = {self.value(f'{attr}_{key}', value)}")
        return self

    def append(self, attr: str, *items: Any) -> UpdateBuilder:
        """Append ``items`` to the list ``attr`` (created if absent)."""
        target = self.name(attr)
        self._sets.append(
            f"{target} = list_append(if_not_exists({target}, {self.value('empty_list', [])}), "
            f"{self.value(f'{attr}_entry', list(items))})"
        )
        return self

    def append_history(self, *entries: dict[str, Any]) -> UpdateBuilder:
        return self.append("history", *entries)

    def remove(self, *attrs: str) -> UpdateBuilder:
        self._removes.extend(self.name(a) for a in attrs)
        return self

    def add_to_set(self, attr: str, *members: str) -> UpdateBuilder:
        self._adds.append(f"{self.name(attr)} {self.value(f'add_{attr}', set(members))}")
        return self

    def delete_from_set(self, attr: str, *members: str) -> UpdateBuilder:
        self._deletes.append(f"{self.name(attr)} {self.value(f'delete_{attr}', set(members))}")
        return self

    def expression(self) -> str:
        parts = []
        for keyword, clauses in (("SET", self._sets), ("REMOVE", self._removes), ("ADD", self._adds),
                                 ("DELETE", self._deletes)):
            if clauses:
                parts.append(f"{keyword} {', '.join(clauses)}")
        return " ".join(parts)
