"""The local stack's state, saved when it stops and restored when it starts (``<state dir>/state.json``).

What is saved, after the stack has drained (``LocalStack.stop``: no request being served, no
invocation running, the simulators' report sending stopped):

- every DynamoDB table of the template, scanned item by item (accounts, applications, links,
  messages, idempotency keys, contacts, workflows);
- every Secrets Manager secret of the template (the channels secret, with the simulators'
  credentials and any sender added with ``switchboard local add-sender``);
- every SQS queue's messages, read from moto's own queue objects: the visible ones and also those
  waiting out a ``DelaySeconds`` (failover timers, webhook and send retries) or a visibility
  timeout (a batch that failed), each with the time it becomes available (wall-clock: a timer due
  while the stack was stopped runs as soon as it starts again) and its receive count. The SQS API
  cannot show those without receiving them, and moto's request recorder would replay every
  ``SendMessage`` without the deletes, so old work would run again;
- the provider reports the simulators had still to send (a delivery report due a second after a
  send), and the demo account's credentials (its API secret exists nowhere else).

A restore puts them into the fresh moto before the SQS pollers start, so every queued record runs
once: it was either done and deleted before the save, or it is in the file. Once restored, the
file is rewritten without its queue messages and reports: a stack that then dies without saving
(``kill -9``) restarts from the older accounts and messages, but never runs the same work twice.

The webhook sink and the simulators listen on new ports at every start: URLs of the previous ones
in the saved state (account webhooks, the channels secret's ``api_base``) are rewritten to the new.
"""

from __future__ import annotations

import base64
import json
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from local_stack.simulators.scenarios import ScheduledReport
from local_stack.template import LOCAL_ACCOUNT, LOCAL_REGION

SNAPSHOT_VERSION = 1
BATCH_WRITE_LIMIT = 25


class SnapshotUnreadable(RuntimeError):
    """The state file exists but cannot be used; ``str()`` says why and how to start anyway."""


@dataclass
class Snapshot:
    saved_at: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # DynamoDB JSON, B/BS as base64
    secrets: dict[str, str] = field(default_factory=dict)  # logical id -> SecretString
    queues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # logical id -> saved messages
    reports: list[list[dict[str, Any]]] = field(default_factory=list)  # per message, in sending order
    demo: dict[str, str] = field(default_factory=dict)  # the demo account's credentials
    urls: dict[str, str] = field(default_factory=dict)  # base URLs of the sink and simulators that saved it
    version: int = SNAPSHOT_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Snapshot:
        if not isinstance(data, dict) or data.get("version") != SNAPSHOT_VERSION:
            raise ValueError(f"not a version {SNAPSHOT_VERSION} local stack state")
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})

    def without_work(self) -> Snapshot:
        """The same state with no queued records and no pending reports (they were handed over)."""
        return Snapshot(**{**self.__dict__, "queues": {}, "reports": []})


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# -- the file -----------------------------------------------------------------------------------


def load_snapshot(path: Path) -> Snapshot | None:
    """The saved state, or None when there is none."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SnapshotUnreadable(f"cannot read the saved state {path}: {exc.strerror or exc}") from None
    try:
        return Snapshot.from_json(json.loads(text))
    except (ValueError, TypeError) as exc:
        raise SnapshotUnreadable(
            f"the saved state {path} cannot be used ({exc}); start with --fresh to discard it, or "
            "move the file away to keep it"
        ) from None


def save_snapshot(path: Path, snapshot: Snapshot) -> None:
    """Written whole or not at all, readable only by its owner (it holds secrets)."""
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(snapshot.to_json(), fh)
        fh.write("\n")
    partial.replace(path)


# -- rewriting moved URLs -----------------------------------------------------------------------


def rewrite_strings(value: Any, replacements: Mapping[str, str]) -> Any:
    """``value`` with every string's occurrences of each old text replaced (keys of objects stay)."""
    if not replacements:
        return value
    if isinstance(value, str):
        for old, new in replacements.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [rewrite_strings(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: rewrite_strings(v, replacements) for k, v in value.items()}
    return value


def moved_urls(saved: Mapping[str, str], current: Mapping[str, str]) -> dict[str, str]:
    """Old base URL -> new one, for each part whose URL changed."""
    return {saved[name]: url for name, url in current.items() if saved.get(name) and saved[name] != url}


# -- DynamoDB -----------------------------------------------------------------------------------


def _to_file(attribute: dict[str, Any]) -> dict[str, Any]:
    """One DynamoDB attribute value in JSON: binary values as base64 text."""
    (kind, value), = attribute.items()
    if kind == "B":
        return {"B": base64.b64encode(value).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(v).decode("ascii") for v in value]}
    if kind == "L":
        return {"L": [_to_file(v) for v in value]}
    if kind == "M":
        return {"M": {k: _to_file(v) for k, v in value.items()}}
    return {kind: value}


def _from_file(attribute: dict[str, Any]) -> dict[str, Any]:
    (kind, value), = attribute.items()
    if kind == "B":
        return {"B": base64.b64decode(value)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in value]}
    if kind == "L":
        return {"L": [_from_file(v) for v in value]}
    if kind == "M":
        return {"M": {k: _from_file(v) for k, v in value.items()}}
    return {kind: value}


