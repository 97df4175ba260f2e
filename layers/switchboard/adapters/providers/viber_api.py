"""Viber Service Messages through the partner ``send_message`` API (protocols.md 5.2).

Message type codes (the partner API's documentation is private; the codes and fields beyond 106/107
come from third-party integrations of its current version and are unverified, docs/providers.md):

====  ==========================  ==================================================================
106   text                        ``#txt``
109   text + button               ``#txt``, ``#caption`` (button label), ``#action`` (button link)
107   image                       ``#img``
108   image + text (+ button)     ``#img``, ``#txt`` (the caption), ``#caption``/``#action`` (empty:
                                  no button)
230   video                       ``#action`` (video), ``#thumbnail``; ``duration`` s, ``file_size``
                                  bytes at the top level
231   video + text                as 230 plus ``#txt`` (the caption)
233   video (+ text) + button     ``#media`` (video), ``#thumbnail``, ``#txt``?, ``#caption``,
                                  ``#action`` (button link)
222   file                        ``#action`` (file), ``#fileName``; ``file_type`` (extension) at
                                  the top level
====  ==========================  ==================================================================

Video types carry ``#tracking_data`` (the message uuid): Viber requires it on them and refuses it on
106-109. The category travels as ``label``.

``seq`` is derived from the message UUID, so a resend of the same message carries the same ``seq``
and Viber can recognise the duplicate.

Status mapping (``status`` in the always-HTTP-200 response):

====  ============================  =================
0     SRVC_SUCCESS                  ACCEPTED (``message_token``)
1     SRVC_INTERNAL_FAILURE         RETRY 1100
2     SRVC_BAD_SERVICE_ID           REJECTED 1120
3     SRVC_BAD_DATA                 REJECTED 1040
4     SRVC_BLOCKED_MESSAGE_TYPE     REJECTED 1140
5     SRVC_BAD_MESSAGE_TYPE         REJECTED 1040
6     SRVC_BAD_PARAMETERS           REJECTED 1020
7     SRVC_TIMEOUT                  RETRY 1100
8     SRVC_USER_BLOCKED             REJECTED 1050
9     SRVC_NOT_VIBER_USER           REJECTED 1300
10    SRVC_NO_SUITABLE_DEVICE       REJECTED 1310
11    SRVC_UNAUTHORIZED_IP          REJECTED 1140
12    SRVC_ALREADY_SENT             REJECTED 1320
13    SRVC_NOT_PERMITTED            REJECTED 1140
14    SRVC_BILLING_FAILURE          REJECTED 1290
17    SRVC_NO_MORE_MESSAGES         REJECTED 1070
18    SRVC_BAD_LABEL                REJECTED 1020
20    SRVC_INVALID_TTL              REJECTED 1130
21    SRVC_WAIT_FOR_USER_RESPONSE   REJECTED 1340
27    SRVC_INVALID_PHONE_NUMBER     REJECTED 1240
28    SRVC_FILE_NOT_PERMITTED       REJECTED 1040
29    SRVC_BAD_FILE_NAME_LENGTH     REJECTED 1020
30    SRVC_BAD_THUMBNAIL            REJECTED 1020
31    SRVC_BAD_FILE_SIZE            REJECTED 1020
32    SRVC_BAD_DURATION             REJECTED 1020
else                                REJECTED 1030
====  ============================  =================
"""
from __future__ import annotations

import hashlib
from typing import Any

from switchboard.adapters.providers import transport
from switchboard.adapters.providers.transport import ProviderReply
from switchboard.domain.error_codes import (
    COMMUNICATION_FAILED,
    ILLEGAL_SENDER,
    INTERNAL_ERROR,
    INVALID_MESSAGE,
    INVALID_PARAMS,
)
from switchboard.domain.message import Channel, Content, OutboundMessage, ViberOptions
from switchboard.domain.sending import AbandonedSend, SendResult, TransactionContact, accepted, rejected, retry

PROVIDER = "viber"
DEFAULT_API_BASE = "https://services.viber.com/vibersrvc/1"

