"""WhatsApp Cloud API simulator: ``POST /<version>/<phone number id>/messages`` with a Bearer token.

Answers as the Cloud API does: 200 ``{"messaging_product": "whatsapp", "contacts": [{"input",
"wa_id"}], "messages": [{"id": "wamid..."}]}``; errors as Graph's ``{"error": {"message", "type",
"code", "error_data": {"messaging_product", "details"}, "fbtrace_id"}}``. The same endpoint marks
an inbound message read (``{"messaging_product", "status": "read", "message_id"}`` -> ``{"success":
true}``). ``GET /<version>/<media id>`` answers the media's metadata with a download ``url`` under
``/whatsapp/media/<media id>``, which answers the media's bytes to the same Bearer token.

Recipients choose the outcome as for every simulator (``scenarios``), plus ``0007``: the 24-hour
window is closed, so anything but a template is refused with code 131047 (re-engagement message).
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable
from typing import Any

from local_stack.simulators.http_server import HttpRequest, HttpResponse
from local_stack.simulators.scenarios import Outcome, RecipientBehaviour, Scenario, answer

PROVIDER = "whatsapp"
MAX_TEXT_LENGTH = 4096
MESSAGE_TYPES = ("text", "image", "audio", "video", "document", "sticker", "template", "interactive",
                 "location", "contacts", "reaction")
MEDIA_TYPES = ("image", "audio", "video", "document", "sticker")
UNDELIVERABLE = 131026
RE_ENGAGEMENT = 131047
# The media every simulated inbound media message points at (a 1x1 PNG).
MEDIA_BYTES = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001a5f645400000000049454e44ae426082"
)
MEDIA_MIME_TYPE = "image/png"

_SEND_ROUTE = re.compile(r"/v\d+\.\d+/(?P<phone_number_id>[0-9]+)/messages")
_MEDIA_ROUTE = re.compile(r"/v\d+\.\d+/(?P<media_id>[0-9]+)")
_DOWNLOAD_ROUTE = re.compile(r"/media/(?P<media_id>[0-9]+)")

# phone number id -> (display number, access token), or None when unknown.
NumberLookup = Callable[[str], "tuple[str, str] | None"]
# access token -> whether it is one of the configured numbers' tokens.
TokenCheck = Callable[[str], bool]


def graph_error(http_status: int, code: int, message: str, details: str, *, is_transient: bool = False) -> HttpResponse:
    error: dict[str, Any] = {
        "message": f"(#{code}) {message}",
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": details},
        "fbtrace_id": secrets.token_urlsafe(8),
    }
    if is_transient:
        error["is_transient"] = True
    return HttpResponse.json(http_status, {"error": error})


def _invalid(details: str) -> HttpResponse:
    return graph_error(400, 100, "Invalid parameter", details)


def send_problem(body: Any) -> str | None:
    """The first reason the Cloud API would refuse this send body, or None."""
    if not isinstance(body, dict):
        return "The request body must be a JSON object"
    if body.get("messaging_product") != "whatsapp":
        return "messaging_product must be whatsapp"
    to = body.get("to")
    if not isinstance(to, str) or not to.lstrip("+").isdigit():
        return "Param to must be a phone number"
    kind = body.get("type", "text")
    if kind not in MESSAGE_TYPES:
        return f"Param type must be one of {{{', '.join(MESSAGE_TYPES)}}}"
    payload = body.get(kind)
    if not isinstance(payload, dict):
        return f"Param {kind} is required for type {kind}"
    if kind == "text":
        text = payload.get("body")
        if not isinstance(text, str) or not text:
            return "Param text['body'] is required"
        if len(text) > MAX_TEXT_LENGTH:
            return f"Param text['body'] must be at most {MAX_TEXT_LENGTH} characters"
    if kind in MEDIA_TYPES:
        link, media_id = payload.get("link"), payload.get("id")
        if (link is None) == (media_id is None):
            return f"Exactly one of {kind}['link'] or {kind}['id'] must be set"
        if link is not None and not (isinstance(link, str) and link.startswith(("http://", "https://"))):
            return f"Param {kind}['link'] must be a valid URL"
    if kind == "template":
        language = payload.get("language")
        if not isinstance(payload.get("name"), str) or not isinstance(language, dict) or not language.get("code"):
            return "Param template['name'] and template['language']['code'] are required"
    return None


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None


class WhatsAppSimulator:
    def __init__(
        self,
        number_for_id: NumberLookup,
        token_known: TokenCheck,
        behaviour: RecipientBehaviour,
        base_url: Callable[[], str],
    ) -> None:
        self._base_url = base_url
        self._number_for_id = number_for_id
        self._token_known = token_known
        self._behaviour = behaviour
        self.read_marks: list[str] = []  # message ids marked read, oldest first

    def handle(self, request: HttpRequest, route: str) -> HttpResponse:
        token = _bearer(request)
        if token is None:
            return graph_error(401, 190, "Invalid OAuth access token", "An access token is required")
        download = _DOWNLOAD_ROUTE.fullmatch(route)
        if download and request.method == "GET":
            if not self._token_known(token):
                return graph_error(401, 190, "Invalid OAuth access token", "The token is not valid")
            return HttpResponse(status=200, body=MEDIA_BYTES, content_type=MEDIA_MIME_TYPE)
        media = _MEDIA_ROUTE.fullmatch(route)
        if media and request.method == "GET":
            if not self._token_known(token):
                return graph_error(401, 190, "Invalid OAuth access token", "The token is not valid")
            media_id = media.group("media_id")
            return HttpResponse.json(200, {
                "messaging_product": "whatsapp",
                "url": f"{self._base_url()}/media/{media_id}",
                "mime_type": MEDIA_MIME_TYPE,
                "sha256": "0" * 64,
                "file_size": len(MEDIA_BYTES),
                "id": media_id,
            })
        send = _SEND_ROUTE.fullmatch(route)
        if not send:
            return graph_error(400, 100, "Unknown path components", route)
        if request.method != "POST":
            return _invalid(f"Unsupported {request.method.lower()} request")
        number = self._number_for_id(send.group("phone_number_id"))
        if number is None or number[1] != token:
            return graph_error(401, 190, "Invalid OAuth access token", "The token does not own this phone number")
        body = _parse_json(request.body)
        if isinstance(body, dict) and body.get("status") == "read":
            return self._mark_read(body)
        problem = send_problem(body)
        if problem is not None:
            return _invalid(problem)
        recipient = str(body["to"]).lstrip("+")
        if Scenario.for_recipient(recipient) is Scenario.WINDOW_CLOSED and body.get("type", "text") != "template":
            return graph_error(
                400, RE_ENGAGEMENT, "Re-engagement message",
                "Message failed to send because more than 24 hours have passed since the customer last replied",
            )
        outcome = self._behaviour.outcome(PROVIDER, recipient, body)
        if outcome is Outcome.REJECTED:
            return graph_error(400, UNDELIVERABLE, "Message undeliverable", "The recipient is not a WhatsApp user")
        if outcome is Outcome.SERVER_ERROR:
            return graph_error(503, 131016, "Service unavailable", "A service is temporarily unavailable", is_transient=True)
        if outcome is Outcome.THROTTLED:
            return graph_error(429, 130429, "Rate limit hit", "Cloud API message throughput has been reached")
        message_id = "wamid." + secrets.token_urlsafe(30)
        self._behaviour.schedule_reports(
            PROVIDER, message_id, recipient, number[0],
            has_read_receipts=True, has_failure_reports=True,
            client_ref=body.get("biz_opaque_callback_data"), sender_id=send.group("phone_number_id"),
            has_sent_reports=True,
        )
        return answer(outcome, HttpResponse.json(200, {
            "messaging_product": "whatsapp",
            "contacts": [{"input": body["to"], "wa_id": recipient}],
            "messages": [{"id": message_id}],
        }))

    def _mark_read(self, body: dict[str, Any]) -> HttpResponse:
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            return _invalid("Param message_id is required")
        self.read_marks.append(message_id)
        return HttpResponse.json(200, {"success": True})


def _bearer(request: HttpRequest) -> str | None:
    header = request.header("Authorization") or ""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None
