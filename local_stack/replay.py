"""``python -m local_stack.replay EVENT_FILE``: a provider webhook, signed for the running local stack and sent to it.

Over 350 lines on purpose: one command (parse, sign per provider, retarget at a real message, send, report) whose parts only it uses; the split of payload builders per simulator is the next step (issue 9, item 4).

``EVENT_FILE`` is an API Gateway event as in ``events/webhooks_*.json`` (the provider's request as
the API received it), or a raw provider body: a JSON object (Messenger, Viber, or SMS API
parameters) or a form-encoded SMS API query string. A raw body goes to the route its fields name:
``"object": "page"`` to Messenger, ``"object": "whatsapp_business_account"`` to WhatsApp,
``message_token`` to Viber, ``messageId`` + ``status`` to the SMS
DLR route, ``msisdn`` + ``text`` to the inbound SMS route.

The sample events are signed with sample secrets and name sample pages and numbers, so the webhook
is rewritten for the running stack (secrets from its ChannelsSecret in moto, found through
``.local/stack.json`` and ``.local/outputs.json``):

- Messenger: the page id (``entry[].id``, and each event's ``recipient``, or ``sender`` for an echo)
  becomes the demo page; ``X-Hub-Signature-256`` and ``X-Hub-Signature`` are recomputed with the
  stack's app secret. A subscription handshake (GET) gets the stack's verify token.
- Viber: ``service_id`` becomes the demo service; ``X-Viber-Content-Signature`` is recomputed.
- WhatsApp: each change's ``metadata`` becomes a configured business number (the sample's own
  when configured, else the demo number) and its phone number id; ``X-Hub-Signature-256`` is
  recomputed with the stack's app secret; a handshake gets the stack's verify token. A status
  aimed at a message names its ``wamid``, recipient and uuid (``biz_opaque_callback_data``).
- SMS API: an inbound SMS's ``to`` becomes the demo number; ``timestamp`` (now), ``nonce`` and
  ``sig`` are new, signed with the stack's signature secret and method.
- ``--new-ids``: inbound message ids (Messenger ``mid``, SMS ``messageId``, WhatsApp ``id``) get a random suffix, so
  the replay is a new message. Without it a second replay is a provider retry of the first, which
  the API answers 200 and de-duplicates: no second inbound webhook.

Everything else is sent as captured: method, query string, Content-Type and User-Agent. Then the
webhooks reaching the sink (``.local/webhooks.jsonl``) within ``--wait`` seconds are printed.

What a sample does is said before it is sent (``describe_sample``). A delivery or read receipt
changes a message only if it names one the stack sent, so a receipt needs ``--message UUID``
(``make replay ... MESSAGE=<uuid>``): the receipt is then rewritten to name that message as its
provider reported it (provider message id, the page or service or number it was sent from, its
recipient, a current time), and the message's status before and after is printed.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import secrets
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from local_stack.simulators import DEMO_PAGE_ID, DEMO_SMS_NUMBER, DEMO_VIBER_SERVICE_ID
from local_stack.simulators.reports import (
    MESSENGER_WEBHOOK_PATH,
    SMS_DLR_PATH,
    VIBER_WEBHOOK_PATH,
    WHATSAPP_WEBHOOK_PATH,
)
from local_stack.simulators.signing import (
    SMS_NONCE_PARAM,
    SMS_SIGNATURE_PARAM,
    SMS_TIMESTAMP_PARAM,
    messenger_signature_headers,
    sms_signed_params,
    viber_signature_headers,
)
from local_stack.template import LOCAL_REGION, ROOT

SMS_INBOUND_PATH = "/webhooks/sms/inbound"
SMS_PATHS = (SMS_DLR_PATH, SMS_INBOUND_PATH)
CHANNELS_SECRET_OUTPUT = "ChannelsSecretArn"
MESSAGES_TABLE_OUTPUT = "MessagesTableName"
VIBER_RECEIPT_STATUSES = {0: "delivered", 1: "read", 2: "failed (expired)"}
PENDING_STATUSES = ("accepted", "sending")  # not at the provider yet: no provider message id
SEND_WAIT_SECONDS = 15.0
DEFAULT_LOCAL_DIR = ".local"
DEFAULT_WAIT_SECONDS = 5.0
QUIET_AFTER_WEBHOOK_SECONDS = 0.5
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
JSON_CONTENT_TYPE = "application/json"
SENT_HEADERS = ("content-type", "user-agent")  # of the captured ones; signatures are recomputed
VERIFY_TOKEN_PARAM = "hub.verify_token"
START_HINT = "start it with `make run` (or pass --local-dir)"


class ReplayError(Exception):
    """A problem to report in one line: a bad event file, or no running stack."""


@dataclass(frozen=True)
class CapturedWebhook:
    """A provider's request: ``query`` without ``?``; ``headers`` with lower-case names."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")

    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True)
