"""The v1 inbound webhook fields of a WhatsApp message (the Messages API v1 ``inbound-message``
schemas for WhatsApp): ``message_type`` and its field, plus ``profile`` and ``context``.

``text``; ``image`` / ``video`` / ``file`` ``{url, caption?}`` (``file.name``), ``audio`` /
``sticker`` ``{url}``; ``location {lat, long, name?, address?, url?}`` (numbers); ``reply {id,
title, description?}`` (a button or list reply to an interactive message); ``button {payload,
text}`` (a template's quick-reply button); ``reaction {action, emoji?}``; anything else
(contacts, orders, system messages) is ``unsupported``. Media URLs are this deployment's own
authenticated media route, not Graph's (which needs the business's token and expires).
"""
from __future__ import annotations

from typing import Any

MEDIA_FIELDS = {"image": ("url", "caption"), "video": ("url", "caption"), "file": ("url", "caption", "name"),
                "audio": ("url",), "sticker": ("url",)}
UNSUPPORTED = "unsupported"


def whatsapp_v1_content(content: dict[str, Any]) -> dict[str, Any]:
    kind = content.get("type")
    body: dict[str, Any]
    if kind == "text":
        body = {"message_type": "text", "text": content.get("text") or ""}
    elif kind in MEDIA_FIELDS:
        media = content.get(kind) or {}
        body = {"message_type": kind, kind: {k: media[k] for k in MEDIA_FIELDS[kind] if media.get(k) is not None}}
    elif kind == "location":
        body = _location(content.get("location") or {})
    elif kind in ("reply", "button", "reaction"):
        body = {"message_type": kind, kind: dict(content.get(kind) or {})}
    else:
        body = {"message_type": UNSUPPORTED}
    if isinstance(content.get("profile"), dict):  # context: message_uuid when ours, message_from
        body["profile"] = dict(content["profile"])
    context = content.get("context")
    if isinstance(context, dict):
        body["context"] = {k: context[k] for k in ("message_uuid", "message_from") if context.get(k)}
    return body


def _location(location: dict[str, Any]) -> dict[str, Any]:
    try:
        out: dict[str, Any] = {"lat": float(location["lat"]), "long": float(location["long"])}
    except (KeyError, TypeError, ValueError):
        return {"message_type": UNSUPPORTED}
    for key in ("name", "address", "url"):
        if location.get(key):
            out[key] = str(location[key])
    return {"message_type": "location", "location": out}
