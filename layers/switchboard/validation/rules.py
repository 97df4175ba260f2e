"""What this deployment accepts: channels, content types per channel and the documented limits."""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from switchboard.domain.message import Channel

# Channel names as each request format spells them.
NESTED_CHANNELS: Mapping[str, Channel] = MappingProxyType(
    {"sms": Channel.SMS, "messenger": Channel.MESSENGER, "viber_service_msg": Channel.VIBER, "whatsapp": Channel.WHATSAPP}
)
FLAT_CHANNELS: Mapping[str, Channel] = MappingProxyType(
    {"sms": Channel.SMS, "messenger": Channel.MESSENGER, "viber_service": Channel.VIBER, "whatsapp": Channel.WHATSAPP}
)
# Channels the Messages API knows but this deployment does not deliver to.
UNSUPPORTED_CHANNELS = frozenset({"mms", "rcs"})

MEDIA_TYPES: tuple[str, ...] = ("image", "audio", "video", "file")
CONTENT_TYPES: tuple[str, ...] = ("text", *MEDIA_TYPES)
CONTENT_TYPES_BY_CHANNEL: Mapping[Channel, tuple[str, ...]] = MappingProxyType(
    {
        Channel.SMS: ("text",),
        Channel.MESSENGER: CONTENT_TYPES,
        Channel.VIBER: ("text", "image"),
        # Checked by validation/whatsapp.py, which takes every WhatsApp request before the generic rules.
        Channel.WHATSAPP: ("text", *MEDIA_TYPES, "sticker", "template", "custom"),
    }
)
# Content / message types of the Messages API (any version) that this deployment does not send.
UNSUPPORTED_CONTENT_TYPES = frozenset(
    {"template", "custom", "sticker", "vcard", "card", "carousel", "content", "location", "reply"}
)

TEXT_MAX_LENGTH: Mapping[Channel, int] = MappingProxyType(
    {Channel.SMS: 1000, Channel.MESSENGER: 640, Channel.VIBER: 1000, Channel.WHATSAPP: 4096}
)
MEDIA_URL_MAX_LENGTH = 2000
# Viber Service Messages carry the caption in "#caption", which Viber limits to 30 characters.
VIBER_CAPTION_MAX_LENGTH = 30
ADDRESS_ID_MAX_LENGTH = 50

NESTED_CLIENT_REF_MAX_LENGTH = 40
FLAT_CLIENT_REF_MAX_LENGTH = 100
WEBHOOK_URL_MAX_LENGTH = 2000
WEBHOOK_VERSIONS: tuple[str, ...] = ("v0.1", "v1")

MESSENGER_CATEGORIES: tuple[str, ...] = ("response", "update", "message_tag")
MESSENGER_DEFAULT_CATEGORY = "response"
MESSENGER_TAG_CATEGORY = "message_tag"
# Facebook's 2018 message tags plus the ones that later replaced them; Facebook expects upper case.
MESSENGER_TAGS: tuple[str, ...] = (
    "ACCOUNT_UPDATE",
    "APPLICATION_UPDATE",
    "APPOINTMENT_UPDATE",
    "COMMUNITY_ALERT",
    "CONFIRMED_EVENT_REMINDER",
    "CONFIRMED_EVENT_UPDATE",
    "FEATURE_FUNCTIONALITY_UPDATE",
    "GAME_EVENT",
    "HUMAN_AGENT",
    "ISSUE_RESOLUTION",
    "NON_PROMOTIONAL_SUBSCRIPTION",
    "PAIRING_UPDATE",
    "PAYMENT_UPDATE",
    "PERSONAL_FINANCE_UPDATE",
    "POST_PURCHASE_UPDATE",
    "RESERVATION_UPDATE",
    "SHIPPING_UPDATE",
    "TICKET_UPDATE",
    "TRANSPORTATION_UPDATE",
)

VIBER_CATEGORIES: tuple[str, ...] = ("transaction", "promotion")
VIBER_DEFAULT_CATEGORY = "transaction"
VIBER_TTL_MIN_SECONDS = 30
VIBER_TTL_MAX_SECONDS = 259200
NESTED_VIBER_TYPES: tuple[str, ...] = ("template",)
FLAT_VIBER_TYPES: tuple[str, ...] = ("string", "template")

SMS_ENCODING_TYPES: tuple[str, ...] = ("text", "unicode", "auto")
# v1 gives the SMS validity in seconds; the SMS API takes milliseconds (20000..604800000).
SMS_TTL_MIN_SECONDS = 20
SMS_TTL_MAX_SECONDS = 604800
SMS_REGULATORY_ID_MAX_LENGTH = 100
