"""Channel option blocks: ``messenger``, ``viber_service_msg`` / ``viber_service`` and v1 ``sms`` + ``ttl``;
the v1 delivery fields every channel shares."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from switchboard.domain.message import Channel, MessengerOptions, SmsOptions, ViberOptions
from switchboard.validation import rules
from switchboard.validation.field_parsers import as_choice, as_integer, as_object, as_string, as_url, child, field
from switchboard.validation.collector import Problems

_MILLISECONDS_PER_SECOND = 1000


def misplaced(
    value: Any, name: str, problems: Problems, *, owner: Channel, owner_label: str, channel: Channel | None
) -> bool:
    """Reject an option block meant for another channel (likely a client bug). True when it was misplaced."""
    if value is None or channel is None or channel is owner:
        return False
    problems.add(name, f"is only allowed for {owner_label} messages")
    return True


def messenger_options(
    value: Any, name: str, problems: Problems, *, refuse_retired_tags: bool
) -> MessengerOptions:
    """``refuse_retired_tags`` (v1): the 2018 tags Facebook retired are refused, naming their replacement."""
    block = as_object(value, name, problems, required=False)
    category_name, tag_name = child(name, "category"), child(name, "tag")
    category_value, tag_value = field(block, "category"), field(block, "tag")
    category = as_choice(category_value, category_name, problems, choices=rules.MESSENGER_CATEGORIES, required=False)
    if category_value is not None and category is None:
        # Unknown category: whether a tag belongs here cannot be judged, so only its value is checked.
        _messenger_tag(tag_value, tag_name, problems, refuse_retired_tags)
        return MessengerOptions()
    category = category or rules.MESSENGER_DEFAULT_CATEGORY
    if category == rules.MESSENGER_TAG_CATEGORY:
        if tag_value is None:
            problems.add(tag_name, f"is required when category is {rules.MESSENGER_TAG_CATEGORY}")
            return MessengerOptions(category=category)
        tag = _messenger_tag(tag_value, tag_name, problems, refuse_retired_tags)
        return MessengerOptions(category=category, tag=tag)
    if tag_value is not None:
        problems.add(tag_name, f"is only allowed when category is {rules.MESSENGER_TAG_CATEGORY}")
    return MessengerOptions(category=category)


def _messenger_tag(value: Any, name: str, problems: Problems, refuse_retired_tags: bool) -> str | None:
    """Tags are matched case-insensitively (the docs' example is ``ticket_update``) and kept upper-cased."""
    text = as_string(value, name, problems, required=False, min_length=0)
    if text is None:
        return None
    tag = text.upper()
    accepted = rules.MESSENGER_CURRENT_TAGS if refuse_retired_tags else rules.MESSENGER_TAGS
    if tag in accepted:
        return tag
    current = ", ".join(rules.MESSENGER_CURRENT_TAGS)
    if tag in rules.MESSENGER_RETIRED_TAGS:
        replacement = rules.MESSENGER_RETIRED_TAGS[tag]
        advice = f"use {replacement}" if replacement else f"no current tag replaces it (current tags: {current})"
        problems.add(name, f"{tag} was retired by Facebook on 2020-03-04; {advice}")
    else:
        problems.add(name, "must be one of: " + ", ".join(accepted))
    return None


def viber_options(value: Any, name: str, problems: Problems, *, types: Sequence[str]) -> ViberOptions:
    block = as_object(value, name, problems, required=False)
    category = as_choice(
        field(block, "category"), child(name, "category"), problems, choices=rules.VIBER_CATEGORIES, required=False
    )
    ttl = as_integer(
        field(block, "ttl"),
        child(name, "ttl"),
        problems,
        required=False,
        minimum=rules.VIBER_TTL_MIN_SECONDS,
        maximum=rules.VIBER_TTL_MAX_SECONDS,
        unit=" seconds",
    )
    type_name = child(name, "type")
    viber_type = as_choice(field(block, "type"), type_name, problems, choices=types, required=False)
    if viber_type in rules.UNSUPPORTED_VIBER_TYPES:
        problems.add(type_name, f"{viber_type} is not supported by this deployment (it has no Viber templates)")
        viber_type = None
    return ViberOptions(category=category or rules.VIBER_DEFAULT_CATEGORY, ttl=ttl, type=viber_type)


def sms_options(
    block_value: Any, block_name: str, ttl_value: Any, ttl_name: str, problems: Problems
) -> SmsOptions | None:
    """v1 ``sms`` block and top-level ``ttl`` (seconds, stored as milliseconds). ``None`` when neither was given.

    ``sms.pool_id`` would change which number sends; with no number pools here it is refused.
    """
    block = as_object(block_value, block_name, problems, required=False)
    for key in rules.SMS_UNSUPPORTED_OPTIONS:
        if field(block, key) is not None:
            problems.add(
                child(block_name, key),
                "is not supported by this deployment (it has no number pools); send from a number of your own",
            )
    encoding_type = as_choice(
        field(block, "encoding_type"),
        child(block_name, "encoding_type"),
        problems,
        choices=rules.SMS_ENCODING_TYPES,
        required=False,
    )
    # Regulatory ids (e.g. India DLT), passed through to the SMS API.
    content_id, entity_id = (
        as_string(
            field(block, key),
            child(block_name, key),
            problems,
            required=False,
            max_length=rules.SMS_REGULATORY_ID_MAX_LENGTH,
        )
        for key in ("content_id", "entity_id")
    )
    ttl_seconds = as_integer(
        ttl_value,
        ttl_name,
        problems,
        required=False,
        minimum=rules.SMS_TTL_MIN_SECONDS,
        maximum=rules.SMS_TTL_MAX_SECONDS,
        unit=" seconds",
    )
    if block is None and ttl_seconds is None:
        return None
    ttl = None if ttl_seconds is None else ttl_seconds * _MILLISECONDS_PER_SECOND
    return SmsOptions(encoding_type=encoding_type, ttl=ttl, content_id=content_id, entity_id=entity_id)


def v1_delivery_fields(root: dict[str, Any], problems: Problems) -> dict[str, Any]:
    """``client_ref``, ``webhook_url`` and ``webhook_version`` of a v1 request, as ``OutboundMessage`` keywords."""
    return {
        "client_ref": as_string(
            root.get("client_ref"), "client_ref", problems, required=False, min_length=0,
            max_length=rules.FLAT_CLIENT_REF_MAX_LENGTH,
        ),
        "webhook_url": as_url(
            root.get("webhook_url"), "webhook_url", problems, required=False, max_length=rules.WEBHOOK_URL_MAX_LENGTH
        ),
        "webhook_version": as_choice(
            root.get("webhook_version"), "webhook_version", problems, choices=rules.WEBHOOK_VERSIONS, required=False
        ),
    }
