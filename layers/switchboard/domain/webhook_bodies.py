"""Customer webhook bodies in the two shapes a Messages API application can receive, and which one goes out.

**2018 (v0.1)**: nested ``to``/``from`` objects and ``message.content`` (``domain.notification``'s
``status_body`` and ``inbound_body``, protocols.md 3.2 and 3.3).

**v1** (the Messages API v1 OpenAPI document, protocols.md 9; JSON Schemas in
``tests/contract/schemas/v1``): flat ``to``/``from`` strings and ``channel``.

- Status: ``message_uuid``, ``to``, ``from``, ``timestamp``, ``status``, ``channel`` (``sms``,
  ``messenger``, ``viber_service``), ``client_ref`` when the message had one, ``error``
  ``{type, title, detail, instance}`` when it failed (``type`` the documentation URL of the code,
  ``title`` the code, ``detail`` the reason, ``instance`` an id of this occurrence), for SMS
  ``sms.count_total`` and ``destination.network_code`` when known, and ``workflow
  {workflow_id, status, items_number}`` on a step of a failover workflow.
- Inbound: ``channel``, ``message_uuid``, ``to``, ``from``, ``timestamp``, ``message_type`` and its
  field (``text``; ``image``/``audio``/``video``/``file`` ``{url}``), for SMS ``sms {num_messages,
  keyword}``. Content the channel's v1 schema has no type for is ``message_type: "unsupported"``;
  a Messenger location, which v1 has no type for, also keeps its coordinates in ``location``
  ``{lat, long, url?}`` (lat/long as numbers, as in the v1 ``location`` type of other channels).

Both shapes are built from the same inputs: the message record, the status change (state, time,
error) and the inbound record. Signing does not depend on the shape: the notifier signs the body
bytes that go out (``payload_hash``), whichever shape they have.

Which shape goes out (``select_webhook_version``): the message's own ``webhook_version`` (v1
requests); otherwise its application's explicit setting, else its account's; with no setting a
status webhook follows the API version the message was sent with (v1 -> v1, beta and v0.1 ->
2018) and an inbound message gets the 2018 shape.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from switchboard.domain import status as statuses
from switchboard.domain.error_codes import REASONS
from switchboard.domain.message import ApiVersion, Channel, Endpoint
from switchboard.domain.message_record import NETWORK_CODE, OWNER_WEBHOOK_VERSION, SMS_PART_COUNT
from switchboard.domain.notification import INBOUND_KIND, STATUS_KIND, inbound_body, status_body
from switchboard.domain.whatsapp_webhook_bodies import whatsapp_v1_content
from switchboard.domain.workflow import IN_PROGRESS

V0_1 = "v0.1"
V1 = "v1"
WEBHOOK_VERSIONS: tuple[str, ...] = (V0_1, V1)

V1_CHANNEL_NAMES: dict[Channel, str] = {
    Channel.SMS: "sms",
    Channel.MESSENGER: "messenger",
    Channel.VIBER: "viber_service",
    Channel.WHATSAPP: "whatsapp",
}
ERROR_TYPE_URL = "https://developer.vonage.com/api-errors/messages#{code}"
UNSUPPORTED = "unsupported"

# The inbound message types each channel's v1 inbound schema has (the OpenAPI document's
# ``inbound-message`` webhook; Viber adds no audio there).
V1_INBOUND_TYPES: dict[Channel, frozenset[str]] = {
    Channel.SMS: frozenset({"text"}),
    Channel.MESSENGER: frozenset({"text", "image", "audio", "video", "file"}),
    Channel.VIBER: frozenset({"text", "image", "video", "file"}),
    Channel.WHATSAPP: frozenset({"text", "image", "audio", "video", "file"}),
}
_READ_CHANNELS = frozenset({Channel.MESSENGER, Channel.VIBER, Channel.WHATSAPP})
_MEDIA_TYPES = frozenset({"image", "audio", "video", "file"})
# Names the ``instance`` of an error: one status of one message happens once, so (message, status)
# identifies the occurrence, and a webhook rebuilt for the same change carries the same id.
_ERROR_INSTANCE_NAMESPACE = uuid.UUID("5b0c7a0e-2f4d-4f61-9a3e-8c1d2b7e6f10")


@dataclass(frozen=True)
class SmsStatusExtras:
    """What a v1 SMS status adds when known: the number of parts and the destination network (MCCMNC)."""

    count_total: int | None = None
    network_code: str | None = None


def select_webhook_version(
    kind: str,
    *,
    message: str | None = None,
    application: str | None = None,
    account: str | None = None,
    sent_with: ApiVersion | str | None = None,
) -> str:
    """``"v0.1"`` or ``"v1"``: the shape of a ``kind`` (``status`` | ``inbound``) webhook.

    ``message`` is the message's ``webhook_version`` (status only: an inbound message has none),
    ``application`` / ``account`` the owner's explicit settings (``None`` = not set), ``sent_with``
    the API version the message was sent with (needed for a status when nothing is set).
    """
    if kind not in (STATUS_KIND, INBOUND_KIND):
        raise ValueError(f"no webhook version applies to {kind!r} webhooks")
    if kind == INBOUND_KIND and message is not None:
        raise ValueError("an inbound message has no webhook_version of its own")
    for setting in (message, application, account):
        if setting is not None:
            return checked_version(setting)
    if kind == INBOUND_KIND:
        return V0_1
    if sent_with is None:
        raise ValueError("a status webhook with no version setting needs the API version the message was sent with")
    return V1 if ApiVersion(sent_with) is ApiVersion.V1 else V0_1


def record_webhook_version(kind: str, record: dict[str, Any]) -> str:
    """The shape of ``record``'s ``kind`` webhook, from what the record carries (``select_webhook_version``).

    A message record has its own ``webhook_version`` (v1 requests that gave one), the owner's
    setting stamped when it was made (``owner_webhook_version``) and the API version it was sent
    with; an inbound record has the owner's setting only.
    """
    if kind == INBOUND_KIND:
        return select_webhook_version(kind, application=record.get(OWNER_WEBHOOK_VERSION))
    return select_webhook_version(
        kind,
        message=record.get("webhook_version"),
        application=record.get(OWNER_WEBHOOK_VERSION),
        sent_with=record.get("api_version"),
    )


def sms_extras_of(record: dict[str, Any]) -> SmsStatusExtras | None:
    """What a v1 SMS status can say about ``record``: its part count once the provider took it
    (``sms_part_count``, absent for a single part) and the destination network when the provider named it."""
    if record.get("channel") != Channel.SMS.value:
        return None
    submitted = record.get("provider_message_id") is not None
    count = int(record.get(SMS_PART_COUNT) or 1) if submitted else None
    return SmsStatusExtras(count_total=count, network_code=record.get(NETWORK_CODE) or None)


def checked_version(version: str) -> str:
    if version not in WEBHOOK_VERSIONS:
        raise ValueError(f"unknown webhook version {version!r}; expected one of {', '.join(WEBHOOK_VERSIONS)}")
    return version


def status_body_for(
    version: str,
    record: dict[str, Any],
    state: str,
    occurred_at_iso: str,
    error: dict[str, Any] | None = None,
    *,
    sms: SmsStatusExtras | None = None,
    workflow_status: str = IN_PROGRESS,
) -> dict[str, Any]:
    """The status webhook body in ``version``'s shape (the 2018 shape has no SMS extras or workflow status)."""
    if checked_version(version) == V1:
        return v1_status_body(record, state, occurred_at_iso, error, sms=sms, workflow_status=workflow_status)
    return status_body(record, state, occurred_at_iso, error)


