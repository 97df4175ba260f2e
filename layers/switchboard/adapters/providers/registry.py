"""Which adapter sends each channel, and whether a message's sender is configured for this deployment."""
from __future__ import annotations

from switchboard.adapters.providers.messenger_api import MessengerAdapter
from switchboard.adapters.providers.sms_api import SmsAdapter
from switchboard.adapters.providers.viber_api import ViberAdapter
from switchboard.adapters.providers.whatsapp_api import WhatsAppAdapter
from switchboard.domain.message import Channel, OutboundMessage
from switchboard.domain.sending import ChannelAdapter
from switchboard.domain.whatsapp_cloud import business_number

_ADAPTERS: dict[Channel, ChannelAdapter] = {
    Channel.MESSENGER: MessengerAdapter(),
    Channel.VIBER: ViberAdapter(),
    Channel.SMS: SmsAdapter(),
    Channel.WHATSAPP: WhatsAppAdapter(),
}


def adapter_for(channel: Channel) -> ChannelAdapter:
    try:
        return _ADAPTERS[Channel(channel)]
    except (KeyError, ValueError):
        raise ValueError(f"no adapter for channel {channel!r}") from None


def unconfigured_sender(message: OutboundMessage, config: dict) -> str | None:
    """None when the message's ``from`` may send on this deployment, else the reason it may not.

    ``config`` is the whole channels configuration (``channels_config()``). The reason is for the
    operator's log: the client gets one answer for every refused sender (``api/send.py``), since a
    sender must also be the caller's own.
    """
    sender = message.sender.address
    if message.channel is Channel.MESSENGER:
        pages = (config.get("messenger") or {}).get("pages") or {}
        if not pages.get(sender):
            return f"page {sender} is not configured for this deployment"
    elif message.channel is Channel.VIBER:
        service_ids = {str(each) for each in (config.get("viber") or {}).get("service_ids") or []}
        if sender not in service_ids:
            return f"Viber service {sender} is not configured for this deployment"
    elif message.channel is Channel.SMS:
        if not (config.get("sms") or {}).get("api_key"):
            return "the SMS channel is not configured for this deployment"
    elif message.channel is Channel.WHATSAPP:
        if business_number(config.get("whatsapp") or {}, sender) is None:
            return f"WhatsApp number {sender} is not configured for this deployment"
    return None