VIBER_TRANSACTION = "transaction"

TEXT_TYPE = 106
TEXT_BUTTON_TYPE = 109
IMAGE_TYPE = 107
IMAGE_TEXT_BUTTON_TYPE = 108
VIDEO_TYPE = 230
VIDEO_TEXT_TYPE = 231
VIDEO_BUTTON_TYPE = 233
FILE_TYPE = 222
BYTES_PER_MB = 1024 * 1024

STATUS_NAMES: dict[int, str] = {
    1: "SRVC_INTERNAL_FAILURE",
    2: "SRVC_BAD_SERVICE_ID",
    3: "SRVC_BAD_DATA",
    4: "SRVC_BLOCKED_MESSAGE_TYPE",
    5: "SRVC_BAD_MESSAGE_TYPE",
    6: "SRVC_BAD_PARAMETERS",
    7: "SRVC_TIMEOUT",
    8: "SRVC_USER_BLOCKED",
    9: "SRVC_NOT_VIBER_USER",
    10: "SRVC_NO_SUITABLE_DEVICE",
    11: "SRVC_UNAUTHORIZED_IP",
    12: "SRVC_ALREADY_SENT",
    13: "SRVC_NOT_PERMITTED",
    14: "SRVC_BILLING_FAILURE",
    17: "SRVC_NO_MORE_MESSAGES",
    18: "SRVC_BAD_LABEL",
    20: "SRVC_INVALID_TTL",
    21: "SRVC_WAIT_FOR_USER_RESPONSE",
    27: "SRVC_INVALID_PHONE_NUMBER",
    28: "SRVC_FILE_NOT_PERMITTED",
    29: "SRVC_BAD_FILE_NAME_LENGTH",
    30: "SRVC_BAD_THUMBNAIL",
    31: "SRVC_BAD_FILE_SIZE",
    32: "SRVC_BAD_DURATION",
}
RETRY_STATUSES = frozenset({1, 7})
REJECTED_STATUSES: dict[int, int] = {
    2: 1120,
    3: 1040,
    4: 1140,
    5: 1040,
    6: 1020,
    8: 1050,
    9: 1300,
    10: 1310,
    11: 1140,
    12: 1320,
    13: 1140,
    14: 1290,
    17: 1070,
    18: 1020,
    20: 1130,
    21: 1340,
    27: 1240,
    28: 1040,
    29: 1020,
    30: 1020,
    31: 1020,
    32: 1020,
}

_SEQ_MASK = (1 << 63) - 1


