"""What this deployment accepts: channels, content types per channel and the documented limits."""
from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from switchboard.domain.message import Channel

# Channel names as each request format spells them.
NESTED_CHANNELS: Mapping[str, Channel] = MappingProxyType(
    {"sms": Channel.SMS, "messenger": Channel.MESSENGER, "viber_service_msg": Channel.VIBER}
)
FLAT_CHANNELS: Mapping[str, Channel] = MappingProxyType(
    {"sms": Channel.SMS, "messenger": Channel.MESSENGER, "viber_service": Channel.VIBER}
)
# Channels the Messages API knows but this deployment does not deliver to.
UNSUPPORTED_CHANNELS = frozenset({"whatsapp", "mms", "rcs"})

MEDIA_TYPES: tuple[str, ...] = ("image", "audio", "video", "file")
CONTENT_TYPES: tuple[str, ...] = ("text", *MEDIA_TYPES)
CONTENT_TYPES_BY_CHANNEL: Mapping[Channel, tuple[str, ...]] = MappingProxyType(
    {
        Channel.SMS: ("text",),
        Channel.MESSENGER: CONTENT_TYPES,
        Channel.VIBER: ("text", "image"),
    }
)
# v1 also sends Viber video and file messages; the beta/v0.1 format has no field for a video's
# thumbnail, length and size or a file's name, so there Viber stays text and image.
VIBER_V1_CONTENT_TYPES: tuple[str, ...] = ("text", "image", "video", "file")
FLAT_CONTENT_TYPES_BY_CHANNEL: Mapping[Channel, tuple[str, ...]] = MappingProxyType(
    {**CONTENT_TYPES_BY_CHANNEL, Channel.VIBER: VIBER_V1_CONTENT_TYPES}
)
# Content / message types of the Messages API (any version) that this deployment does not send.
UNSUPPORTED_CONTENT_TYPES = frozenset(
    {"template", "custom", "sticker", "vcard", "card", "carousel", "content", "location", "reply"}
)

TEXT_MAX_LENGTH: Mapping[Channel, int] = MappingProxyType(
    {Channel.SMS: 1000, Channel.MESSENGER: 640, Channel.VIBER: 1000}
)
MEDIA_URL_MAX_LENGTH = 2000
# A Viber image or video caption is sent as the message text ("#txt", 1000 characters at most);
# Viber's 30-character "#caption" is the label of the action button.
VIBER_CAPTION_MAX_LENGTH = 1000
VIBER_ACTION_TEXT_MAX_LENGTH = 30
VIBER_THUMB_URL_MAX_LENGTH = 1000
VIBER_FILE_NAME_MAX_LENGTH = 25
VIBER_VIDEO_MIN_SECONDS, VIBER_VIDEO_MAX_SECONDS = 1, 600
VIBER_VIDEO_MIN_MB, VIBER_VIDEO_MAX_MB = 1, 200
ADDRESS_ID_MAX_LENGTH = 50

NESTED_CLIENT_REF_MAX_LENGTH = 40
FLAT_CLIENT_REF_MAX_LENGTH = 100
WEBHOOK_URL_MAX_LENGTH = 2000
WEBHOOK_VERSIONS: tuple[str, ...] = ("v0.1", "v1")

MESSENGER_CATEGORIES: tuple[str, ...] = ("response", "update", "message_tag")
MESSENGER_DEFAULT_CATEGORY = "response"
MESSENGER_TAG_CATEGORY = "message_tag"
# Facebook's message tags since March 2020; upper case, as Facebook expects them.
MESSENGER_CURRENT_TAGS: tuple[str, ...] = (
    "ACCOUNT_UPDATE",
    "CONFIRMED_EVENT_UPDATE",
    "CUSTOMER_FEEDBACK",
    "HUMAN_AGENT",
    "POST_PURCHASE_UPDATE",
)
# The 2018 tags Facebook retired on 2020-03-04, with the current tag that covers the same use
# (None: no current tag does). beta/v0.1 still accept them, as in 2018; v1 refuses them.
MESSENGER_RETIRED_TAGS: Mapping[str, str | None] = MappingProxyType(
    {
        "APPLICATION_UPDATE": "ACCOUNT_UPDATE",
        "APPOINTMENT_UPDATE": "CONFIRMED_EVENT_UPDATE",
        "COMMUNITY_ALERT": None,
        "CONFIRMED_EVENT_REMINDER": "CONFIRMED_EVENT_UPDATE",
        "FEATURE_FUNCTIONALITY_UPDATE": None,
        "GAME_EVENT": None,
        "ISSUE_RESOLUTION": "ACCOUNT_UPDATE",
        "NON_PROMOTIONAL_SUBSCRIPTION": None,
        "PAIRING_UPDATE": None,
        "PAYMENT_UPDATE": "POST_PURCHASE_UPDATE",
        "PERSONAL_FINANCE_UPDATE": "ACCOUNT_UPDATE",
        "RESERVATION_UPDATE": "CONFIRMED_EVENT_UPDATE",
        "SHIPPING_UPDATE": "POST_PURCHASE_UPDATE",
        "TICKET_UPDATE": "CONFIRMED_EVENT_UPDATE",
        "TRANSPORTATION_UPDATE": "CONFIRMED_EVENT_UPDATE",
    }
)
# What beta/v0.1 accept: the 2018 tags and the current ones.
MESSENGER_TAGS: tuple[str, ...] = tuple(sorted({*MESSENGER_CURRENT_TAGS, *MESSENGER_RETIRED_TAGS}))

VIBER_CATEGORIES: tuple[str, ...] = ("transaction", "promotion")
VIBER_DEFAULT_CATEGORY = "transaction"
VIBER_TTL_MIN_SECONDS = 30
VIBER_TTL_MAX_SECONDS = 259200
NESTED_VIBER_TYPES: tuple[str, ...] = ("template",)
FLAT_VIBER_TYPES: tuple[str, ...] = ("string", "template")
# Viber templates are set up with the provider per service; this deployment has none to send.
UNSUPPORTED_VIBER_TYPES = frozenset({"template"})

SMS_ENCODING_TYPES: tuple[str, ...] = ("text", "unicode", "auto")
# v1 gives the SMS validity in seconds; the SMS API takes milliseconds (20000..604800000).
SMS_TTL_MIN_SECONDS = 20
SMS_TTL_MAX_SECONDS = 604800
SMS_REGULATORY_ID_MAX_LENGTH = 100
# v1 ``sms.pool_id`` picks the sender from a number pool; this deployment has no number pools.
SMS_UNSUPPORTED_OPTIONS: tuple[str, ...] = ("pool_id",)