class LocalStackTarget:
    """Where the running local stack listens, and the provider secrets it verifies webhooks with."""

    api_url: str
    webhook_log: Path
    channels: Mapping[str, Any]
    aws_endpoint_url: str = ""
    messages_table: str = ""


@dataclass(frozen=True)
class SampleKind:
    """What a provider webhook is: a receipt about a message the stack sent, or not; and what it does."""

    channel: str  # the message channel it is about: messenger, viber_service_msg, sms
    receipt: bool
    what: str


@dataclass(frozen=True)
class TargetMessage:
    """A message of the running stack, as a receipt must name it."""

    message_uuid: str
    channel: str
    sender: str  # page id, Viber service id or SMS number it was sent from
    recipient: str  # PSID or number it was sent to
    provider_message_id: str | None
    status: str


@dataclass(frozen=True)
class ReplayResponse:
    status: int
    body: str


# -- reading an event file ----------------------------------------------------------------------


def load_webhook(path: Path) -> CapturedWebhook:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError:
        return webhook_from_provider_body(text)
    if isinstance(data, dict) and isinstance(data.get("requestContext"), dict) and "rawPath" in data:
        return webhook_from_api_gateway_event(data)
    return webhook_from_provider_body(text)


def webhook_from_api_gateway_event(event: Mapping[str, Any]) -> CapturedWebhook:
    """The request an API Gateway (payload format 2.0) event describes."""
    http = event["requestContext"].get("http") or {}
    method = str(http.get("method") or str(event.get("routeKey", "POST ")).split(" ", 1)[0]).upper()
    query = event.get("rawQueryString") or urlencode(event.get("queryStringParameters") or {})
    raw_body = event.get("body") or ""
    body = base64.b64decode(raw_body) if event.get("isBase64Encoded") else str(raw_body).encode("utf-8")
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    return CapturedWebhook(method, str(event["rawPath"]), str(query), headers, body)


def webhook_from_provider_body(text: str) -> CapturedWebhook:
    """A raw provider body, sent as the provider would to the route its fields name."""
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise ReplayError(f"the body is not valid JSON: {exc}") from None
        fields, content_type = data, JSON_CONTENT_TYPE
    else:
        fields, content_type = dict(parse_qsl(stripped, keep_blank_values=True)), FORM_CONTENT_TYPE
    if not isinstance(fields, dict) or not fields:
        raise ReplayError("the file is neither an API Gateway event nor a provider webhook body")
    path = _route_of(fields)
    return CapturedWebhook("POST", path, "", {"content-type": content_type}, stripped.encode("utf-8"))


def _route_of(fields: Mapping[str, Any]) -> str:
    if fields.get("object") == "page":
        return MESSENGER_WEBHOOK_PATH
    if fields.get("object") == "whatsapp_business_account":
        return WHATSAPP_WEBHOOK_PATH
    if "message_token" in fields:
        return VIBER_WEBHOOK_PATH
    if "messageId" in fields and "status" in fields:
        return SMS_DLR_PATH
    if "msisdn" in fields and "text" in fields:
        return SMS_INBOUND_PATH
    raise ReplayError(
        "cannot tell which provider sent this body: expected a Messenger page event, a Viber callback, "
        "an SMS DLR or an inbound SMS"
    )


