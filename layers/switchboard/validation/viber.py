"""v1 Viber content the 2018 format has no fields for: video, file and the action button.

``video: {url, thumb_url, caption?}`` with ``viber_service.duration`` (seconds) and
``viber_service.file_size`` (MB), both required; ``file: {url, name?}``; ``viber_service.action:
{url, text}`` on text, image and video messages. The SDK sends ``duration`` and ``file_size`` as
numeric strings, so digit strings are accepted there as well as integers.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from switchboard.domain.message import Content, ViberOptions
from switchboard.validation import rules
from switchboard.validation.collector import Problems
from switchboard.validation.field_parsers import as_integer, as_object, as_string, as_url, child, field

_LABEL = "viber_service"
_DIGITS = re.compile(r"[0-9]{1,9}")
# A file name Viber can type: something, a dot, then 1-5 letters or digits.
_FILE_EXTENSION = re.compile(r".+\.[A-Za-z0-9]{1,5}")


def viber_video_content(value: Any, name: str, problems: Problems) -> Content | None:
    block = as_object(value, name, problems, required=True, missing_reason="is required for video messages")
    if block is None:
        return None
    url = as_url(block.get("url"), child(name, "url"), problems, required=True, max_length=rules.MEDIA_URL_MAX_LENGTH)
    thumb_url = as_url(
        block.get("thumb_url"),
        child(name, "thumb_url"),
        problems,
        required=True,
        max_length=rules.VIBER_THUMB_URL_MAX_LENGTH,
    )
    caption = as_string(
        block.get("caption"),
        child(name, "caption"),
        problems,
        required=False,
        max_length=rules.VIBER_CAPTION_MAX_LENGTH,
        max_length_context=f" for {_LABEL}",
    )
    if url is None or thumb_url is None:
        return None
    return Content(type="video", url=url, caption=caption, thumb_url=thumb_url)


def viber_file_content(value: Any, name: str, problems: Problems) -> Content | None:
    """Viber needs the file's type (its extension) and shows a name of at most 25 characters."""
    block = as_object(value, name, problems, required=True, missing_reason="is required for file messages")
    if block is None:
        return None
    url_name, name_name = child(name, "url"), child(name, "name")
    url = as_url(block.get("url"), url_name, problems, required=True, max_length=rules.MEDIA_URL_MAX_LENGTH)
    file_name = as_string(
        block.get("name"),
        name_name,
        problems,
        required=False,
        max_length=rules.VIBER_FILE_NAME_MAX_LENGTH,
        max_length_context=f" for {_LABEL}",
    )
    if url is None or (block.get("name") is not None and file_name is None):
        return None
    content = Content(type="file", url=url, name=file_name)
    shown, shown_from = content.file_name, (name_name if file_name else url_name)
    if not _FILE_EXTENSION.fullmatch(shown):
        problems.add(shown_from, "must end in a file name with its extension (e.g. report.pdf): Viber sends the type")
        return None
    if len(shown) > rules.VIBER_FILE_NAME_MAX_LENGTH:
        problems.add(
            url_name,
            f"ends in a file name longer than {rules.VIBER_FILE_NAME_MAX_LENGTH} characters (Viber's limit); "
            "give a shorter file.name",
        )
        return None
    return content


def with_v1_viber_options(
    options: ViberOptions, value: Any, name: str, problems: Problems, *, content_type: str | None
) -> ViberOptions:
    """``options`` plus the v1-only ``viber_service`` fields: ``action``, ``duration``, ``file_size``."""
    block = value if isinstance(value, dict) else None  # viber_options reported a non-object already
    action_url, action_text = _action(field(block, "action"), child(name, "action"), problems, content_type)
    duration = _video_number(
        field(block, "duration"),
        child(name, "duration"),
        problems,
        content_type,
        rules.VIBER_VIDEO_MIN_SECONDS,
        rules.VIBER_VIDEO_MAX_SECONDS,
        " seconds",
    )
    file_size = _video_number(
        field(block, "file_size"),
        child(name, "file_size"),
        problems,
        content_type,
        rules.VIBER_VIDEO_MIN_MB,
        rules.VIBER_VIDEO_MAX_MB,
        " MB",
    )
    return replace(options, action_url=action_url, action_text=action_text, duration=duration, file_size=file_size)


def _action(
    value: Any, name: str, problems: Problems, content_type: str | None
) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    if content_type == "file":
        problems.add(name, "is not supported on file messages (Viber sends a file without a button)")
        return None, None
    block = as_object(value, name, problems, required=False)
    if block is None:
        return None, None
    url = as_url(block.get("url"), child(name, "url"), problems, required=True, max_length=rules.MEDIA_URL_MAX_LENGTH)
    text = as_string(
        block.get("text"),
        child(name, "text"),
        problems,
        required=True,
        max_length=rules.VIBER_ACTION_TEXT_MAX_LENGTH,
        max_length_context=f" for {_LABEL}",
    )
    return (url, text) if url is not None and text is not None else (None, None)


def _video_number(
    value: Any,
    name: str,
    problems: Problems,
    content_type: str | None,
    minimum: int,
    maximum: int,
    unit: str,
) -> int | None:
    if content_type != "video":
        if value is not None and content_type is not None:
            problems.add(name, "is only allowed on video messages")
        return None
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    elif isinstance(value, str):
        problems.add(name, "must be an integer")
        return None
    return as_integer(value, name, problems, required=True, minimum=minimum, maximum=maximum, unit=unit)
