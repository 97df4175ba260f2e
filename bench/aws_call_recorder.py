"""Every AWS API call made in this process, recorded through botocore's event hooks.

The hooks go into ``botocore.handlers.BUILTIN_HANDLERS``, which every botocore session created
afterwards registers: the functions' own clients, Powertools' Secrets Manager client, everything.
Each call is attributed to the lifecycle stage and caller (a function, or the event source mapping)
current when it completed.

For DynamoDB the recorder also works out the capacity the call consumed on demand
(``bench.dynamodb_capacity``): it reads the items a write touches just before and just after the
call, straight from moto's backend (no API call, so nothing extra is counted).
"""
from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from botocore import handlers

from bench.dynamodb_capacity import IndexSchema, Item, item_size, read_units, table_write_units

SINGLE_ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
_CONTEXT_KEY = "bench_call"


@dataclass(frozen=True)
class AwsCall:
    service: str  # botocore's service name: dynamodb, sqs, secretsmanager, ...
    operation: str
    stage: str
    caller: str  # a function's logical id, or "event source mapping"
    read_units: float = 0.0  # DynamoDB only
    write_units: float = 0.0  # DynamoDB only
    found_nothing: bool = False  # a ReceiveMessage answered with no messages (an idle poll)
    table: str = ""  # DynamoDB single-table calls: the table's name


class MotoItems:
    """Items and index schemas straight from moto's DynamoDB backend (no API call)."""

    def __init__(self, region: str) -> None:
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        self._backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]

    def key_attributes(self, table: str) -> tuple[str, ...]:
        found = self._backend.get_table(table)
        return tuple(a for a in (found.hash_key_attr, found.range_key_attr) if a)

    def indexes(self, table: str) -> list[IndexSchema]:
        found = self._backend.get_table(table)
        keys = self.key_attributes(table)
        return [
            IndexSchema(
                name=index.name,
                key_attributes=tuple(index.schema_key_attrs),
                table_key_attributes=keys,
                projection=(index.projection or {}).get("ProjectionType", "ALL"),
                included=tuple((index.projection or {}).get("NonKeyAttributes", [])),
            )
            for index in found.global_indexes
        ]

    def get(self, table: str, key: Mapping[str, Any]) -> Item | None:
        found = self._backend.get_item(table, dict(key))
        return None if found is None else found.to_json()["Attributes"]


@dataclass(frozen=True)
class _Write:
    table: str
    key: dict[str, Any]
    before: Item | None
    transactional: bool


class AwsCallRecorder:
    def __init__(self, items: MotoItems | None = None) -> None:
        self.items = items
        self.recording = False
        self.stage = ""
        self.caller = ""
        self._calls: list[AwsCall] = []
        self._lock = threading.Lock()
        self._hooks = [
            ("before-parameter-build", self._before_parameter_build),
            ("before-call", self._before_call),
            ("after-call", self._after_call),
        ]

    # -- set-up ---------------------------------------------------------------------------------

    def install(self) -> None:
        """Hook every botocore session created from now on."""
        for hook in self._hooks:
            if hook not in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.append(hook)

    def uninstall(self) -> None:
        for hook in self._hooks:
            if hook in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.remove(hook)

    @contextmanager
    def attributed_to(self, stage: str | None = None, caller: str | None = None) -> Iterator[None]:
        """Calls completing in the block count for ``stage`` and ``caller`` (process-wide: stages run one at a time)."""
        previous = (self.stage, self.caller)
        self.stage = previous[0] if stage is None else stage
        self.caller = previous[1] if caller is None else caller
        try:
            yield
        finally:
            self.stage, self.caller = previous

    def calls(self) -> list[AwsCall]:
        with self._lock:
            return list(self._calls)

    # -- hooks ----------------------------------------------------------------------------------

    def _before_parameter_build(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.recording:
            context[_CONTEXT_KEY] = {"params": params}

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        state = context.get(_CONTEXT_KEY)
        if state is None or self.items is None or model.service_model.service_name != "dynamodb":
            return
        state["writes"] = self._writes_of(model.name, state["params"])

    def _after_call(self, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        state = context.pop(_CONTEXT_KEY, None)
        if state is None:
            return
        service, operation = model.service_model.service_name, model.name
        reads = writes = 0.0
        if service == "dynamodb" and self.items is not None:
            writes = float(sum(self._write_units(write) for write in state.get("writes", [])))
            reads = self._read_units(operation, state["params"], parsed)
        empty_receive = service == "sqs" and operation == "ReceiveMessage" and not parsed.get("Messages")
        table = str(state["params"].get("TableName", "")) if service == "dynamodb" else ""
        call = AwsCall(service, operation, self.stage, self.caller, reads, writes, empty_receive, table)
        with self._lock:
            self._calls.append(call)

    # -- DynamoDB capacity ----------------------------------------------------------------------

    def _writes_of(self, operation: str, params: Mapping[str, Any]) -> list[_Write]:
        assert self.items is not None
        targets: list[tuple[str, Mapping[str, Any], bool]] = []
        if operation in SINGLE_ITEM_WRITES:
            targets.append((params["TableName"], self._key(params["TableName"], params), False))
        elif operation == "BatchWriteItem":
            for table, requests in params.get("RequestItems", {}).items():
                for request in requests:
                    (body,) = request.values()  # {"PutRequest": {"Item"}} or {"DeleteRequest": {"Key"}}
                    targets.append((table, self._key(table, body), False))
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                (kind, body), = entry.items()
                if kind != "ConditionCheck":
                    targets.append((body["TableName"], self._key(body["TableName"], body), True))
        return [
            _Write(table, dict(key), self.items.get(table, key), transactional) for table, key, transactional in targets
        ]

    def _key(self, table: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
        assert self.items is not None
        if "Key" in params:
            return params["Key"]
        item = params["Item"]
        return {name: item[name] for name in self.items.key_attributes(table)}

    def _write_units(self, write: _Write) -> int:
        assert self.items is not None
        after = self.items.get(write.table, write.key)
        return table_write_units(write.before, after, self.items.indexes(write.table), write.transactional)

    def _read_units(self, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> float:
        consistent = bool(params.get("ConsistentRead", False))
        if operation == "GetItem":
            return read_units(item_size(parsed.get("Item")), consistent)
        if operation in ("Query", "Scan"):
            return read_units(sum(item_size(item) for item in parsed.get("Items", [])), consistent)
        if operation == "BatchGetItem":
            wanted = params.get("RequestItems", {})
            total = 0.0
            for table, items in parsed.get("Responses", {}).items():
                table_consistent = bool(wanted.get(table, {}).get("ConsistentRead", False))
                total += sum(read_units(item_size(item), table_consistent) for item in items)
            return total
        if operation == "TransactGetItems":
            return sum(
                read_units(item_size(response.get("Item")), True, transactional=True)
                for response in parsed.get("Responses", [])
            )
        return 0.0
