"""Channel links in memory: who owns a page, Viber service or number."""
from __future__ import annotations

from switchboard.domain.message import Channel
from switchboard.domain.tenancy import ChannelLink


class FakeLinks:
    def __init__(self, *links: ChannelLink) -> None:
        self.links = {(link.channel, link.address): link for link in links}

    def get(self, channel: Channel | str, address: str) -> ChannelLink | None:
        return self.links.get((Channel(channel), address))
