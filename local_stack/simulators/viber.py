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
MAX_CAPTION_LENGTH = 30
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
    SRVC_NOT_VIBER_USER = 9
    SRVC_ALREADY_SENT = 12
    SRVC_BAD_LABEL = 18


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _reply(status: ViberStatus, seq: Any, http_status: int = 200, **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"status": int(status), "status_message": status.name}
    if _is_int(seq):
        body["seq"] = seq
    return HttpResponse.json(http_status, body | extra)


def _is_http_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("http://", "https://"))


def _message_is_valid(message: Any) -> bool:
    if not isinstance(message, dict) or ("#txt" not in message and "#img" not in message):
        return False
    if "#txt" in message:
        text = message["#txt"]
        if not isinstance(text, str) or not text or len(text) > MAX_TEXT_LENGTH:
            return False
    if "#img" in message and not _is_http_url(message["#img"]):
        return False
    caption = message.get("#caption")
    return caption is None or (isinstance(caption, str) and len(caption) <= MAX_CAPTION_LENGTH)


def send_problem(body: dict[str, Any]) -> ViberStatus | None:
    """The status the API would refuse this (service-checked) body with, or None."""
    if not _is_int(body.get("seq")) or not _is_int(body.get("type")):
        return ViberStatus.SRVC_BAD_DATA
    if not isinstance(body.get("dest"), str) or not _MSISDN.fullmatch(body["dest"]):
        return ViberStatus.SRVC_BAD_DATA
    if not _message_is_valid(body.get("message")):
        return ViberStatus.SRVC_BAD_DATA
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
