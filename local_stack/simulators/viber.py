"""Viber Service Messages (partner API) simulator: ``POST /send_message``.

Like the real API it answers HTTP 200 with ``{"status", "status_message", "seq"}`` for accepted and
refused messages alike; only the simulated transient failures use HTTP 500 and 429. The real API
authenticates by source-IP allow-list plus ``service_id``; here only ``service_id`` is checked.
A repeat of an accepted ``seq`` (per service) is refused with status 12, ``SRVC_ALREADY_SENT``,
as Viber de-duplicates resends.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Collection
from enum import IntEnum
from typing import Any

from local_stack.simulators.http_server import HttpRequest, HttpResponse
from local_stack.simulators.scenarios import Outcome, RecipientBehaviour, answer

PROVIDER = "viber"
MAX_TEXT_LENGTH = 1000
MAX_CAPTION_LENGTH = 30  # "#caption" is the label of the action button
MAX_FILE_NAME_LENGTH = 25
MAX_THUMBNAIL_URL_LENGTH = 1000
MAX_VIDEO_BYTES = 200 * 1024 * 1024
MAX_VIDEO_SECONDS = 600
# The document, spreadsheet and text types Viber lets a business send.
FILE_TYPES = frozenset(
    "doc docx rtf dot dotx odt odf fodt txt info pdf xps pdax eps xls xlsx ods fods csv xlsm xltx".split()
)
LABELS = ("transaction", "promotion")
MIN_TTL_SECONDS = 30
MAX_TTL_SECONDS = 1_209_600
MAX_MESSAGE_TOKEN = 2**63 - 1

_MSISDN = re.compile(r"\d{7,15}")


class ViberStatus(IntEnum):
    SRVC_SUCCESS = 0
    SRVC_INTERNAL_FAILURE = 1
    SRVC_BAD_SERVICE_ID = 2
    SRVC_BAD_DATA = 3
    SRVC_BAD_MESSAGE_TYPE = 5
    SRVC_BAD_PARAMETERS = 6
    SRVC_NOT_VIBER_USER = 9
    SRVC_ALREADY_SENT = 12
    SRVC_BAD_LABEL = 18
    SRVC_FILE_NOT_PERMITTED = 28
    SRVC_BAD_FILE_NAME_LENGTH = 29
    SRVC_BAD_THUMBNAIL = 30
    SRVC_BAD_FILE_SIZE = 31
    SRVC_BAD_DURATION = 32


# The message types the simulator knows: the keys ``message`` must have, the keys it may have, and
# whether ``#tracking_data`` is required (True) or refused (False) for the type.
_TYPES: dict[int, tuple[frozenset[str], frozenset[str], bool]] = {
    106: (frozenset({"#txt"}), frozenset(), False),
    109: (frozenset({"#txt", "#caption", "#action"}), frozenset(), False),
    107: (frozenset({"#img"}), frozenset(), False),
    108: (frozenset({"#img", "#caption", "#action"}), frozenset({"#txt"}), False),
    230: (frozenset({"#action", "#thumbnail"}), frozenset(), True),
    231: (frozenset({"#action", "#thumbnail", "#txt"}), frozenset(), True),
    233: (frozenset({"#media", "#thumbnail", "#caption", "#action"}), frozenset({"#txt"}), True),
    222: (frozenset({"#action", "#fileName"}), frozenset(), False),
}
_VIDEO_TYPES = frozenset({230, 231, 233})
_FILE_TYPES = frozenset({222})
# Keys holding a URL that must be one; "#action" may be empty where the button is hidden (108).
_URL_KEYS = ("#img", "#media", "#thumbnail", "#action")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reply(status: ViberStatus, seq: Any, http_status: int = 200, **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"status": int(status), "status_message": status.name}
    if _is_int(seq):
        body["seq"] = seq
    return HttpResponse.json(http_status, body | extra)


def _is_http_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _message_problem(message_type: int, message: Any) -> ViberStatus | None:
    if message_type not in _TYPES:
        return ViberStatus.SRVC_BAD_MESSAGE_TYPE
    required, optional, tracking = _TYPES[message_type]
    if not isinstance(message, dict):
        return ViberStatus.SRVC_BAD_DATA
    keys = set(message) - {"#tracking_data"}
    if not required <= keys or keys - required - optional:
        return ViberStatus.SRVC_BAD_PARAMETERS
    if ("#tracking_data" in message) is not tracking:
        return ViberStatus.SRVC_BAD_PARAMETERS
    if any(not isinstance(message[key], str) for key in keys):
        return ViberStatus.SRVC_BAD_DATA
    text = message.get("#txt")
    if text is not None and (not text or len(text) > MAX_TEXT_LENGTH):
        return ViberStatus.SRVC_BAD_DATA
    hidden_button = message_type == 108 and message.get("#caption") == "" and message.get("#action") == ""
    if any(key in message and not _is_http_url(message[key]) for key in _URL_KEYS) and not hidden_button:
        return ViberStatus.SRVC_BAD_DATA
    if len(message.get("#caption") or "") > MAX_CAPTION_LENGTH:
        return ViberStatus.SRVC_BAD_DATA
    if len(message.get("#thumbnail") or "") > MAX_THUMBNAIL_URL_LENGTH:
        return ViberStatus.SRVC_BAD_THUMBNAIL
    if len(message.get("#fileName") or "") > MAX_FILE_NAME_LENGTH:
        return ViberStatus.SRVC_BAD_FILE_NAME_LENGTH
    return None


def _media_problem(body: dict[str, Any]) -> ViberStatus | None:
    """The top-level ``duration`` / ``file_size`` of a video and ``file_type`` of a file."""
    message_type = body["type"]
    if message_type in _VIDEO_TYPES:
        duration, file_size = body.get("duration"), body.get("file_size")
        if not (_is_int(duration) and 1 <= duration <= MAX_VIDEO_SECONDS):
            return ViberStatus.SRVC_BAD_DURATION
        if not (_is_int(file_size) and 1 <= file_size <= MAX_VIDEO_BYTES):
            return ViberStatus.SRVC_BAD_FILE_SIZE
    if message_type in _FILE_TYPES and body.get("file_type") not in FILE_TYPES:
        return ViberStatus.SRVC_FILE_NOT_PERMITTED
    return None


def send_problem(body: dict[str, Any]) -> ViberStatus | None:
    """The status the API would refuse this (service-checked) body with, or None."""
    if not _is_int(body.get("seq")) or not _is_int(body.get("type")):
        return ViberStatus.SRVC_BAD_DATA
    if not isinstance(body.get("dest"), str) or not _MSISDN.fullmatch(body["dest"]):
        return ViberStatus.SRVC_BAD_DATA
    problem = _message_problem(body["type"], body.get("message")) or _media_problem(body)
    if problem is not None:
        return problem
    ttl = body.get("ttl")
    if ttl is not None and not (_is_int(ttl) and MIN_TTL_SECONDS <= ttl <= MAX_TTL_SECONDS):
        return ViberStatus.SRVC_BAD_DATA
    if body.get("label") not in LABELS:
        return ViberStatus.SRVC_BAD_LABEL
    return None


class ViberSimulator:
    def __init__(self, service_ids: Collection[int], behaviour: RecipientBehaviour) -> None:
        self._service_ids = service_ids
        self._behaviour = behaviour
        # Like Viber, a repeat of an accepted (service_id, seq) is refused as already sent (status 12).
        self._accepted_seqs: set[tuple[int, int]] = set()
        self._lock = threading.Lock()

    def handle(self, request: HttpRequest, route: str) -> HttpResponse:
        if route != "/send_message":
            return HttpResponse.text(404, "Not Found")
        if request.method != "POST":
            return HttpResponse.text(405, "Method Not Allowed")
        try:
            body = json.loads(request.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _reply(ViberStatus.SRVC_BAD_DATA, None)
        seq = body.get("seq")
        service_id = body.get("service_id")
        if not _is_int(service_id):
            return _reply(ViberStatus.SRVC_BAD_DATA, seq)
        if service_id not in self._service_ids:
            return _reply(ViberStatus.SRVC_BAD_SERVICE_ID, seq)
        problem = send_problem(body)
        if problem is not None:
            return _reply(problem, seq)

        with self._lock:
            if (service_id, seq) in self._accepted_seqs:
                return _reply(ViberStatus.SRVC_ALREADY_SENT, seq)
        dest: str = body["dest"]
        outcome = self._behaviour.outcome(PROVIDER, dest, body)
        if outcome is Outcome.REJECTED:
            return _reply(ViberStatus.SRVC_NOT_VIBER_USER, seq)
        if outcome is Outcome.SERVER_ERROR:
            return _reply(ViberStatus.SRVC_INTERNAL_FAILURE, seq, http_status=500)
        if outcome is Outcome.THROTTLED:
            return _reply(ViberStatus.SRVC_INTERNAL_FAILURE, seq, http_status=429)

        message_token = secrets.randbelow(MAX_MESSAGE_TOKEN) + 1
        with self._lock:
            self._accepted_seqs.add((service_id, seq))
        self._behaviour.schedule_reports(
            PROVIDER, str(message_token), dest, str(service_id), has_read_receipts=True
        )
        return answer(outcome, _reply(ViberStatus.SRVC_SUCCESS, seq, message_token=message_token))
