"""The WhatsApp customer service window: free-form messages only within 24 hours of the customer's
last message to the business number; outside it, only templates (docs/providers.md).

``closed_since`` answers from what this deployment knows (the window store, written by the
webhooks function for every inbound WhatsApp message): a window is known closed only when a
customer message is recorded and it is 24 hours old or more. With nothing recorded the provider
decides, and its refusal (code 131047) becomes a rejected status with code 1340.
"""
from __future__ import annotations

from switchboard.domain.message import Channel, OutboundMessage

WINDOW_SECONDS = 24 * 3600
# Content that may open a conversation outside the window: a template, also as a custom payload.
TEMPLATE = "template"


def needs_open_window(message: OutboundMessage) -> bool:
    """A WhatsApp message that is not a template (free-form) needs an open window."""
    if message.channel is not Channel.WHATSAPP:
        return False
    content = message.content
    if content.type == TEMPLATE:
        return False
    if content.type == "custom" and (content.custom or {}).get("type") == TEMPLATE:
        return False
    return True


def window_closed(last_inbound_at: float | None, now: float) -> bool:
    """True only when a customer message is known and it is at least 24 hours old."""
    return last_inbound_at is not None and now - last_inbound_at >= WINDOW_SECONDS