def dump_tables(dynamodb: Any, table_names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    tables = {}
    for name in table_names:
        items = []
        for page in dynamodb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
            items.extend({k: _to_file(v) for k, v in item.items()} for item in page.get("Items", []))
        tables[name] = items
    return tables


def restore_tables(
    dynamodb: Any, tables: Mapping[str, list[dict[str, Any]]], replacements: Mapping[str, str]
) -> dict[str, int]:
    """Put every saved item back (tables the template no longer has are skipped); items per table."""
    existing = set(dynamodb.list_tables().get("TableNames", []))
    restored = {}
    for name, items in tables.items():
        if name not in existing:
            continue
        requests = [
            {"PutRequest": {"Item": {k: _from_file(v) for k, v in rewrite_strings(item, replacements).items()}}}
            for item in items
        ]
        for start in range(0, len(requests), BATCH_WRITE_LIMIT):
            pending: dict[str, Any] = {name: requests[start : start + BATCH_WRITE_LIMIT]}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        restored[name] = len(items)
    return restored


# -- Secrets Manager ----------------------------------------------------------------------------


def dump_secrets(secretsmanager: Any, secret_ids: Mapping[str, str]) -> dict[str, str]:
    """logical id -> SecretString, for ``{logical id: secret id}``."""
    return {
        logical_id: secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"]
        for logical_id, secret_id in secret_ids.items()
    }


# -- SQS ----------------------------------------------------------------------------------------


def _moto_queue(name: str) -> Any:
    """moto's queue object in this process (the local stack calls this in moto's own process: ``local_stack.aws_process``)."""
    from moto.sqs.models import sqs_backends

    return sqs_backends[LOCAL_ACCOUNT][LOCAL_REGION].queues[name]


def _now_ms() -> float:
    from moto.core.utils import unix_time_millis

    return float(unix_time_millis())


def _attributes_to_file(attributes: Mapping[str, Any]) -> dict[str, Any]:
    saved = {}
    for name, value in attributes.items():
        value = dict(value)
        if isinstance(value.get("BinaryValue"), bytes):
            value["BinaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        saved[name] = value
    return saved


def _attributes_from_file(attributes: Mapping[str, Any]) -> dict[str, Any]:
    restored = {}
    for name, value in attributes.items():
        value = {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        if "BinaryValue" in value:
            value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        restored[name] = value
    return restored


def dump_queues(queue_names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
    """Every message still in each queue, including delayed and invisible ones, oldest first."""
    now = _now_ms()
    queues = {}
    for name in queue_names:
        queue = _moto_queue(name)
        with queue._messages_lock:  # noqa: SLF001 - moto's queue has no public view of hidden messages
            messages = list(queue._messages)  # noqa: SLF001
        queues[name] = [
            {
                "body": message.body,
                "attributes": _attributes_to_file(message.message_attributes),
                "receive_count": message.approximate_receive_count,
                "sent_timestamp": message.sent_timestamp,
                "first_receive_timestamp": message.approximate_first_receive_timestamp,
                # Wall-clock time (epoch ms) from which it may be received: time goes on while the stack is stopped.
                "available_at_ms": math.ceil(max(message.visible_at, message.delayed_until, now)),
            }
            for message in messages
        ]
    return queues


def restore_queues(
    sqs: Any, queue_urls: Mapping[str, str], queues: Mapping[str, list[dict[str, Any]]], replacements: Mapping[str, str]
) -> int:
    """Send every saved message again, available from the same time, with its receive count; how many."""
    count = 0
    for name, messages in queues.items():
        if name not in queue_urls:
            continue
        queue = _moto_queue(name)
        for saved in messages:
            body = rewrite_strings(saved["body"], replacements)
            args: dict[str, Any] = {"QueueUrl": queue_urls[name], "MessageBody": body}
            if saved.get("attributes"):
                args["MessageAttributes"] = _attributes_from_file(saved["attributes"])
            message_id = sqs.send_message(**args)["MessageId"]
            _restore_message_state(queue, message_id, saved)
            count += 1
    return count


def _restore_message_state(queue: Any, message_id: str, saved: Mapping[str, Any]) -> None:
    """What ``SendMessage`` cannot set: the receive count, the sent time, a wait of any length."""
    with queue._messages_lock:  # noqa: SLF001
        message = next(m for m in queue._messages if m.id == message_id)  # noqa: SLF001
        message.approximate_receive_count = int(saved.get("receive_count") or 0)
        if saved.get("sent_timestamp"):
            message.sent_timestamp = int(saved["sent_timestamp"])
        if saved.get("first_receive_timestamp"):
            message.approximate_first_receive_timestamp = int(saved["first_receive_timestamp"])
        available_at = float(saved.get("available_at_ms") or 0)
        if available_at > _now_ms():
            message.delayed_until = available_at


# -- provider reports ---------------------------------------------------------------------------


def reports_to_file(pending: Iterable[Iterable[ScheduledReport]]) -> list[list[dict[str, Any]]]:
    return [
        [{**asdict(report), "due_at": report.due_at.isoformat()} for report in reports] for reports in pending
    ]


def reports_from_file(saved: Iterable[Iterable[Mapping[str, Any]]]) -> list[list[ScheduledReport]]:
    return [
        [ScheduledReport(**{**report, "due_at": datetime.fromisoformat(report["due_at"])}) for report in reports]
        for reports in saved
    ]
