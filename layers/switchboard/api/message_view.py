"""``GET /{version}/messages/{message_uuid}``: a message's current state and full history.

A step beyond the 2018 API, which had no lookup. Only the owning account (Basic) or one of its
applications (JWT) can see a message; anyone else gets the same 404 as for an unknown id, so ids of
other accounts' messages cannot be probed.
"""
from __future__ import annotations

import uuid
from typing import Any, Protocol

from switchboard.domain import status
from switchboard.domain.message import ApiVersion, Principal
from switchboard.domain.errors import NotFound

_V1_CHANNEL_NAMES = {"viber_service_msg": "viber_service"}
# Internal states before a final outcome are shown as "accepted": the customer only needs to know it
# is not settled yet (``outcome_unknown`` stays visible in the history).
_PUBLIC_STATUS = {status.ACCEPTED: "accepted", status.SENDING: "accepted", status.OUTCOME_UNKNOWN: "accepted"}


class MessageReader(Protocol):
    def get(self, message_uuid: str) -> dict[str, Any] | None: ...

    def webhook_attempts(self, message_uuid: str) -> list[dict[str, Any]]: ...


def _flat_address(endpoint: dict[str, str]) -> str:
    return endpoint.get("id") or endpoint.get("number") or ""


def message_view(
    record: dict[str, Any], version: ApiVersion, webhook_attempts: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """The lookup's body. ``webhook_attempts``: the message's webhook-attempts item (records written
    before attempts moved to their own item keep theirs on the record; both are shown)."""
    message_uuid = record["message_uuid"]
    channel = record.get("channel", "")
    view: dict[str, Any] = {"message_uuid": message_uuid, "direction": record.get("direction", "outbound")}
    if version is ApiVersion.V1:
        view["channel"] = _V1_CHANNEL_NAMES.get(channel, channel)
        view["to"] = _flat_address(record.get("to", {}))
        view["from"] = _flat_address(record.get("from", {}))
    else:
        view["channel"] = channel
        view["to"] = record.get("to", {})
        view["from"] = record.get("from", {})
    for key in ("client_ref", "webhook_url"):
        if record.get(key) is not None:
            view[key] = record[key]
    current = record.get("status", status.ACCEPTED)
    view["status"] = _PUBLIC_STATUS.get(current, current)
    if record.get("error"):
        view["error"] = record["error"]
    for key in ("created_at", "updated_at"):
        if key in record:
            view[key] = record[key]
    view["history"] = record.get("history", [])
    view["webhook_attempts"] = [*(record.get("webhook_attempts") or []), *(webhook_attempts or [])]
    view["_links"] = {"self": {"href": f"/{version.value}/messages/{message_uuid}"}}
    return view


def find_message(reader: MessageReader, message_uuid: str, principal: Principal, version: ApiVersion) -> dict[str, Any]:
    not_found = NotFound(f"Message {message_uuid} was not found.")
    try:
        canonical = str(uuid.UUID(message_uuid))
    except ValueError:
        raise not_found from None
    record = reader.get(canonical)
    if record is None or record.get("api_key") != principal.api_key:
        raise not_found
    return message_view(record, version, reader.webhook_attempts(canonical))