def inbound_body_for(version: str, record: dict[str, Any]) -> dict[str, Any]:
    """The inbound webhook body in ``version``'s shape."""
    return v1_inbound_body(record) if checked_version(version) == V1 else inbound_body(record)


def v1_status_body(
    record: dict[str, Any],
    state: str,
    occurred_at_iso: str,
    error: dict[str, Any] | None = None,
    *,
    sms: SmsStatusExtras | None = None,
    workflow_status: str = IN_PROGRESS,
) -> dict[str, Any]:
    """A v1 status webhook for ``record``'s change to ``state`` (module docstring).

    ``workflow_status`` is the workflow's state when this status happened: a step's status is
    recorded before the engine reacts to it, so ``in_progress`` unless the caller knows otherwise.
    """
    channel = Channel(record["channel"])
    if state not in statuses.PUBLIC:
        raise ValueError(f"{state!r} is not a status customers are told about")
    if state == statuses.READ and channel not in _READ_CHANNELS:
        raise ValueError(f"a {channel.value} message has no read status")
    if sms is not None and channel is not Channel.SMS:
        raise ValueError("SMS extras are for SMS messages only")
    body: dict[str, Any] = {
        "message_uuid": record["message_uuid"],
        "to": _address(record["to"]),
        "from": _address(record["from"]),
        "timestamp": occurred_at_iso,
        "status": state,
        "channel": V1_CHANNEL_NAMES[channel],
    }
    if record.get("client_ref") is not None:
        body["client_ref"] = record["client_ref"]
    if error:
        body["error"] = v1_error(record["message_uuid"], state, error)
    if sms is not None:
        if sms.network_code:
            body["destination"] = {"network_code": sms.network_code}
        if sms.count_total is not None:
            body["sms"] = {"count_total": str(int(sms.count_total))}
    if record.get("workflow_uuid"):
        body["workflow"] = {
            "workflow_id": record["workflow_uuid"],
            "status": workflow_status,
            "items_number": str(int(record["workflow_step"]) + 1),
        }
    return body


