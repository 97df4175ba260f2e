"""The canonical, version-independent form of an outbound message.

Every API version (beta/v0.1 nested, v1 flat) is validated into an ``OutboundMessage``;
the store, the sender and the channel adapters only ever see this form.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import unquote, urlsplit


class Channel(str, Enum):
    SMS = "sms"
    MESSENGER = "messenger"
    VIBER = "viber_service_msg"  # v1 calls it "viber_service"; we store the 2018 name


class ApiVersion(str, Enum):
    BETA = "beta"
    V0_1 = "v0.1"
    V1 = "v1"


@dataclass(frozen=True)
class Endpoint:
    """A sender or recipient: ``id`` (Messenger PSID / page id, Viber service id) or ``number`` (E.164, no +)."""

    type: str
    id: str | None = None
    number: str | None = None

    def to_dict(self) -> dict[str, str]:
        out = {"type": self.type}
        if self.id is not None:
            out["id"] = self.id
        if self.number is not None:
            out["number"] = self.number
        return out

    @property
    def address(self) -> str:
        """The identifier the provider addresses (id for Messenger/Viber service, number otherwise)."""
        return self.id if self.id is not None else (self.number or "")


@dataclass(frozen=True)
class Content:
    """``type`` is text | image | audio | video | file. ``text`` for text, ``url`` (+ optional caption) for media.

    Viber (v1) adds ``thumb_url`` to a video and the file ``name`` to a file.
    """

    type: str
    text: str | None = None
    url: str | None = None
    caption: str | None = None
    thumb_url: str | None = None
    name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}

    @property
    def file_name(self) -> str:
        """A file's name as the recipient sees it: ``name``, else the last segment of the URL's path."""
        if self.name:
            return self.name
        path = urlsplit(self.url or "").path
        return unquote(path.rsplit("/", 1)[-1])


@dataclass(frozen=True)
class MessengerOptions:
    category: str = "response"  # response | update | message_tag
    tag: str | None = None


@dataclass(frozen=True)
class ViberOptions:
    category: str = "transaction"  # transaction | promotion
    ttl: int | None = None
    type: str | None = None
    action_url: str | None = None  # v1 ``viber_service.action``: the button's link ...
    action_text: str | None = None  # ... and its label
    duration: int | None = None  # a video's length in seconds (v1 ``viber_service.duration``)
    file_size: int | None = None  # a video's size in MB (v1 ``viber_service.file_size``)


@dataclass(frozen=True)
class SmsOptions:
    encoding_type: str | None = None  # text | unicode | auto (v1); None = decide from the text
    ttl: int | None = None  # milliseconds for the SMS API (v1 gives seconds; converted at validation)
    content_id: str | None = None  # India DLT template id, passed through to the SMS API
    entity_id: str | None = None  # India DLT entity id, passed through to the SMS API


_INTEGER_OPTIONS = frozenset({"ttl", "duration", "file_size"})


@dataclass(frozen=True)
class OutboundMessage:
    channel: Channel
    sender: Endpoint  # the request's "from"
    recipient: Endpoint  # the request's "to"
    content: Content
    api_version: ApiVersion
    client_ref: str | None = None
    webhook_url: str | None = None  # v1 only
    webhook_version: str | None = None  # v1 only
    messenger: MessengerOptions | None = None
    viber: ViberOptions | None = None
    sms: SmsOptions | None = None

    def to_item(self) -> dict[str, Any]:
        """Plain-dict form stored in the message record (``None`` values dropped)."""
        item: dict[str, Any] = {
            "channel": self.channel.value,
            "from": self.sender.to_dict(),
            "to": self.recipient.to_dict(),
            "content": self.content.to_dict(),
            "api_version": self.api_version.value,
        }
        for key in ("client_ref", "webhook_url", "webhook_version"):
            value = getattr(self, key)
            if value is not None:
                item[key] = value
        for key in ("messenger", "viber", "sms"):
            value = getattr(self, key)
            if value is not None:
                item[key] = {k: v for k, v in asdict(value).items() if v is not None}
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "OutboundMessage":
        def opt(key: str, typ: type) -> Any:
            value = item.get(key)
            if value is None:
                return None
            # DynamoDB gives numbers back as Decimal.
            return typ(**{k: (int(v) if k in _INTEGER_OPTIONS else v) for k, v in value.items()})

        return cls(
            channel=Channel(item["channel"]),
            sender=Endpoint(**item["from"]),
            recipient=Endpoint(**item["to"]),
            content=Content(**item["content"]),
            api_version=ApiVersion(item["api_version"]),
            client_ref=item.get("client_ref"),
            webhook_url=item.get("webhook_url"),
            webhook_version=item.get("webhook_version"),
            messenger=opt("messenger", MessengerOptions),
            viber=opt("viber", ViberOptions),
            sms=opt("sms", SmsOptions),
        )


@dataclass(frozen=True)
class Principal:
    """Who is calling: an account (Basic) or one of its applications (JWT)."""

    api_key: str
    application_id: str | None = None
    auth_method: str = "basic"  # basic | jwt
    extra: dict[str, Any] = field(default_factory=dict)