# -- what a sample does, and aiming a receipt at a message ----------------------------------------


def describe_sample(webhook: CapturedWebhook) -> SampleKind:
    if webhook.path == MESSENGER_WEBHOOK_PATH:
        if webhook.method == "GET":
            return SampleKind("messenger", False, "the Messenger subscription handshake: the API answers hub.challenge")
        item = _first_messenger_item(webhook)
        if "delivery" in item:
            return SampleKind("messenger", True, "a Messenger delivery receipt: the message becomes delivered")
        if "read" in item:
            return SampleKind(
                "messenger", True, "a Messenger read receipt (a watermark): the page's messages to that user become read"
            )
        message = item.get("message") if isinstance(item.get("message"), dict) else {}
        if message.get("is_echo"):
            return SampleKind("messenger", False, "a Messenger echo of the page's own message: recorded, no webhook")
        return SampleKind(
            "messenger", False,
            "an inbound Messenger message from a user to the demo page: recorded once and sent to the demo "
            "application's inbound URL (the sink)",
        )
    if webhook.path == WHATSAPP_WEBHOOK_PATH:
        if webhook.method == "GET":
            return SampleKind("whatsapp", False, "the WhatsApp subscription handshake: the API answers hub.challenge")
        value = _first_whatsapp_value(webhook)
        if value.get("statuses"):
            status = (value["statuses"][0] or {}).get("status") if isinstance(value["statuses"], list) else None
            return SampleKind("whatsapp", True, f"a WhatsApp status ({status}): the message's status follows it")
        return SampleKind(
            "whatsapp", False,
            "an inbound WhatsApp message from a customer to the demo business number: recorded once and sent to "
            "the demo application's inbound URL (the sink)",
        )
    if webhook.path == VIBER_WEBHOOK_PATH:
        status = _json_object(webhook).get("message_status")
        outcome = VIBER_RECEIPT_STATUSES.get(status if isinstance(status, int) else -1, f"status {status}")
        return SampleKind("viber_service_msg", True, f"a Viber delivery callback: the message becomes {outcome}")
    if webhook.path == SMS_DLR_PATH:
        status = _sms_params(webhook).get("status", "?")
        return SampleKind("sms", True, f"an SMS delivery receipt (DLR, status {status}): the message's status follows it")
    if webhook.path == SMS_INBOUND_PATH:
        return SampleKind(
            "sms", False,
            "an inbound SMS from a user to the demo number: recorded once and sent to the demo application's "
            "inbound URL (the sink)",
        )
    raise ReplayError(f"{webhook.path} is not a provider webhook route")


def _first_messenger_item(webhook: CapturedWebhook) -> dict[str, Any]:
    for entry in _json_object(webhook).get("entry") or []:
        for item in (entry.get("messaging") or []) if isinstance(entry, dict) else []:
            if isinstance(item, dict):
                return item
    return {}


def _first_whatsapp_value(webhook: CapturedWebhook) -> dict[str, Any]:
    for entry in _json_object(webhook).get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            if isinstance(change, dict) and isinstance(change.get("value"), dict):
                return change["value"]
    return {}


def _sms_params(webhook: CapturedWebhook) -> dict[str, str]:
    if webhook.method == "GET":
        return dict(parse_qsl(webhook.query, keep_blank_values=True))
    if webhook.media_type() == JSON_CONTENT_TYPE:
        return {name: _param_text(value) for name, value in _json_object(webhook).items() if value is not None}
    return dict(parse_qsl(webhook.body.decode("utf-8"), keep_blank_values=True))


def _with_sms_params(webhook: CapturedWebhook, params: dict[str, str]) -> CapturedWebhook:
    if webhook.method == "GET":
        return replace(webhook, query=urlencode(params), body=b"")
    body = json.dumps(params) if webhook.media_type() == JSON_CONTENT_TYPE else urlencode(params)
    return replace(webhook, body=body.encode("utf-8"))


