"""WhatsApp send requests, in the v1 flat format (what the official SDK's WhatsApp models send) and
the 2018 nested format (protocols.md 1.2: text and template).

v1 (``channel: "whatsapp"``): ``from`` is the business number, ``to`` the customer's number (both
E.164 without ``+``); ``message_type`` is one of ``WHATSAPP_MESSAGE_TYPES``:

- ``text`` (at most 4096 characters); ``whatsapp.preview_url`` (boolean) asks for a link preview;
- ``image`` / ``video`` / ``file`` ``{url, caption?}`` (caption at most 1024), ``file.name``
  (the document's file name), ``audio`` ``{url}``;
- ``sticker`` ``{url}`` or ``{id}`` (a media id uploaded to the Cloud API);
- ``template`` ``{name, parameters?: [str]}`` with ``whatsapp {policy?: "deterministic", locale?}``
  (``locale`` defaults to ``en_US``, as the SDK's default);
- ``custom``: a Cloud API message object from ``type`` down (``{"type": "interactive",
  "interactive": {...}}``, a template with header/button components, location, contacts,
  reaction), passed through unchanged; the envelope (``messaging_product``, ``to``, ...) is ours.

2018 (``from.type`` / ``to.type`` ``"whatsapp"``, ``number`` both): ``message.content`` ``text`` or
``template {name, parameters: [{"default": str}], locale? | fallback_locale?}``, optionally
``message.whatsapp {policy, locale}``.

Limits are the Cloud API's documented ones; where it documents none we chose (``rules`` below).
``context {message_uuid}`` quotes a message of the conversation (``api.message_acceptor`` finds its
WhatsApp id; a failover step cannot quote one).
"""
from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage
from switchboard.validation import rules
from switchboard.validation.collector import Problems
from switchboard.validation.options import v1_delivery_fields
from switchboard.validation.field_parsers import (
    as_choice,
    as_msisdn,
    as_object,
    as_string,
    as_url,
    child,
    field,
)

CHANNEL = Channel.WHATSAPP.value
WHATSAPP_MESSAGE_TYPES: tuple[str, ...] = ("text", "image", "audio", "video", "file", "sticker", "template", "custom")
NESTED_WHATSAPP_TYPES: tuple[str, ...] = ("text", "template")
TEXT_MAX_LENGTH = 4096
CAPTION_MAX_LENGTH = 1024  # Cloud API media captions (the SDK allows 3000 on images; WhatsApp does not)
FILE_NAME_MAX_LENGTH = 240  # not documented by the Cloud API: our choice
TEMPLATE_NAME_MAX_LENGTH = 512
TEMPLATE_PARAMETER_MAX_LENGTH = 1024  # not documented per parameter: our choice (a body is at most 1024)
TEMPLATE_MAX_PARAMETERS = 100  # our choice
LOCALE_MAX_LENGTH = 20
STICKER_ID_MAX_LENGTH = 100
TEMPLATE_POLICIES: tuple[str, ...] = ("deterministic",)
DEFAULT_LOCALE = "en_US"
CAPTIONED_TYPES = frozenset({"image", "video", "file"})
# The Cloud API envelope around a custom message: set by us, never by the client.
CUSTOM_RESERVED_KEYS: tuple[str, ...] = ("messaging_product", "recipient_type", "to", "biz_opaque_callback_data")
NOT_SUPPORTED = "is not supported by this deployment"


def is_flat_whatsapp(root: dict[str, Any]) -> bool:
    return root.get("channel") == CHANNEL


def is_nested_whatsapp(root: dict[str, Any]) -> bool:
    return any(isinstance(root.get(role), dict) and root[role].get("type") == CHANNEL for role in ("from", "to"))


def parse_flat_whatsapp(root: dict[str, Any]) -> OutboundMessage:
    """A v1 WhatsApp request as an ``OutboundMessage``; raises ``ValidationFailed`` naming every invalid field."""
    problems = Problems()
    message_type = _message_type(root.get("message_type"), "message_type", WHATSAPP_MESSAGE_TYPES, problems)
    sender = as_msisdn(root.get("from"), "from", problems, required=True)
    recipient = as_msisdn(root.get("to"), "to", problems, required=True)
    options = as_object(root.get("whatsapp"), "whatsapp", problems, required=False)
    content = _flat_content(root, message_type, options, problems) if message_type else None
    reply_to = _context(root.get("context"), problems)
    for key, owner in (("messenger", "messenger"), ("viber_service", "viber_service"), ("sms", "sms"), ("ttl", "sms")):
        if root.get(key) is not None:
            problems.add(key, f"is only allowed for {owner} messages")
    delivery = v1_delivery_fields(root, problems)
    problems.raise_if_any()
    assert sender is not None and recipient is not None and content is not None
    if reply_to is not None:
        content = replace(content, context_message_uuid=reply_to)
    return OutboundMessage(
        channel=Channel.WHATSAPP,
        sender=Endpoint(type=CHANNEL, number=sender),
        recipient=Endpoint(type=CHANNEL, number=recipient),
        content=content,
        api_version=ApiVersion.V1,
        **delivery,
    )


