"""The console's data: message records, the stack's logs and workflow records turned into what a page shows.

Over 350 lines on purpose: every page's view, pure functions of JSON values tested one by one; splitting it per page would scatter the shared formatting helpers.

Pure functions of plain JSON values, so every view is testable without a running stack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import json

import jwt

from local_stack.console.sms_parts import API_TYPES, split_sms
from switchboard.domain import status as statuses
from switchboard.domain.message import Channel

INBOUND = "inbound"
OUTBOUND = "outbound"
# The provider simulators' names for the channels (their log's ``provider``).
PROVIDER_OF_CHANNEL = {Channel.SMS.value: "sms", Channel.MESSENGER.value: "messenger", Channel.VIBER.value: "viber"}
CHANNEL_LABELS = {Channel.SMS.value: "SMS", Channel.MESSENGER.value: "Messenger", Channel.VIBER.value: "Viber"}
PREVIEW_LENGTH = 120
# A provider request belongs to a message when it went out between its acceptance and its send outcome.
MATCH_SLACK_SECONDS = 1.0
SEND_OUTCOMES = frozenset({statuses.SUBMITTED, statuses.REJECTED})
RETRY_SCHEDULED = "retry_scheduled"
WEBHOOK_UNDELIVERABLE = "webhook_undeliverable"


# -- small readers -------------------------------------------------------------------------------


def pretty(value: Any) -> str:
    """JSON as the page shows it. Made here, where integers are exact: a browser's JSON.parse rounds
    those past 2**53, and Viber's message tokens and seq numbers are such integers."""
    return value if isinstance(value, str) else json.dumps(value, indent=2, ensure_ascii=False)


def pretty_raw(text: Any) -> str:
    """A raw body shown indented when it is JSON, as it is otherwise."""
    if not isinstance(text, str):
        return pretty(text)
    try:
        return pretty(json.loads(text))
    except ValueError:
        return text


def epoch(iso: Any) -> float | None:
    """ISO-8601 (``Z`` or an offset) as epoch seconds; None when it is not a time."""
    if not isinstance(iso, str) or not iso:
        return None
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp()


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def address(endpoint: Any) -> str:
    if not isinstance(endpoint, Mapping):
        return ""
    return str(endpoint.get("id") or endpoint.get("number") or "")


def is_message_record(item: Mapping[str, Any]) -> bool:
    """Message records, not the inbound de-duplication markers that share the table."""
    return bool(item.get("message_uuid")) and "channel" in item and "kind" not in item


def direction(record: Mapping[str, Any]) -> str:
    return INBOUND if record.get("direction") == INBOUND else OUTBOUND


def content_parts(content: Any) -> dict[str, Any]:
    """``type``, ``text``, ``url``, ``caption`` and ``location`` of outbound or inbound content."""
    if not isinstance(content, Mapping):
        return {"type": "unknown"}
    kind = str(content.get("type") or "unknown")
    nested = content.get(kind) if isinstance(content.get(kind), Mapping) else {}
    parts: dict[str, Any] = {"type": kind}
    for name in ("text", "url", "caption"):
        value = content.get(name) if content.get(name) is not None else nested.get(name)
        if value is not None:
            parts[name] = str(value)
    if kind == "location" and nested:
        parts["location"] = dict(nested)
    return parts


def preview(content: Any) -> str:
    parts = content_parts(content)
    if parts["type"] == "text":
        text = parts.get("text", "")
    elif parts["type"] == "location":
        place = parts.get("location") or {}
        where = place.get("name") or place.get("address") or f"{place.get('lat')}, {place.get('long')}"
        text = f"[location] {where}"
    else:
        text = f"[{parts['type']}] {parts.get('caption') or parts.get('url') or ''}".rstrip()
    return text if len(text) <= PREVIEW_LENGTH else text[: PREVIEW_LENGTH - 1] + "…"


# -- the messages list -----------------------------------------------------------------------------


def message_summary(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "message_uuid": record["message_uuid"],
        "direction": direction(record),
        "channel": record.get("channel"),
        "channel_label": CHANNEL_LABELS.get(str(record.get("channel")), str(record.get("channel"))),
        "from": address(record.get("from")),
        "to": address(record.get("to")),
        "preview": preview(record.get("content")),
        "status": record.get("status"),
        "account": record.get("api_key"),
        "application_id": record.get("application_id"),
        "client_ref": record.get("client_ref"),
        "created_at": record.get("created_at"),
        "updated_at": record.get("updated_at"),
        "workflow_uuid": record.get("workflow_uuid"),
    }