def aim_at(
    webhook: CapturedWebhook, kind: SampleKind, message: TargetMessage, now_ms: int | None = None
) -> CapturedWebhook:
    """The receipt ``webhook`` rewritten to be about ``message`` (before it is re-signed)."""
    if message.channel != kind.channel:
        raise ReplayError(
            f"message {message.message_uuid} went out on {message.channel}, and this is a {kind.channel} receipt: "
            f"pick an events/webhooks_*.json sample of its channel"
        )
    if not message.provider_message_id:
        raise ReplayError(
            f"message {message.message_uuid} has no provider message id yet (status {message.status}): "
            "a receipt can only name a message the provider accepted"
        )
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    provider_id = message.provider_message_id
    if kind.channel == "messenger":
        data = _json_object(webhook)
        for entry in data.get("entry") or []:
            entry["id"], entry["time"] = message.sender, now_ms
            for item in entry.get("messaging") or []:
                item["sender"], item["recipient"] = {"id": message.recipient}, {"id": message.sender}
                item["timestamp"] = now_ms
                if isinstance(item.get("delivery"), dict):
                    item["delivery"].update(mids=[provider_id], watermark=now_ms)
                if isinstance(item.get("read"), dict):
                    item["read"]["watermark"] = now_ms
        return replace(webhook, body=json.dumps(data).encode("utf-8"))
    if kind.channel == "whatsapp":
        data = _json_object(webhook)
        for entry in data.get("entry") or []:
            for change in entry.get("changes") or []:
                value = change.get("value") or {}
                value.setdefault("metadata", {})["display_phone_number"] = message.sender
                for status in value.get("statuses") or []:
                    status.update(id=provider_id, recipient_id=message.recipient, timestamp=str(now_ms // 1000),
                                  biz_opaque_callback_data=message.message_uuid)
        return replace(webhook, body=json.dumps(data).encode("utf-8"))
    if kind.channel == "viber_service_msg":
        data = _json_object(webhook)
        data.update(
            message_token=int(provider_id) if provider_id.isdigit() else provider_id,
            phone_number=message.recipient,
            service_id=int(message.sender) if message.sender.isdigit() else message.sender,
            message_time=now_ms,
        )
        return replace(webhook, body=json.dumps(data).encode("utf-8"))
    params = _sms_params(webhook)
    params.update({"messageId": provider_id, "msisdn": message.recipient, "to": message.sender,
                   "client-ref": message.message_uuid})
    params["message-timestamp"] = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now_ms / 1000))
    return _with_sms_params(webhook, params)


# -- signing for the running stack ------------------------------------------------------------


