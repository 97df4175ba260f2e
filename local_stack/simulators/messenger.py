"""Messenger Send API simulator: ``POST /<version>/me/messages?access_token=<page token>``.

Answers as the Graph API does: 200 ``{"recipient_id", "message_id"}``, errors as
``{"error": {"message", "type": "OAuthException", "code", "error_subcode"?, "fbtrace_id"}}``.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Mapping
from typing import Any

from local_stack.simulators.http_server import HttpRequest, HttpResponse
from local_stack.simulators.scenarios import Outcome, RecipientBehaviour, answer

PROVIDER = "messenger"
MAX_TEXT_LENGTH = 2000
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
ATTACHMENT_TYPES = ("image", "audio", "video", "file", "template")
NO_MATCHING_USER_SUBCODE = 2018001

_SEND_ROUTE = re.compile(r"/v\d+\.\d+/me/messages")


def _graph_error(
    http_status: int, message: str, code: int, *, subcode: int | None = None, is_transient: bool = False
) -> HttpResponse:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient:
        error["is_transient"] = True
    error["fbtrace_id"] = secrets.token_urlsafe(8)
    return HttpResponse.json(http_status, {"error": error})


def _invalid_parameter(detail: str) -> HttpResponse:
    return _graph_error(400, f"(#100) {detail}", 100)


def _one_of(values: tuple[str, ...]) -> str:
    return "{" + ", ".join(values) + "}"


def _message_problem(message: Any) -> str | None:
    if not isinstance(message, dict):
        return "Must send either message or state"
    if ("text" in message) == ("attachment" in message):
        return "Exactly one of message[text] or message[attachment] must be set"
    if "text" in message:
        text = message["text"]
        if not isinstance(text, str) or not text:
            return "Param message[text] must be a non-empty UTF-8 encoded string"
        if len(text) > MAX_TEXT_LENGTH:
            return f"Length of param message[text] must be less than or equal to {MAX_TEXT_LENGTH}"
        return None
    attachment = message["attachment"]
    if not isinstance(attachment, dict) or attachment.get("type") not in ATTACHMENT_TYPES:
        return f"Param message[attachment][type] must be one of {_one_of(ATTACHMENT_TYPES)}"
    payload = attachment.get("payload")
    if not isinstance(payload, dict):
        return "Param message[attachment][payload] must be an object"
    if attachment["type"] == "template":
        return None
    url = payload.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return "Param message[attachment][payload][url] must be a valid URL"
    if "is_reusable" in payload and not isinstance(payload["is_reusable"], bool):
        return "Param message[attachment][payload][is_reusable] must be a boolean"
    return None


def send_problem(body: Any) -> str | None:
    """The first reason the Send API would refuse this body (without the ``(#100)`` prefix), or None."""
    if not isinstance(body, dict) or not isinstance(body.get("recipient"), dict):
        return "The parameter recipient is required"
    psid = body["recipient"].get("id")
    if not isinstance(psid, str) or not psid:
        return "Param recipient[id] must be a non-empty string"
    messaging_type = body.get("messaging_type")
    if messaging_type is None:
        return "Param messaging_type is required"
    if messaging_type not in MESSAGING_TYPES:
        return f'Param messaging_type must be one of {_one_of(MESSAGING_TYPES)} - got "{messaging_type}"'
    if messaging_type == "MESSAGE_TAG" and not (isinstance(body.get("tag"), str) and body["tag"]):
        return "Param tag is required when messaging_type is MESSAGE_TAG"
    return _message_problem(body.get("message"))


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class MessengerSimulator:
    def __init__(self, page_ids_by_token: Mapping[str, str], behaviour: RecipientBehaviour) -> None:
        self._page_ids_by_token = page_ids_by_token
        self._behaviour = behaviour

    def handle(self, request: HttpRequest, route: str) -> HttpResponse:
        if not _SEND_ROUTE.fullmatch(route):
            return _graph_error(400, f"Unknown path components: {route}", 2500)
        if request.method != "POST":
            return _invalid_parameter(f"Unsupported {request.method.lower()} request")
        token = request.query.get("access_token")
        if not token:
            return _graph_error(
                400, "An active access token must be used to query information about the current user.", 2500
            )
        page_id = self._page_ids_by_token.get(token)
        if page_id is None:
            return _graph_error(400, "Invalid OAuth access token - Cannot parse access token", 190)

        body = _parse_json(request.body)
        problem = send_problem(body)
        if problem is not None:
            return _invalid_parameter(problem)

        psid: str = body["recipient"]["id"]
        outcome = self._behaviour.outcome(PROVIDER, psid, body)
        if outcome is Outcome.REJECTED:
            return _graph_error(400, "(#100) No matching user found", 100, subcode=NO_MATCHING_USER_SUBCODE)
        if outcome is Outcome.SERVER_ERROR:
            return _graph_error(
                500,
                "An unexpected error has occurred. Please retry your request later.",
                2,
                is_transient=True,
            )
        if outcome is Outcome.THROTTLED:
            return _graph_error(429, "(#613) Calls to this api have exceeded the rate limit.", 613)

        message_id = "mid.$" + secrets.token_urlsafe(24)
        # Messenger has delivery and read webhooks but none for a failed delivery.
        self._behaviour.schedule_reports(
            PROVIDER, message_id, psid, page_id, has_read_receipts=True, has_failure_reports=False
        )
        return answer(outcome, HttpResponse.json(200, {"recipient_id": psid, "message_id": message_id}))
