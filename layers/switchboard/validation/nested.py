"""The nested request format of POST /beta/messages and /v0.1/messages (protocols.md 1.2)."""
from __future__ import annotations

from typing import Any

from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage
from switchboard.validation import rules
from switchboard.validation.content import media_content, resolve_channel, resolve_content_type, text_content
from switchboard.validation.field_parsers import as_msisdn, as_object, as_sms_sender, as_string, child, field
from switchboard.validation.options import messenger_options, misplaced, viber_options
from switchboard.validation.collector import Problems, reject_non_object_body

_VIBER = Channel.VIBER.value


def parse_nested(body: object, version: ApiVersion) -> OutboundMessage:
    """Validate a beta / v0.1 send request; raises ``ValidationFailed`` naming every invalid field."""
    version = ApiVersion(version)
    if version is ApiVersion.V1:
        raise ValueError("parse_nested handles beta and v0.1; v1 uses parse_flat")
    root = reject_non_object_body(body)
    problems = Problems()

    sender_block = as_object(root.get("from"), "from", problems, required=True)
    recipient_block = as_object(root.get("to"), "to", problems, required=True)
    message = as_object(root.get("message"), "message", problems, required=True)

    channel = _channel(sender_block, recipient_block, problems)
    sender = _endpoint(sender_block, "from", channel, problems)
    recipient = _endpoint(recipient_block, "to", channel, problems)
    content = _content(message, channel, problems)

    messenger_value = field(message, "messenger")
    viber_value = field(message, _VIBER)
    messenger_name, viber_name = "message.messenger", f"message.{_VIBER}"
    misplaced(
        messenger_value, messenger_name, problems, owner=Channel.MESSENGER, owner_label="messenger", channel=channel
    )
    misplaced(viber_value, viber_name, problems, owner=Channel.VIBER, owner_label=_VIBER, channel=channel)
    messenger = (
        messenger_options(messenger_value, messenger_name, problems, refuse_retired_tags=False)
        if channel is Channel.MESSENGER
        else None
    )
    viber = (
        viber_options(viber_value, viber_name, problems, types=rules.NESTED_VIBER_TYPES)
        if channel is Channel.VIBER
        else None
    )

    client_ref = as_string(
        root.get("client_ref"),
        "client_ref",
        problems,
        required=False,
        min_length=0,
        max_length=rules.NESTED_CLIENT_REF_MAX_LENGTH,
    )

    problems.raise_if_any()
    # No problems means every part above was built; this only narrows the types.
    assert channel is not None and sender is not None and recipient is not None and content is not None
    return OutboundMessage(
        channel=channel,
        sender=sender,
        recipient=recipient,
        content=content,
        api_version=version,
        client_ref=client_ref,
        messenger=messenger,
        viber=viber,
    )


def _channel(
    sender_block: dict[str, Any] | None, recipient_block: dict[str, Any] | None, problems: Problems
) -> Channel | None:
    """``from.type`` decides the channel; ``to.type`` must match it. Either one alone keeps validation going."""
    from_channel = to_channel = None
    if sender_block is not None:
        from_channel = _type(sender_block, "from.type", problems)
    if recipient_block is not None:
        to_channel = _type(recipient_block, "to.type", problems)
    if from_channel is not None and to_channel is not None and from_channel is not to_channel:
        problems.add("to.type", f"must be the same as from.type ({from_channel.value})")
    return from_channel or to_channel


def _type(block: dict[str, Any], name: str, problems: Problems) -> Channel | None:
    return resolve_channel(
        block.get("type"), name, problems, names=rules.NESTED_CHANNELS, other_format_names=rules.FLAT_CHANNELS
    )


def _endpoint(block: dict[str, Any] | None, role: str, channel: Channel | None, problems: Problems) -> Endpoint | None:
    if block is None or channel is None:
        return None
    missing = f"is required for {channel.value} messages"
    if channel is Channel.MESSENGER or (channel is Channel.VIBER and role == "from"):
        address = as_string(
            block.get("id"),
            child(role, "id"),
            problems,
            required=True,
            max_length=rules.ADDRESS_ID_MAX_LENGTH,
            missing_reason=missing,
        )
        return None if address is None else Endpoint(type=channel.value, id=address)
    if channel is Channel.SMS and role == "from":
        number = as_sms_sender(block.get("number"), "from.number", problems, required=True, missing_reason=missing)
    else:
        number = as_msisdn(block.get("number"), child(role, "number"), problems, required=True, missing_reason=missing)
    return None if number is None else Endpoint(type=channel.value, number=number)


def _content(message: dict[str, Any] | None, channel: Channel | None, problems: Problems) -> Content | None:
    if message is None:
        return None
    block = as_object(message.get("content"), "message.content", problems, required=True)
    if block is None:
        return None
    label = channel.value if channel is not None else None
    content_type = resolve_content_type(
        block.get("type"), "message.content.type", problems, channel=channel, label=label
    )
    if content_type is None:
        return None
    if content_type == "text":
        return text_content(block.get("text"), "message.content.text", problems, channel=channel, label=label)
    return media_content(
        block.get(content_type),
        f"message.content.{content_type}",
        problems,
        content_type=content_type,
        channel=channel,
        viber_label=_VIBER,
    )