@dataclass(frozen=True)
class MessageFilter:
    channel: str = ""
    status: str = ""
    account: str = ""
    direction: str = ""
    search: str = ""  # a part of the message uuid, the recipient (or sender) or the client_ref

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> MessageFilter:
        return cls(
            channel=query.get("channel", "").strip(),
            status=query.get("status", "").strip(),
            account=query.get("account", "").strip(),
            direction=query.get("direction", "").strip(),
            search=query.get("q", "").strip(),
        )

    def matches(self, summary: Mapping[str, Any]) -> bool:
        for name in ("channel", "status", "account", "direction"):
            wanted = getattr(self, name)
            if wanted and summary.get(name) != wanted:
                return False
        if self.search:
            needle = self.search.lower()
            haystack = (summary.get(name) for name in ("message_uuid", "to", "from", "client_ref"))
            return any(needle in str(value).lower() for value in haystack if value)
        return True


def messages_view(records: Iterable[Mapping[str, Any]], wanted: MessageFilter, limit: int) -> dict[str, Any]:
    """Newest first, filtered; ``facets`` lists every channel, status and account there is to filter by."""
    summaries = [message_summary(r) for r in records if is_message_record(r)]
    summaries.sort(key=lambda s: (epoch(s["created_at"]) or 0.0, s["message_uuid"]), reverse=True)
    matched = [s for s in summaries if wanted.matches(s)]
    facets = {
        name: sorted({str(s[name]) for s in summaries if s.get(name)})
        for name in ("channel", "status", "account", "direction")
    }
    return {"total": len(summaries), "matched": len(matched), "messages": matched[:limit], "facets": facets}


# -- one message: timeline ---------------------------------------------------------------------------


