"""The webhook routes' dependencies: production services by default, replaceable in tests."""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from switchboard.config import settings
from switchboard.receipts.receipt_ports import InboundAcceptor, StatusUpdates


class Dependencies:
    """Each port is built on first use: a Messenger handshake, say, needs no status service."""

    def __init__(
        self,
        statuses: StatusUpdates | None = None,
        inbound: InboundAcceptor | None = None,
        channels_config: Callable[[], Mapping[str, Any]] | None = None,
        viber_allowed_cidrs: Callable[[], Sequence[str]] | None = None,
        allow_unsigned_sms: Callable[[], bool] | None = None,
    ) -> None:
        self._statuses = statuses
        self._inbound = inbound
        self._channels_config = channels_config or _secret_channels_config
        self._viber_allowed_cidrs = viber_allowed_cidrs or (lambda: settings().viber_callback_allowed_cidrs)
        self._allow_unsigned_sms = allow_unsigned_sms or (lambda: settings().allow_unsigned_sms_webhooks)

    def statuses(self) -> StatusUpdates:
        if self._statuses is None:
            from switchboard.receipts.status_machine import StatusService

            self._statuses = StatusService()
        return self._statuses

    def inbound(self) -> InboundAcceptor:
        if self._inbound is None:
            self._inbound = default_inbound_service()
        return self._inbound

    def channels_config(self) -> Mapping[str, Any]:
        return self._channels_config()

    def section(self, name: str) -> Mapping[str, Any]:
        section = self.channels_config().get(name)
        return section if isinstance(section, Mapping) else {}

    def viber_allowed_cidrs(self) -> Sequence[str]:
        return self._viber_allowed_cidrs()

    def allow_unsigned_sms(self) -> bool:
        """The AllowUnsignedSmsWebhooks opt-in: SMS webhooks are accepted unsigned while no secret is set."""
        return self._allow_unsigned_sms()


def default_inbound_service() -> InboundAcceptor:
    from switchboard.receipts.inbound_routing import InboundService
    from switchboard.receipts.inbound_intake import InboundIntake
    from switchboard.store.links import ChannelLinkStore

    return InboundService(ChannelLinkStore(), InboundIntake())


def _secret_channels_config() -> Mapping[str, Any]:
    from switchboard.channels.config import channels_config

    return channels_config()


_current: Dependencies | None = None


def dependencies() -> Dependencies:
    global _current
    if _current is None:
        _current = Dependencies()
    return _current


def use(deps: Dependencies | None) -> None:
    """Tests: route every request through ``deps`` (``None`` goes back to the production wiring)."""
    global _current
    _current = deps