def parse_nested_whatsapp(root: dict[str, Any], version: ApiVersion) -> OutboundMessage:
    """A beta / v0.1 WhatsApp request (``from.type`` or ``to.type`` is ``whatsapp``)."""
    problems = Problems()
    sender_block = as_object(root.get("from"), "from", problems, required=True)
    recipient_block = as_object(root.get("to"), "to", problems, required=True)
    for name, block in (("from", sender_block), ("to", recipient_block)):
        if block is not None and block.get("type") != CHANNEL:
            problems.add(child(name, "type"), f"must be {CHANNEL}, as the other party's type")
    missing = f"is required for {CHANNEL} messages"
    sender = as_msisdn(field(sender_block, "number"), "from.number", problems, required=True, missing_reason=missing)
    recipient = as_msisdn(
        field(recipient_block, "number"), "to.number", problems, required=True, missing_reason=missing
    )
    message = as_object(root.get("message"), "message", problems, required=True)
    content = _nested_content(message, problems) if message is not None else None
    for key in ("messenger", "viber_service_msg"):
        if field(message, key) is not None:
            problems.add(f"message.{key}", f"is only allowed for {key.split('_')[0]} messages")
    client_ref = as_string(
        root.get("client_ref"), "client_ref", problems, required=False, min_length=0,
        max_length=rules.NESTED_CLIENT_REF_MAX_LENGTH,
    )
    problems.raise_if_any()
    assert sender is not None and recipient is not None and content is not None
    return OutboundMessage(
        channel=Channel.WHATSAPP,
        sender=Endpoint(type=CHANNEL, number=sender),
        recipient=Endpoint(type=CHANNEL, number=recipient),
        content=content,
        api_version=ApiVersion(version),
        client_ref=client_ref,
    )


def _context(value: Any, problems: Problems) -> str | None:
    block = as_object(value, "context", problems, required=False)
    if block is None:
        return None
    text = as_string(block.get("message_uuid"), "context.message_uuid", problems, required=True, min_length=0)
    if text is None:
        return None
    try:
        return str(uuid.UUID(text))
    except ValueError:
        problems.add("context.message_uuid", "must be a message uuid")
        return None


def _message_type(value: Any, name: str, supported: tuple[str, ...], problems: Problems) -> str | None:
    text = as_string(value, name, problems, required=True, min_length=0)
    if text is None:
        return None
    if text not in supported:
        problems.add(name, f"is not supported for {CHANNEL}; supported: " + ", ".join(supported))
        return None
    return text


def _flat_content(
    root: dict[str, Any], message_type: str, options: dict[str, Any] | None, problems: Problems
) -> Content | None:
    _check_options(options, message_type, problems)
    if message_type == "text":
        preview = _preview_url(field(options, "preview_url"), problems)
        text = _text(root.get("text"), "text", problems)
        return None if text is None else Content(type="text", text=text, preview_url=preview)
    if message_type == "template":
        return _template(root.get("template"), "template", options, "whatsapp", problems, nested_parameters=False)
    if message_type == "sticker":
        return _sticker(root.get("sticker"), problems)
    if message_type == "custom":
        return _custom(root.get("custom"), problems)
    return _media(root.get(message_type), message_type, problems)


def _check_options(options: dict[str, Any] | None, message_type: str, problems: Problems) -> None:
    if options is None:
        return
    allowed = {"text": ("preview_url",), "template": ("policy", "locale")}.get(message_type, ())
    for key in options:
        if key not in allowed:
            where = f"{message_type} messages" + (f" ({', '.join(allowed)})" if allowed else "")
            problems.add(child("whatsapp", key), f"is not allowed for {where}")


def _preview_url(value: Any, problems: Problems) -> bool | None:
    if value is None:
        return None
    if not isinstance(value, bool):
        problems.add("whatsapp.preview_url", "must be a boolean")
        return None
    return value


def _text(value: Any, name: str, problems: Problems) -> str | None:
    return as_string(
        value, name, problems, required=True, max_length=TEXT_MAX_LENGTH, max_length_context=f" for {CHANNEL}",
        missing_reason="is required for text messages",
    )


def _media(value: Any, kind: str, problems: Problems) -> Content | None:
    block = as_object(value, kind, problems, required=True, missing_reason=f"is required for {kind} messages")
    if block is None:
        return None
    url = as_url(block.get("url"), child(kind, "url"), problems, required=True, max_length=rules.MEDIA_URL_MAX_LENGTH)
    caption = None
    if block.get("caption") is not None:
        if kind in CAPTIONED_TYPES:
            caption = as_string(
                block["caption"], child(kind, "caption"), problems, required=False,
                max_length=CAPTION_MAX_LENGTH, max_length_context=f" for {CHANNEL}",
            )
        else:
            problems.add(child(kind, "caption"), f"is not supported for {CHANNEL} {kind} messages")
    name = None
    if block.get("name") is not None:
        if kind == "file":
            name = as_string(block["name"], "file.name", problems, required=False, max_length=FILE_NAME_MAX_LENGTH)
        else:
            problems.add(child(kind, "name"), "is only allowed for file messages")
    if url is None:
        return None
    return Content(type=kind, url=url, caption=caption, name=name)


