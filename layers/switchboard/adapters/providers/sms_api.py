"""SMS through the Nexmo SMS API ``/sms/json`` (protocols.md 5.3).

Status mapping (``messages[0].status`` in the always-HTTP-200 response):

======  ===============================  =============
0       Success                          ACCEPTED (``message-id`` of the first part)
1       Throttled                        RETRY 1000
5       Internal Error                   RETRY 1100
10      Too Many Existing Binds          RETRY 1000
2       Missing Parameters               REJECTED 1010
3       Invalid Parameters               REJECTED 1020
4       Invalid Credentials              REJECTED 1030 (the deployment's credentials are wrong)
6       Invalid Message                  REJECTED 1040
7       Number Barred                    REJECTED 1050
8       Partner Account Barred           REJECTED 1060
9       Partner Quota Violation          REJECTED 1070
11      Account Not Enabled For HTTP     REJECTED 1080
12      Message Too Long                 REJECTED 1090
14      Invalid Signature                REJECTED 1110
15      Invalid Sender Address           REJECTED 1120
22      Invalid Network Code             REJECTED 1250
23      Invalid Callback Url             REJECTED 1020
29      Non-Whitelisted Destination      REJECTED 1160
32      Signature And API Secret         REJECTED 1110
33      Number De-activated              REJECTED 1240
else                                     REJECTED 1030
======  ===============================  =============
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from switchboard.adapters.providers import transport
from switchboard.adapters.providers.gsm import is_gsm
from switchboard.adapters.providers.transport import ProviderReply, redact
from switchboard.domain.error_codes import COMMUNICATION_FAILED, INTERNAL_ERROR, INVALID_MESSAGE, THROTTLED
from switchboard.domain.message import Channel, OutboundMessage
from switchboard.domain.sending import AbandonedSend, SendResult, TransactionContact, accepted, rejected, retry
from switchboard.observability import logger

PROVIDER = "sms"
DEFAULT_API_BASE = "https://rest.nexmo.com"

RETRY_STATUSES: dict[str, int] = {"1": THROTTLED, "5": COMMUNICATION_FAILED, "10": THROTTLED}
REJECTED_STATUSES: dict[str, int] = {
    "2": 1010,
    "3": 1020,
    "4": 1030,
    "6": 1040,
    "7": 1050,
    "8": 1060,
    "9": 1070,
    "11": 1080,
    "12": 1090,
    "14": 1110,
    "15": 1120,
    "22": 1250,
    "23": 1020,
    "29": 1160,
    "32": 1110,
    "33": 1240,
}


class SmsAdapter:
    channel = Channel.SMS
    # /sms/json has no idempotency key, but delivery receipts carry ``client-ref`` (the message uuid)
    abandoned_send = AbandonedSend.AWAIT_EVIDENCE

    def contact_after_submit(self, message: OutboundMessage) -> TransactionContact | None:
        return None

    def send(self, message: OutboundMessage, message_uuid: str, config: dict) -> SendResult:
        section = config.get("sms") or {}
        if not section.get("api_key"):
            return rejected(INTERNAL_ERROR, "the SMS channel is not configured for this deployment")

        form_or_error = request_form(message, message_uuid, section)
        if isinstance(form_or_error, SendResult):
            return form_or_error

        api_base = str(section.get("api_base") or DEFAULT_API_BASE).rstrip("/")
        secrets = (section.get("api_key"), section.get("api_secret"))
        return transport.post(
            PROVIDER,
            f"{api_base}/sms/json",
            lambda reply: interpret(reply, secrets, message_uuid),
            message_uuid=message_uuid,
            data=form_or_error,
            credential=str(section.get("api_key")),  # the SMS API limits sends per API key
        )


def message_type(message: OutboundMessage) -> str:
    """``text`` or ``unicode``: the request's explicit ``encoding_type``, else detected from the text."""
    requested = message.sms.encoding_type if message.sms else None
    if requested in ("text", "unicode"):
        return requested
    return "text" if is_gsm(message.content.text or "") else "unicode"


def request_form(message: OutboundMessage, message_uuid: str, section: dict[str, Any]) -> dict[str, str] | SendResult:
    """The form fields, or a rejection when the content is not text."""
    if message.content.type != "text" or message.content.text is None:
        return rejected(INVALID_MESSAGE, f"sms cannot send {message.content.type} content")
    form = {
        "api_key": str(section.get("api_key") or ""),
        "api_secret": str(section.get("api_secret") or ""),
        "from": message.sender.address,
        "to": message.recipient.address,
        "text": message.content.text,
        "type": message_type(message),
    }
    if message.sms and message.sms.ttl is not None:
        form["ttl"] = str(message.sms.ttl)
    if message.sms and message.sms.content_id is not None:
        form["content-id"] = message.sms.content_id
    if message.sms and message.sms.entity_id is not None:
        form["entity-id"] = message.sms.entity_id
    form["status-report-req"] = "1"
    form["client-ref"] = message_uuid  # delivery receipts carry it back
    return form


def interpret(reply: ProviderReply, secrets: tuple[str | None, ...] = (), message_uuid: str = "") -> SendResult:
    """The result of the first part, with every part's id.

    A long text is split by the provider into several parts, each with its own ``message-id`` and
    ``status``. The first part's id identifies the message; the ids of the later parts are kept too
    (``part_message_ids``, each indexed: delivery receipts arrive per part), with the part count and
    the destination network the first part names. A later part refused after the first was
    accepted is logged; such a message is never reported delivered (not every part can be).
    """
    body = reply.body if isinstance(reply.body, dict) else {}
    parts = body.get("messages")
    if not isinstance(parts, list) or not parts or not isinstance(parts[0], dict):
        return transport.unparsable(PROVIDER, reply)
    first = parts[0]
    status = str(first.get("status", "")).strip()
    if not status:
        return transport.unparsable(PROVIDER, reply)
    if status == "0":
        later = [str(part.get("status")) for part in parts[1:] if isinstance(part, dict)]
        failed = [each for each in later if each != "0"]
        if failed:
            log_keys = {"message_uuid": message_uuid, "statuses": failed}
            logger.warning("later SMS parts were not accepted", extra=log_keys)
        message_id = first.get("message-id")
        later_ids = tuple(
            str(part["message-id"])
            for part in parts[1:]
            if isinstance(part, dict) and str(part.get("status")) == "0" and part.get("message-id") is not None
        )
        network = first.get("network")
        return replace(
            accepted(str(message_id) if message_id is not None else None),
            part_count=len(parts),
            part_message_ids=later_ids,
            network_code=str(network) if network else None,
        )
    return map_status(status, redact(str(first.get("error-text") or ""), *secrets))


def map_status(status: str, error_text: str = "") -> SendResult:
    """A non-zero SMS API ``status`` as a send result (table in the module docstring)."""
    detail = f"status {status}" + (f" {error_text}" if error_text else "")
    if status in RETRY_STATUSES:
        return retry(RETRY_STATUSES[status], detail)
    code = REJECTED_STATUSES.get(status)
    if code is None:
        return rejected(INTERNAL_ERROR, f"unknown SMS {detail}")
    return rejected(code, detail)