class ViberAdapter:
    channel = Channel.VIBER
    # A resend carries the same ``seq`` (derived from the message uuid), so Viber refuses a duplicate
    # (status 12, Nexmo 1320) instead of delivering it twice.
    abandoned_send = AbandonedSend.RESEND

    def contact_after_submit(self, message: OutboundMessage) -> TransactionContact | None:
        """A transaction message opens the service's transaction window with the number (ContactsTable)."""
        if viber_category(message) != VIBER_TRANSACTION:
            return None
        return TransactionContact(service_id=message.sender.id or "", number=message.recipient.number or "")

    def send(self, message: OutboundMessage, message_uuid: str, config: dict) -> SendResult:
        section = config.get("viber") or {}
        service_id = message.sender.address
        configured = {str(each) for each in section.get("service_ids") or []}
        if service_id not in configured:
            return rejected(ILLEGAL_SENDER, f"Viber service {service_id} is not configured for this deployment")
        try:
            numeric_service_id = int(service_id)
        except ValueError:
            return rejected(ILLEGAL_SENDER, f"Viber service id {service_id} is not a number")

        body_or_error = request_body(message, numeric_service_id, message_uuid)
        if isinstance(body_or_error, SendResult):
            return body_or_error

        api_base = str(section.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        return transport.post(
            PROVIDER, f"{api_base}/send_message", interpret, message_uuid=message_uuid, json=body_or_error,
            credential=service_id,  # paced per Viber service
        )


def viber_category(message: OutboundMessage) -> str:
    # Nexmo's default category for Viber is "transaction" (since 2018-05-07).
    return (message.viber.category if message.viber else None) or VIBER_TRANSACTION


def seq_for(message_uuid: str) -> int:
    """A stable ``seq`` for the message: the same UUID always gives the same non-negative 63-bit number."""
    digest = hashlib.sha256(message_uuid.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") & _SEQ_MASK


def request_body(message: OutboundMessage, service_id: int, message_uuid: str) -> dict[str, Any] | SendResult:
    """The ``send_message`` body, or a rejection when the content cannot be sent on Viber."""
    options = message.viber or ViberOptions()
    typed = _typed_message(message.content, options, message_uuid)
    if isinstance(typed, SendResult):
        return typed
    message_type, payload, top_level = typed
    body: dict[str, Any] = {
        "service_id": service_id,
        "dest": message.recipient.address,
        "seq": seq_for(message_uuid),
        "type": message_type,
        "message": payload,
        **top_level,
    }
    if options.ttl is not None:
        body["ttl"] = options.ttl
    body["label"] = options.category
    return body


def _typed_message(
    content: Content, options: ViberOptions, message_uuid: str
) -> tuple[int, dict[str, Any], dict[str, Any]] | SendResult:
    """(type code, ``message`` object, extra top-level fields) for the content (table in the module docstring)."""
    button = _button(options)
    if content.type == "text" and content.text is not None:
        if button:
            return TEXT_BUTTON_TYPE, {"#txt": content.text, **button}, {}
        return TEXT_TYPE, {"#txt": content.text}, {}
    if content.type == "image" and content.url:
        if not (content.caption or button):
            return IMAGE_TYPE, {"#img": content.url}, {}
        payload = {"#img": content.url, **_caption(content)}
        # Empty #caption and #action hide the button of an image + text message.
        return IMAGE_TEXT_BUTTON_TYPE, payload | (button or {"#caption": "", "#action": ""}), {}
    if content.type == "video" and content.url and content.thumb_url:
        if options.duration is None or options.file_size is None:
            return rejected(INVALID_PARAMS, "a viber video needs its duration and file size")
        payload = {"#thumbnail": content.thumb_url, **_caption(content)}
        if button:
            message_type, payload = VIDEO_BUTTON_TYPE, {"#media": content.url, **payload, **button}
        else:
            message_type = VIDEO_TEXT_TYPE if content.caption else VIDEO_TYPE
            payload = {"#action": content.url, **payload}
        payload["#tracking_data"] = message_uuid
        return message_type, payload, {"duration": options.duration, "file_size": options.file_size * BYTES_PER_MB}
    if content.type == "file" and content.url:
        name = content.file_name
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if not extension:
            return rejected(INVALID_PARAMS, "a viber file needs a file name with an extension")
        return FILE_TYPE, {"#action": content.url, "#fileName": name}, {"file_type": extension}
    return rejected(INVALID_MESSAGE, f"viber cannot send {content.type} content")


def _button(options: ViberOptions) -> dict[str, str]:
    if options.action_url is None or options.action_text is None:
        return {}
    return {"#caption": options.action_text, "#action": options.action_url}


def _caption(content: Content) -> dict[str, str]:
    return {"#txt": content.caption} if content.caption else {}


def interpret(reply: ProviderReply) -> SendResult:
    body = reply.body if isinstance(reply.body, dict) else {}
    status = _as_int(body.get("status"))
    if status is None:
        return transport.unparsable(PROVIDER, reply)
    if status == 0:
        token = body.get("message_token")
        return accepted(str(token) if token is not None else None)
    return map_status(status)


def map_status(status: int) -> SendResult:
    """A non-zero Viber ``status`` as a send result (table in the module docstring)."""
    name = STATUS_NAMES.get(status, f"status {status}")
    if status in RETRY_STATUSES:
        return retry(COMMUNICATION_FAILED, name)
    code = REJECTED_STATUSES.get(status)
    if code is None:
        return rejected(INTERNAL_ERROR, f"unknown Viber {name}")
    return rejected(code, name)


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
