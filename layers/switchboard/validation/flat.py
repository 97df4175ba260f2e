"""The flat request format of POST /v1/messages (protocols.md 8), as the official SDKs send it."""
from __future__ import annotations

from typing import Any

from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage
from switchboard.validation import rules
from switchboard.validation.content import (
    channel_label,
    media_content,
    resolve_channel,
    resolve_content_type,
    text_content,
)
from switchboard.validation.field_parsers import (
    as_boolean,
    as_msisdn,
    as_sms_sender,
    as_string,
)
from switchboard.validation.options import messenger_options, misplaced, sms_options, v1_delivery_fields, viber_options
from switchboard.validation.collector import Problems, reject_non_object_body
from switchboard.validation.viber import viber_file_content, viber_video_content, with_v1_viber_options
from switchboard.validation.whatsapp import is_flat_whatsapp, parse_flat_whatsapp

_VIBER = channel_label(Channel.VIBER, rules.FLAT_CHANNELS)


def parse_flat(body: object) -> OutboundMessage:
    """Validate a v1 send request; raises ``ValidationFailed`` naming every invalid field. ``failover`` is ignored."""
    root = reject_non_object_body(body)
    if is_flat_whatsapp(root):
        return parse_flat_whatsapp(root)
    problems = Problems()

    channel = resolve_channel(
        root.get("channel"), "channel", problems, names=rules.FLAT_CHANNELS, other_format_names=rules.NESTED_CHANNELS
    )
    label = channel_label(channel, rules.FLAT_CHANNELS) if channel is not None else None
    message_type = resolve_content_type(
        root.get("message_type"),
        "message_type",
        problems,
        channel=channel,
        label=label,
        by_channel=rules.FLAT_CONTENT_TYPES_BY_CHANNEL,
    )

    sender = _sender(root.get("from"), channel, problems)
    recipient = _recipient(root.get("to"), channel, problems)
    content = _content(root, message_type, channel, label, problems)

    messenger_value, viber_value, sms_value, ttl_value = (
        root.get("messenger"),
        root.get("viber_service"),
        root.get("sms"),
        root.get("ttl"),
    )
    misplaced(messenger_value, "messenger", problems, owner=Channel.MESSENGER, owner_label="messenger", channel=channel)
    misplaced(viber_value, "viber_service", problems, owner=Channel.VIBER, owner_label=_VIBER, channel=channel)
    misplaced(sms_value, "sms", problems, owner=Channel.SMS, owner_label="sms", channel=channel)
    misplaced(ttl_value, "ttl", problems, owner=Channel.SMS, owner_label="sms", channel=channel)
    messenger = (
        messenger_options(messenger_value, "messenger", problems, refuse_retired_tags=True)
        if channel is Channel.MESSENGER
        else None
    )
    viber = (
        with_v1_viber_options(
            viber_options(viber_value, "viber_service", problems, types=rules.FLAT_VIBER_TYPES),
            viber_value,
            "viber_service",
            problems,
            content_type=message_type,
        )
        if channel is Channel.VIBER
        else None
    )
    sms = sms_options(sms_value, "sms", ttl_value, "ttl", problems) if channel is Channel.SMS else None
    # Fraud Defender's per-message override: this deployment has no such protections, so it changes nothing.
    trusted_recipient_value = root.get("trusted_recipient")
    misplaced(
        trusted_recipient_value, "trusted_recipient", problems, owner=Channel.SMS, owner_label="sms", channel=channel
    )
    as_boolean(trusted_recipient_value, "trusted_recipient", problems, required=False)

    delivery = v1_delivery_fields(root, problems)

    problems.raise_if_any()
    # No problems means every part above was built; this only narrows the types.
    assert channel is not None and sender is not None and recipient is not None and content is not None
    return OutboundMessage(
        channel=channel,
        sender=sender,
        recipient=recipient,
        content=content,
        api_version=ApiVersion.V1,
        **delivery,
        messenger=messenger,
        viber=viber,
        sms=sms,
    )


def _sender(value: Any, channel: Channel | None, problems: Problems) -> Endpoint | None:
    """SMS: a number or alphanumeric sender id. Messenger: the page id. Viber: the service id."""
    if channel is Channel.SMS:
        number = as_sms_sender(value, "from", problems, required=True)
        return None if number is None else Endpoint(type=channel.value, number=number)
    address = as_string(value, "from", problems, required=True, max_length=rules.ADDRESS_ID_MAX_LENGTH)
    if address is None or channel is None:
        return None
    return Endpoint(type=channel.value, id=address)


def _recipient(value: Any, channel: Channel | None, problems: Problems) -> Endpoint | None:
    """Messenger: the PSID. SMS and Viber: the phone number."""
    if channel is Channel.SMS or channel is Channel.VIBER:
        number = as_msisdn(value, "to", problems, required=True)
        return None if number is None else Endpoint(type=channel.value, number=number)
    address = as_string(value, "to", problems, required=True, max_length=rules.ADDRESS_ID_MAX_LENGTH)
    if address is None or channel is None:
        return None
    return Endpoint(type=channel.value, id=address)


def _content(
    root: dict[str, Any], message_type: str | None, channel: Channel | None, label: str | None, problems: Problems
) -> Content | None:
    if message_type is None:
        return None
    if message_type == "text":
        return text_content(root.get("text"), "text", problems, channel=channel, label=label)
    if channel is Channel.VIBER and message_type == "video":
        return viber_video_content(root.get("video"), "video", problems)
    if channel is Channel.VIBER and message_type == "file":
        return viber_file_content(root.get("file"), "file", problems)
    return media_content(
        root.get(message_type), message_type, problems, content_type=message_type, channel=channel, viber_label=_VIBER
    )