def _sticker(value: Any, problems: Problems) -> Content | None:
    block = as_object(value, "sticker", problems, required=True, missing_reason="is required for sticker messages")
    if block is None:
        return None
    has_url, has_id = block.get("url") is not None, block.get("id") is not None
    if has_url == has_id:
        problems.add("sticker", "must have exactly one of url or id")
        return None
    if has_url:
        url = as_url(block["url"], "sticker.url", problems, required=True, max_length=rules.MEDIA_URL_MAX_LENGTH)
        return None if url is None else Content(type="sticker", url=url)
    media_id = as_string(block["id"], "sticker.id", problems, required=True, max_length=STICKER_ID_MAX_LENGTH)
    return None if media_id is None else Content(type="sticker", media_id=media_id)


def _custom(value: Any, problems: Problems) -> Content | None:
    block = as_object(value, "custom", problems, required=True, missing_reason="is required for custom messages")
    if block is None:
        return None
    kind = as_string(block.get("type"), "custom.type", problems, required=True, max_length=40)
    reserved = [key for key in CUSTOM_RESERVED_KEYS if key in block]
    for key in reserved:
        problems.add(child("custom", key), "is set by this deployment; leave it out")
    if kind is not None and block.get(kind) is None:
        problems.add(child("custom", kind), f"is required when custom.type is {kind}")
        return None
    if kind is None or reserved:
        return None
    return Content(type="custom", custom=dict(block))


def _template(
    value: Any,
    name: str,
    options: dict[str, Any] | None,
    options_name: str,
    problems: Problems,
    *,
    nested_parameters: bool,
) -> Content | None:
    block = as_object(value, name, problems, required=True, missing_reason="is required for template messages")
    if block is None:
        return None
    template_name = as_string(
        block.get("name"), child(name, "name"), problems, required=True, max_length=TEMPLATE_NAME_MAX_LENGTH
    )
    parameters = _parameters(block.get("parameters"), child(name, "parameters"), problems, nested_parameters)
    locale_value = field(options, "locale")
    locale_name = child(options_name, "locale")
    if nested_parameters and locale_value is None:
        for key in ("locale", "fallback_locale"):  # 2018-11 fallback_locale, renamed locale in 2019-01
            if block.get(key) is not None:
                locale_value, locale_name = block[key], child(name, key)
                break
    locale = as_string(locale_value, locale_name, problems, required=False, max_length=LOCALE_MAX_LENGTH)
    policy = as_choice(
        field(options, "policy"), child(options_name, "policy"), problems, choices=TEMPLATE_POLICIES, required=False
    )
    if template_name is None or parameters is None:
        return None
    template: dict[str, Any] = {"name": template_name, "parameters": parameters, "locale": locale or DEFAULT_LOCALE}
    if policy is not None:
        template["policy"] = policy
    return Content(type="template", template=template)


def _parameters(value: Any, name: str, problems: Problems, nested: bool) -> list[str] | None:
    """v1: ``["a", "b"]`` (the SDK's list of strings); 2018: ``[{"default": "a"}, ...]``. Positional: the first is {{1}}."""
    if value is None:
        return []
    if not isinstance(value, list):
        problems.add(name, "must be an array")
        return None
    if len(value) > TEMPLATE_MAX_PARAMETERS:
        problems.add(name, f"must have at most {TEMPLATE_MAX_PARAMETERS} items")
        return None
    out: list[str] = []
    for index, item in enumerate(value):
        item_name = f"{name}[{index}]"
        if nested:
            block = as_object(item, item_name, problems, required=True)
            text = None if block is None else as_string(
                block.get("default"), f"{item_name}.default", problems, required=True,
                max_length=TEMPLATE_PARAMETER_MAX_LENGTH,
            )
        else:
            text = as_string(item, item_name, problems, required=True, max_length=TEMPLATE_PARAMETER_MAX_LENGTH)
        if text is not None:
            out.append(text)
    return out if len(out) == len(value) else None


def _nested_content(message: dict[str, Any], problems: Problems) -> Content | None:
    block = as_object(message.get("content"), "message.content", problems, required=True)
    options = as_object(message.get("whatsapp"), "message.whatsapp", problems, required=False)
    if block is None:
        return None
    kind = _message_type(block.get("type"), "message.content.type", NESTED_WHATSAPP_TYPES, problems)
    if kind == "text":
        if options is not None:
            problems.add("message.whatsapp", "is only allowed for template messages")
        text = _text(block.get("text"), "message.content.text", problems)
        return None if text is None else Content(type="text", text=text)
    if kind == "template":
        for key in options or {}:
            if key not in ("policy", "locale"):
                problems.add(child("message.whatsapp", key), "is not allowed for template messages (policy, locale)")
        return _template(
            block.get("template"), "message.content.template", options, "message.whatsapp", problems,
            nested_parameters=True,
        )
    return None
