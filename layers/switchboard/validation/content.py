"""Channel and content checks shared by the nested (beta, v0.1) and flat (v1) request formats."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from switchboard.domain.message import Channel, Content
from switchboard.validation import rules
from switchboard.validation.field_parsers import as_object, as_string, as_url, child
from switchboard.validation.collector import Problems


def channel_label(channel: Channel, names: Mapping[str, Channel]) -> str:
    """The channel's name as the request format spells it (``viber_service`` in v1)."""
    return next(name for name, known in names.items() if known is channel)


def resolve_channel(
    value: Any,
    name: str,
    problems: Problems,
    *,
    names: Mapping[str, Channel],
    other_format_names: Mapping[str, Channel],
) -> Channel | None:
    text = as_string(value, name, problems, required=True, min_length=0)
    if text is None:
        return None
    if text in names:
        return names[text]
    supported = ", ".join(names)
    if text in other_format_names:
        problems.add(
            name,
            f"is the name used by another API version; use {channel_label(other_format_names[text], names)}",
        )
    elif text in rules.UNSUPPORTED_CHANNELS:
        problems.add(name, f"is not supported by this deployment; supported: {supported}")
    else:
        problems.add(name, f"must be one of: {supported}")
    return None


def resolve_content_type(
    value: Any,
    name: str,
    problems: Problems,
    *,
    channel: Channel | None,
    label: str | None,
    by_channel: Mapping[Channel, tuple[str, ...]] = rules.CONTENT_TYPES_BY_CHANNEL,
) -> str | None:
    """The content (nested) or message (v1) type, checked against the channel when it is known."""
    text = as_string(value, name, problems, required=True, min_length=0)
    if text is None:
        return None
    supported = by_channel[channel] if channel is not None else rules.CONTENT_TYPES
    if text in supported:
        return text
    listed = ", ".join(supported)
    if text in rules.CONTENT_TYPES:
        problems.add(name, f"is not supported for {label}; supported: {listed}")
    elif text in rules.UNSUPPORTED_CONTENT_TYPES:
        scope = f" for {label}" if label else ""
        problems.add(name, f"is not supported by this deployment; supported{scope}: {listed}")
    else:
        problems.add(name, f"must be one of: {listed}")
    return None


def text_content(
    value: Any, name: str, problems: Problems, *, channel: Channel | None, label: str | None
) -> Content | None:
    text = as_string(
        value,
        name,
        problems,
        required=True,
        max_length=rules.TEXT_MAX_LENGTH[channel] if channel is not None else None,
        max_length_context=f" for {label}" if label else "",
        missing_reason="is required for text messages",
    )
    return None if text is None else Content(type="text", text=text)


def media_content(
    value: Any,
    name: str,
    problems: Problems,
    *,
    content_type: str,
    channel: Channel | None,
    viber_label: str,
) -> Content | None:
    """``{"url": ..., "caption"?: ...}``; a caption is only accepted on Viber images."""
    block = as_object(value, name, problems, required=True, missing_reason=f"is required for {content_type} messages")
    if block is None:
        return None
    url = as_url(block.get("url"), child(name, "url"), problems, required=True, max_length=rules.MEDIA_URL_MAX_LENGTH)
    caption = _caption(block.get("caption"), child(name, "caption"), problems, content_type, channel, viber_label)
    if url is None:
        return None
    return Content(type=content_type, url=url, caption=caption)


def _caption(
    value: Any, name: str, problems: Problems, content_type: str, channel: Channel | None, viber_label: str
) -> str | None:
    if value is None:
        return None
    if channel is not None and not (channel is Channel.VIBER and content_type == "image"):
        problems.add(name, f"is only supported for {viber_label} images")
        return None
    return as_string(
        value,
        name,
        problems,
        required=False,
        max_length=rules.VIBER_CAPTION_MAX_LENGTH,
        max_length_context=f" for {viber_label}",
    )