def _section(channels: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = channels.get(name)
    return section if isinstance(section, Mapping) else {}


def demo_page_id(channels: Mapping[str, Any]) -> str:
    pages = list(_section(channels, "messenger").get("pages") or {})
    return DEMO_PAGE_ID if DEMO_PAGE_ID in pages or not pages else str(pages[0])


def demo_viber_service_id(channels: Mapping[str, Any]) -> str:
    service_ids = [str(s) for s in _section(channels, "viber").get("service_ids") or []]
    return DEMO_VIBER_SERVICE_ID if DEMO_VIBER_SERVICE_ID in service_ids or not service_ids else service_ids[0]


def resign(
    webhook: CapturedWebhook,
    channels: Mapping[str, Any],
    *,
    new_ids: bool = False,
    sms_number: str = DEMO_SMS_NUMBER,
    now: float | None = None,
    page_id: str | None = None,
    service_id: str | None = None,
) -> CapturedWebhook:
    """``webhook`` rewritten for the stack whose ChannelsSecret is ``channels`` (module docstring).

    ``page_id`` / ``service_id`` replace the demo page / service (a receipt about another sender's message).
    """
    suffix = "-" + secrets.token_hex(4) if new_ids else ""
    headers = {name: value for name, value in webhook.headers.items() if name in SENT_HEADERS}
    webhook = replace(webhook, headers=headers)
    if webhook.path == MESSENGER_WEBHOOK_PATH:
        return _messenger(webhook, channels, suffix, page_id or demo_page_id(channels))
    if webhook.path == VIBER_WEBHOOK_PATH:
        return _viber(webhook, channels, service_id or demo_viber_service_id(channels))
    if webhook.path == WHATSAPP_WEBHOOK_PATH:
        return _whatsapp(webhook, channels, suffix)
    if webhook.path in SMS_PATHS:
        return _sms(webhook, channels, suffix.upper().replace("-", ""), sms_number, now)
    raise ReplayError(f"{webhook.path} is not a provider webhook route")


def _json_object(webhook: CapturedWebhook) -> dict[str, Any]:
    try:
        data = json.loads(webhook.body)
    except ValueError as exc:
        raise ReplayError(f"the {webhook.path} body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ReplayError(f"the {webhook.path} body is not a JSON object")
    return data


def _messenger(webhook: CapturedWebhook, channels: Mapping[str, Any], suffix: str, page_id: str) -> CapturedWebhook:
    config = _section(channels, "messenger")
    if webhook.method == "GET":
        params = dict(parse_qsl(webhook.query, keep_blank_values=True))
        params[VERIFY_TOKEN_PARAM] = str(config.get("verify_token") or "")
        return replace(webhook, query=urlencode(params))
    data = _json_object(webhook)
    for entry in data.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        entry["id"] = page_id
        for item in entry.get("messaging") or []:
            if isinstance(item, dict):
                _messenger_event_for_page(item, page_id, suffix)
    body = json.dumps(data).encode("utf-8")
    headers = webhook.headers | messenger_signature_headers(body, str(config.get("app_secret") or ""))
    return replace(webhook, headers=headers, body=body)


def _messenger_event_for_page(item: dict[str, Any], page_id: str, suffix: str) -> None:
    message = item.get("message")
    is_echo = isinstance(message, dict) and message.get("is_echo") is True
    page_side = item.get("sender" if is_echo else "recipient")
    if isinstance(page_side, dict):
        page_side["id"] = page_id
    if suffix and isinstance(message, dict) and isinstance(message.get("mid"), str):
        message["mid"] += suffix


def _whatsapp(webhook: CapturedWebhook, channels: Mapping[str, Any], suffix: str) -> CapturedWebhook:
    """Each change is put on a configured business number (its own when the sample names one, else
    the first, the demo number), with that number's phone number id, and signed with the app secret."""
    config = _section(channels, "whatsapp")
    if webhook.method == "GET":
        params = dict(parse_qsl(webhook.query, keep_blank_values=True))
        params[VERIFY_TOKEN_PARAM] = str(config.get("verify_token") or "")
        return replace(webhook, query=urlencode(params))
    numbers = config.get("numbers") if isinstance(config.get("numbers"), Mapping) else {}
    data = _json_object(webhook)
    for entry in data.get("entry") or []:
        for change in (entry.get("changes") or []) if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or not isinstance(value.get("metadata"), dict):
                continue
            named = "".join(ch for ch in str(value["metadata"].get("display_phone_number") or "") if ch.isdigit())
            number = named if named in numbers else next(iter(numbers), named)
            entry_of = numbers.get(number) if isinstance(numbers.get(number), Mapping) else {}
            value["metadata"] = {"display_phone_number": number,
                                 "phone_number_id": str(entry_of.get("phone_number_id") or "")}
            for message in value.get("messages") or []:
                if suffix and isinstance(message, dict) and isinstance(message.get("id"), str):
                    message["id"] += suffix
    body = json.dumps(data).encode("utf-8")
    signature = messenger_signature_headers(body, str(config.get("app_secret") or ""))["X-Hub-Signature-256"]
    return replace(webhook, headers=webhook.headers | {"x-hub-signature-256": signature}, body=body)


def _viber(webhook: CapturedWebhook, channels: Mapping[str, Any], service_id: str) -> CapturedWebhook:
    data = _json_object(webhook)
    data["service_id"] = int(service_id) if service_id.isdigit() else service_id
    body = json.dumps(data).encode("utf-8")
    secret = str(_section(channels, "viber").get("callback_secret") or "")
    return replace(webhook, headers=webhook.headers | viber_signature_headers(body, secret), body=body)


def _sms(
    webhook: CapturedWebhook, channels: Mapping[str, Any], suffix: str, sms_number: str, now: float | None
) -> CapturedWebhook:
    is_json = webhook.method != "GET" and webhook.media_type() == JSON_CONTENT_TYPE
    if webhook.method == "GET":
        params = dict(parse_qsl(webhook.query, keep_blank_values=True))
    elif is_json:
        params = {name: _param_text(value) for name, value in _json_object(webhook).items() if value is not None}
    else:
        params = dict(parse_qsl(webhook.body.decode("utf-8"), keep_blank_values=True))
    if webhook.path == SMS_INBOUND_PATH:
        params["to"] = sms_number
        if suffix and params.get("messageId"):
            params["messageId"] += suffix
    config = _section(channels, "sms")
    secret = str(config.get("signature_secret") or "")
    if secret:
        params = sms_signed_params(params, secret, str(config.get("signature_method") or "md5hash"), now)
    else:  # only a stack with AllowUnsignedSmsWebhooks=true and no SMS secret accepts them: sent unsigned
        for name in (SMS_SIGNATURE_PARAM, SMS_TIMESTAMP_PARAM, SMS_NONCE_PARAM):
            params.pop(name, None)
    if webhook.method == "GET":
        return replace(webhook, query=urlencode(params), body=b"")
    body = json.dumps(params) if is_json else urlencode(params)
    return replace(webhook, body=body.encode("utf-8"))


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else json.dumps(value)


# -- the running stack ----------------------------------------------------------------------------


def find_local_dir(local_dir: str) -> Path:
    path = Path(local_dir)
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, ROOT / path]
    for candidate in candidates:
        if (candidate / "stack.json").is_file() and (candidate / "outputs.json").is_file():
            return candidate
    raise ReplayError(f"the local stack is not running ({local_dir}/stack.json not found): {START_HINT}")


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ReplayError(f"cannot read {path}: {exc}; {START_HINT}") from None
    if not isinstance(data, dict):
        raise ReplayError(f"{path} is not a JSON object; {START_HINT}")
    return data


def local_stack_target(local_dir: str | Path = DEFAULT_LOCAL_DIR) -> LocalStackTarget:
    """The running stack of ``local_dir``, with its ChannelsSecret read from its moto server."""
    from botocore.exceptions import BotoCoreError, ClientError

    found = find_local_dir(str(local_dir))
    stack, outputs = _read_json(found / "stack.json"), _read_json(found / "outputs.json")
    secret_arn = outputs.get(CHANNELS_SECRET_OUTPUT)
    if not secret_arn:
        raise ReplayError(f"{found / 'outputs.json'} has no {CHANNELS_SECRET_OUTPUT}")
    client = _local_client(LocalStackTarget("", Path(), {}, aws_endpoint_url=stack["aws_endpoint_url"]), "secretsmanager")
    try:
        channels = json.loads(client.get_secret_value(SecretId=secret_arn)["SecretString"])
    except (BotoCoreError, ClientError, ValueError) as exc:
        where = stack["aws_endpoint_url"]
        raise ReplayError(f"cannot read the channels secret from {where}: {exc}; {START_HINT}") from None
    return LocalStackTarget(
        api_url=stack["api_url"],
        webhook_log=Path(stack["webhook_log"]),
        channels=channels,
        aws_endpoint_url=stack["aws_endpoint_url"],
        messages_table=str(outputs.get(MESSAGES_TABLE_OUTPUT) or ""),
    )


def _local_client(target: LocalStackTarget, service: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        service,
        endpoint_url=target.aws_endpoint_url,
        region_name=LOCAL_REGION,
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def find_message(target: LocalStackTarget, message_uuid: str) -> TargetMessage:
    """The message record ``message_uuid`` of the running stack, or ``ReplayError``."""
    from boto3.dynamodb.types import TypeDeserializer
    from botocore.exceptions import BotoCoreError, ClientError

    if not target.messages_table:
        raise ReplayError(f"the stack's outputs.json names no {MESSAGES_TABLE_OUTPUT}; {START_HINT}")
    try:
        item = _local_client(target, "dynamodb").get_item(
            TableName=target.messages_table, Key={"message_uuid": {"S": message_uuid}}, ConsistentRead=True
        ).get("Item")
    except (BotoCoreError, ClientError) as exc:
        raise ReplayError(f"cannot read message {message_uuid}: {exc}") from None
    if not item:
        raise ReplayError(f"the local stack has no message {message_uuid}")
    record = {key: TypeDeserializer().deserialize(value) for key, value in item.items()}
    if record.get("direction") == "inbound":
        raise ReplayError(f"message {message_uuid} is an inbound message: receipts are about messages the stack sent")
    sender, recipient = record.get("from") or {}, record.get("to") or {}
    return TargetMessage(
        message_uuid=message_uuid,
        channel=str(record.get("channel")),
        sender=str(sender.get("id") or sender.get("number") or ""),
        recipient=str(recipient.get("id") or recipient.get("number") or ""),
        provider_message_id=record.get("provider_message_id"),
        status=str(record.get("status")),
    )


def sent_message(target: LocalStackTarget, message_uuid: str, timeout: float = SEND_WAIT_SECONDS) -> TargetMessage:
    """The message, once the provider accepted it: one just sent may still be on its way to the provider."""
    deadline = time.monotonic() + timeout
    message = find_message(target, message_uuid)
    while message.provider_message_id is None and message.status in PENDING_STATUSES and time.monotonic() < deadline:
        time.sleep(0.2)
        message = find_message(target, message_uuid)
    return message


def send(webhook: CapturedWebhook, api_url: str, timeout: float = 30.0) -> ReplayResponse:
    parts = urlsplit(api_url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=timeout)
    try:
        connection.request(webhook.method, webhook.target, body=webhook.body or None, headers=webhook.headers)
        response = connection.getresponse()
        return ReplayResponse(response.status, response.read().decode("utf-8", errors="replace"))
    except (OSError, http.client.HTTPException) as exc:
        raise ReplayError(f"the local API at {api_url} did not answer: {exc}; {START_HINT}") from None
    finally:
        connection.close()


def sink_records(webhook_log: Path) -> list[dict[str, Any]]:
    """The sink's whole records so far (a line being written is left out)."""
    try:
        lines = webhook_log.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    records = []
    for line in lines:
        try:
            records.append(json.loads(line))
        except ValueError:
            break
    return records


SinkRecord = dict[str, Any]


def wait_for_new_webhooks(
    webhook_log: Path, seen: int, wait_seconds: float, wanted: Callable[[SinkRecord], bool] = lambda record: True
) -> list[SinkRecord]:
    """Records after the first ``seen`` that are ``wanted``: once one arrived and no other wanted one came
    for a moment, or at the deadline."""
    deadline = time.monotonic() + wait_seconds
    last_count, quiet_since = 0, time.monotonic()
    while time.monotonic() < deadline:
        found = [record for record in sink_records(webhook_log)[seen:] if wanted(record)]
        if len(found) != last_count:
            last_count, quiet_since = len(found), time.monotonic()
        elif last_count and time.monotonic() - quiet_since >= QUIET_AFTER_WEBHOOK_SECONDS:
            break
        time.sleep(0.1)
    return [record for record in sink_records(webhook_log)[seen:] if wanted(record)]


def caused_by(kind: SampleKind, message: TargetMessage | None) -> Callable[[SinkRecord], bool]:
    """Which sink records the replay caused: the named message's status webhooks, or an inbound message's
    (other messages' webhooks may arrive meanwhile, from the stack's own traffic)."""

    def wanted(record: SinkRecord) -> bool:
        body = record.get("body") if isinstance(record.get("body"), dict) else {}
        if message is not None:
            return body.get("message_uuid") == message.message_uuid
        return not kind.receipt and body.get("direction") == "inbound"

    return wanted


# -- command line ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local_stack.replay",
        description="Sign a provider webhook with the running local stack's secrets and send it to its API.",
    )
    parser.add_argument("event_file", metavar="EVENT_FILE", type=Path,
                        help="an events/webhooks_*.json API Gateway event, or a raw provider webhook body")
    parser.add_argument("--local-dir", default=DEFAULT_LOCAL_DIR, metavar="DIR",
                        help="the local stack's state directory (default: .local)")
    parser.add_argument("--new-ids", action="store_true",
                        help="give inbound message ids a random suffix: a new message, not a provider retry")
    parser.add_argument("--message", metavar="UUID",
                        help="for a delivery or read receipt: the message it is about (a message_uuid the stack sent)")
    parser.add_argument("--wait", type=float, default=DEFAULT_WAIT_SECONDS, metavar="SECONDS",
                        help=f"how long to wait for webhooks at the sink (default: {DEFAULT_WAIT_SECONDS:g}; 0: don't)")
    return parser


def describe(record: Mapping[str, Any]) -> str:
    signature = {True: "signature valid", False: "SIGNATURE INVALID", None: "unsigned"}[record.get("signature_valid")]
    body = record.get("body")
    shown = json.dumps(body, indent=2) if isinstance(body, (dict, list)) else str(body)
    return f"<- {record.get('method')} {record.get('path')} ({signature})\n{shown}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        target = local_stack_target(args.local_dir)
        webhook = load_webhook(args.event_file)
        kind = describe_sample(webhook)
        message = None
        page_id = service_id = None
        if args.message:
            if not kind.receipt:
                raise ReplayError(f"--message is for receipts; {args.event_file.name} is {kind.what}")
            message = sent_message(target, args.message)
            webhook = aim_at(webhook, kind, message)
            page_id = service_id = message.sender
        elif kind.receipt:
            raise ReplayError(
                f"{args.event_file.name} is {kind.what}. A receipt changes a message only if it names one the stack "
                f"sent: say which, e.g. make replay EVENT={args.event_file} MESSAGE=<message_uuid> (the "
                "message_uuid a send answered with)"
            )
        webhook = resign(webhook, target.channels, new_ids=args.new_ids, page_id=page_id, service_id=service_id)
        about = f" (message {message.message_uuid}, now {message.status})" if message else ""
        print(f"{args.event_file.name}: {kind.what}{about}")
        seen = len(sink_records(target.webhook_log))
        response = send(webhook, target.api_url)
    except ReplayError as exc:
        print(f"replay: error: {exc}", file=sys.stderr)
        return 1
    print(f"-> {webhook.method} {target.api_url}{webhook.target}: {response.status} {response.body[:500]}")
    if not 200 <= response.status < 300:
        return 1
    if args.wait <= 0 or (webhook.method == "GET" and webhook.path == MESSENGER_WEBHOOK_PATH):  # a handshake
        return 0
    arrived = wait_for_new_webhooks(target.webhook_log, seen, args.wait, caused_by(kind, message))
    for record in arrived:
        print(describe(record))
    if message is not None:
        after = find_message(target, message.message_uuid).status
        print(f"Message {message.message_uuid}: {message.status} -> {after}"
              + ("" if after != message.status else " (unchanged: the message was past this status already)"))
    elif not arrived:
        print(
            f"No webhook reached the sink within {args.wait:g} s. An inbound message sent again is a provider "
            "retry the API de-duplicates (use --new-ids for a new one). The sink's log: "
            f"{target.webhook_log}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