def v1_error(message_uuid: str, state: str, error: dict[str, Any]) -> dict[str, str]:
    """``{type, title, detail, instance}`` for a 2018 ``{code, reason}`` error."""
    code = int(error["code"])
    return {
        "type": ERROR_TYPE_URL.format(code=code),
        "title": str(code),
        "detail": str(error.get("reason") or REASONS.get(code, "Unknown")),
        "instance": str(uuid.uuid5(_ERROR_INSTANCE_NAMESPACE, f"{message_uuid}#{state}")),
    }


def v1_inbound_body(record: dict[str, Any]) -> dict[str, Any]:
    """A v1 inbound webhook for an inbound message record (module docstring)."""
    channel = Channel(record["channel"])
    body: dict[str, Any] = {
        "channel": V1_CHANNEL_NAMES[channel],
        "message_uuid": record["message_uuid"],
        "to": _address(record["to"]),
        "from": _address(record["from"]),
        "timestamp": record["timestamp"],
    }
    content = record["content"]
    body.update(_v1_content(channel, content))
    if channel is Channel.SMS:
        body["sms"] = _inbound_sms(content.get("text") or "")
    return body


def _v1_content(channel: Channel, content: dict[str, Any]) -> dict[str, Any]:
    if channel is Channel.WHATSAPP:
        return whatsapp_v1_content(content)
    kind = content.get("type")
    if kind in V1_INBOUND_TYPES[channel]:
        if kind == "text":
            return {"message_type": "text", "text": content["text"]}
        if kind in _MEDIA_TYPES:
            return {"message_type": kind, kind: {"url": content[kind]["url"]}}
    if kind == "location":
        location = _v1_location(content.get("location") or {})
        return {"message_type": UNSUPPORTED, **({"location": location} if location else {})}
    return {"message_type": UNSUPPORTED}


def _v1_location(location: dict[str, Any]) -> dict[str, Any] | None:
    try:
        out: dict[str, Any] = {"lat": float(location["lat"]), "long": float(location["long"])}
    except (KeyError, TypeError, ValueError):
        return None
    for key in ("url", "name", "address"):
        if location.get(key):
            out[key] = str(location[key])
    return out


def _inbound_sms(text: str) -> dict[str, str]:
    # Concatenated SMS are not reassembled: every inbound webhook is one SMS (docs/webhooks.md).
    sms = {"num_messages": "1"}
    words = text.split()
    if words:
        sms["keyword"] = words[0].upper()
    return sms


def _address(endpoint: dict[str, Any]) -> str:
    """The flat v1 form of a stored ``{type, id | number}``: the id or the number."""
    return Endpoint(**endpoint).address