def timeline(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The record's history as steps to show: each status, each retry (and when it is due), each receipt."""
    steps = []
    for entry in record.get("history") or []:
        if not isinstance(entry, Mapping):
            continue
        step: dict[str, Any] = {"at": entry.get("timestamp"), "status": entry.get("status")}
        event = entry.get("event")
        if event == RETRY_SCHEDULED:
            step["label"] = f"attempt {entry.get('attempt')} failed: retry scheduled"
            step["kind"] = "retry"
            delay = entry.get("retry_in_seconds")
            at = epoch(entry.get("timestamp"))
            if isinstance(delay, (int, float)) and at is not None:
                step["retry_in_seconds"] = delay
                step["next_attempt_at"] = iso(at + delay)
        elif event == WEBHOOK_UNDELIVERABLE:
            step["label"] = f"customer webhook {entry.get('webhook')} given up after {entry.get('attempts')} attempts"
            step["kind"] = "webhook"
        else:
            step["label"] = str(entry.get("status") or event or "event")
            step["kind"] = "late" if entry.get("late") else "status"
            if entry.get("late"):
                step["label"] += " (late receipt: the message was already past it)"
            if event:
                step["event"] = event
        if isinstance(entry.get("error"), Mapping):
            step["error"] = dict(entry["error"])
        if entry.get("occurred_at"):
            step["provider_time"] = entry["occurred_at"]
        if entry.get("attempt") is not None:
            step["attempt"] = entry["attempt"]
        steps.append(step)
    return steps


# -- one message: what went to the provider ----------------------------------------------------------


def request_recipient(request: Mapping[str, Any]) -> str | None:
    body = request.get("body")
    if not isinstance(body, Mapping):
        return None
    provider = request.get("provider")
    if provider == "sms":
        return _text(body.get("to"))
    if provider == "viber":
        return _text(body.get("dest"))
    recipient = body.get("recipient")
    return _text(recipient.get("id")) if isinstance(recipient, Mapping) else None


def request_content(request: Mapping[str, Any]) -> str | None:
    """The text (or media URL) a provider request carried."""
    body = request.get("body")
    if not isinstance(body, Mapping):
        return None
    provider = request.get("provider")
    if provider == "sms":
        return _text(body.get("text"))
    message = body.get("message")
    if not isinstance(message, Mapping):
        return None
    if provider == "viber":
        return _text(_viber_content(message))
    attachment = message.get("attachment")
    if isinstance(attachment, Mapping) and isinstance(attachment.get("payload"), Mapping):
        return _text(attachment["payload"].get("url"))
    return _text(message.get("text"))


def _viber_content(message: Mapping[str, Any]) -> Any:
    """The media URL of a Viber message (image, video in ``#media`` or ``#action``, file), else its text.

    ``#action`` is the video or file itself when the message has a thumbnail or file name, and the
    button's link otherwise.
    """
    media = message.get("#img") or message.get("#media")
    if media is None and ("#thumbnail" in message or "#fileName" in message):
        media = message.get("#action")
    return media or message.get("#txt")


def answered_message_id(request: Mapping[str, Any]) -> str | None:
    """The provider's id for the message it accepted, from the answer the simulator logged."""
    answer = request.get("response_body")
    if not isinstance(answer, Mapping):
        return None
    if request.get("provider") == "sms":
        entries = answer.get("messages")
        first = entries[0] if isinstance(entries, list) and entries and isinstance(entries[0], Mapping) else {}
        return _text(first.get("message-id"))
    if request.get("provider") == "viber":
        return _text(answer.get("message_token"))
    return _text(answer.get("message_id"))


def _text(value: Any) -> str | None:
    return None if value is None or isinstance(value, (dict, list)) else str(value)


def _received(request: Mapping[str, Any]) -> float:
    return epoch(request.get("received_at")) or 0.0


def _send_window(record: Mapping[str, Any], now: float) -> tuple[float, float]:
    start = (epoch(record.get("created_at")) or 0.0) - MATCH_SLACK_SECONDS
    for entry in record.get("history") or []:
        if isinstance(entry, Mapping) and entry.get("status") in SEND_OUTCOMES and not entry.get("event"):
            return start, (epoch(entry.get("timestamp")) or now) + MATCH_SLACK_SECONDS
    return start, now + MATCH_SLACK_SECONDS


def provider_exchanges(
    record: Mapping[str, Any], requests: Sequence[Mapping[str, Any]], now: float
) -> list[dict[str, Any]]:
    """The requests sent to the provider for this message, each with the answer it got, oldest first.

    A request is this message's when the provider's answer names the record's provider message id,
    when its SMS ``client-ref`` is the message uuid, or (an attempt the provider refused, which names
    no id) when it went to the same recipient with the same content while the message was being sent.
    """
    if direction(record) == INBOUND:
        return []
    provider = PROVIDER_OF_CHANNEL.get(str(record.get("channel")))
    recipient = address(record.get("to"))
    message_uuid = record.get("message_uuid")
    provider_id = _text(record.get("provider_message_id"))
    parts = content_parts(record.get("content"))
    content = parts.get("text") or parts.get("url")
    start, end = _send_window(record, now)
    found = []
    for request in requests:
        if request.get("provider") != provider or request_recipient(request) != recipient:
            continue
        body = request.get("body")
        client_ref = body.get("client-ref") if provider == "sms" and isinstance(body, Mapping) else None
        answered = answered_message_id(request)
        if client_ref is not None:
            matched_by = "client-ref" if client_ref == message_uuid else None
        elif provider_id is not None and answered == provider_id:
            matched_by = "provider message id"
        elif answered is None and request_content(request) == content and start <= _received(request) <= end:
            matched_by = "recipient, content and time"
        else:
            matched_by = None
        if matched_by:
            texts = {
                "body_text": pretty(request.get("body")),
                "response_body_text": pretty(request.get("response_body")),
            }
            found.append({**request, "matched_by": matched_by, **texts})
    return found


def provider_reports(record: Mapping[str, Any], reports: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The simulators' delivery and read reports (every attempt) about this message."""
    provider = PROVIDER_OF_CHANNEL.get(str(record.get("channel")))
    provider_id = _text(record.get("provider_message_id"))
    if provider_id is None or direction(record) == INBOUND:
        return []
    return [
        {**r, "body_text": pretty(r.get("body"))}
        for r in reports
        if r.get("provider") == provider and _text(r.get("message_id")) == provider_id
    ]


# -- one message: customer webhooks -----------------------------------------------------------------


def _header(headers: Any, name: str) -> str | None:
    if not isinstance(headers, Mapping):
        return None
    return next((str(v) for k, v in headers.items() if str(k).lower() == name.lower()), None)


def webhook_marker(body: Mapping[str, Any]) -> str:
    """The record's name for the webhook a body is: ``status:<status>``, or ``inbound``."""
    return f"status:{body['status']}" if body.get("status") else "inbound"


def signature_view(sink_record: Mapping[str, Any]) -> dict[str, Any]:
    """Our signature on a webhook the sink received, its claims, and the sink's verdict."""
    authorization = _header(sink_record.get("headers"), "Authorization") or ""
    scheme, _, token = authorization.partition(" ")
    view: dict[str, Any] = {"valid": sink_record.get("signature_valid"), "scheme": scheme or None}
    if scheme.lower() == "bearer" and token:
        view["token"] = token
        try:
            view["header"] = jwt.get_unverified_header(token)
            view["claims"] = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError as exc:
            view["decode_error"] = str(exc)
    return view


def sink_delivery(sink_record: Mapping[str, Any]) -> dict[str, Any]:
    host = _header(sink_record.get("headers"), "Host") or ""
    return {
        "received_at": sink_record.get("received_at"),
        "method": sink_record.get("method"),
        "url": f"http://{host}{sink_record.get('path', '')}",
        "body": sink_record.get("body"),
        "raw_body": sink_record.get("raw_body"),
        "body_text": pretty_raw(sink_record.get("raw_body")),
        "signature": signature_view(sink_record),
        "answered": 200,  # the sink answers every request 200
    }


def customer_webhooks(record: Mapping[str, Any], sink_records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Every attempt recorded on the message, each with the sink's copy of what it sent.

    The n-th delivered attempt of a webhook is paired with the n-th request the sink received for
    that message and webhook. A sink copy with no attempt yet (the notifier records the attempt after
    the receiver answered) is listed on its own; an attempt with no copy went to a receiver that is
    not the local sink, whose copy the stack cannot show.
    """
    message_uuid = record.get("message_uuid")
    copies: dict[str, list[Mapping[str, Any]]] = {}
    for sink_record in sink_records:
        body = sink_record.get("body")
        if isinstance(body, Mapping) and body.get("message_uuid") == message_uuid:
            copies.setdefault(webhook_marker(body), []).append(sink_record)
    entries = []
    for attempt in record.get("webhook_attempts") or []:
        if not isinstance(attempt, Mapping):
            continue
        entry: dict[str, Any] = {"webhook": attempt.get("webhook"), "attempt": dict(attempt)}
        at, delay = epoch(attempt.get("at")), attempt.get("next_retry_in")
        if at is not None and isinstance(delay, (int, float)):
            entry["next_attempt_due_at"] = iso(at + delay)
        waiting = copies.get(str(attempt.get("webhook")))
        if attempt.get("outcome") == "delivered" and waiting:
            entry["delivery"] = sink_delivery(waiting.pop(0))
        entries.append(entry)
    for marker, left in copies.items():
        entries.extend({"webhook": marker, "attempt": None, "delivery": sink_delivery(copy)} for copy in left)
    entries.sort(key=lambda e: epoch((e["attempt"] or {}).get("at") or e["delivery"]["received_at"]) or 0.0)
    return entries


# -- workflows ------------------------------------------------------------------------------------------


def workflow_view(
    item: Mapping[str, Any], messages_by_uuid: Mapping[str, Mapping[str, Any]], now: float
) -> dict[str, Any]:
    """A failover workflow with each step's message, its status and the time left on its timer."""
    started_at = item.get("started_at") if isinstance(item.get("started_at"), Mapping) else {}
    due_at = item.get("due_at") if isinstance(item.get("due_at"), Mapping) else {}
    current = item.get("current_step")
    running = item.get("status") == "in_progress"
    steps = []
    for index, step in enumerate(item.get("steps") or []):
        message = step.get("message") if isinstance(step.get("message"), Mapping) else {}
        record = messages_by_uuid.get(str(step.get("message_uuid")))
        view: dict[str, Any] = {
            "index": index,
            "message_uuid": step.get("message_uuid"),
            "channel": message.get("channel"),
            "channel_label": CHANNEL_LABELS.get(str(message.get("channel")), str(message.get("channel"))),
            "to": address(message.get("to")),
            "preview": preview(message.get("content")),
            "started_at": started_at.get(str(index)),
            "message_status": record.get("status") if record else None,
            "current": running and current == index,
        }
        failover = step.get("failover")
        if isinstance(failover, Mapping):
            view["failover"] = dict(failover)
        due = due_at.get(str(index))
        if isinstance(due, (int, float)):
            view["timer_due_at"] = iso(due)
            if view["current"]:
                view["seconds_left"] = max(0.0, round(due - now, 1))
        view["state"] = "not started" if view["started_at"] is None else (view["message_status"] or "starting")
        steps.append(view)
    return {
        "workflow_uuid": item.get("workflow_uuid"),
        "flavour": item.get("flavour"),
        "template": item.get("template"),
        "status": item.get("status"),
        "account": item.get("api_key"),
        "current_step": current,
        "created_at": item.get("created_at"),
        "updated_at": item.get("updated_at"),
        "outcome": item.get("outcome"),
        "steps": steps,
        "history": list(item.get("history") or []),
        "history_text": pretty(list(item.get("history") or [])),
    }


def workflows_view(
    items: Iterable[Mapping[str, Any]], messages_by_uuid: Mapping[str, Mapping[str, Any]], now: float
) -> list[dict[str, Any]]:
    """Running ones first, then the newest."""
    views = [workflow_view(item, messages_by_uuid, now) for item in items if item.get("workflow_uuid")]
    views.sort(key=lambda w: epoch(w["created_at"]) or 0.0, reverse=True)
    views.sort(key=lambda w: w["status"] != "in_progress")
    return views


# -- channel previews -----------------------------------------------------------------------------------


def sms_encoding(record: Mapping[str, Any], exchanges: Sequence[Mapping[str, Any]]) -> tuple[str | None, str]:
    """The encoding the SMS goes (or went) in, and where that is known from."""
    for exchange in reversed(exchanges):
        body = exchange.get("body")
        if isinstance(body, Mapping) and body.get("type") in API_TYPES:
            return API_TYPES[body["type"]], "the request sent to the SMS API"
    options = record.get("sms") if isinstance(record.get("sms"), Mapping) else {}
    if options.get("encoding_type") in API_TYPES:
        return API_TYPES[options["encoding_type"]], "the message's encoding_type"
    return None, "the text's characters"


def channel_preview(record: Mapping[str, Any], exchanges: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    parts = content_parts(record.get("content"))
    preview_view: dict[str, Any] = {
        "channel": record.get("channel"),
        "channel_label": CHANNEL_LABELS.get(str(record.get("channel")), str(record.get("channel"))),
        "direction": direction(record),
        "from": address(record.get("from")),
        "to": address(record.get("to")),
        "content": parts,
    }
    if record.get("channel") == Channel.SMS.value and parts.get("text") is not None:
        encoding, source = sms_encoding(record, exchanges)
        preview_view["kind"] = "sms"
        sms = split_sms(parts["text"], encoding)  # type: ignore[arg-type]
        preview_view["sms"] = sms.to_json() | {"encoding_from": source}
    else:
        preview_view["kind"] = "chat"
    return preview_view


# -- one message, whole ----------------------------------------------------------------------------------


def message_detail(
    record: Mapping[str, Any],
    *,
    requests: Sequence[Mapping[str, Any]],
    reports: Sequence[Mapping[str, Any]],
    sink_records: Sequence[Mapping[str, Any]],
    workflow: Mapping[str, Any] | None,
    messages_by_uuid: Mapping[str, Mapping[str, Any]],
    actions: Mapping[str, Any],
    now: float,
) -> dict[str, Any]:
    exchanges = provider_exchanges(record, requests, now)
    return {
        "summary": message_summary(record),
        "error": record.get("error"),
        "last_error": record.get("last_error"),
        "provider_message_id": record.get("provider_message_id"),
        "api_version": record.get("api_version"),
        "timeline": timeline(record),
        "preview": channel_preview(record, exchanges),
        "provider_exchanges": exchanges,
        "provider_reports": provider_reports(record, reports),
        "webhooks": customer_webhooks(record, sink_records),
        "workflow": workflow_view(workflow, messages_by_uuid, now) if workflow else None,
        "actions": dict(actions),
        "record": dict(record),
        "record_text": pretty(dict(record)),
    }
