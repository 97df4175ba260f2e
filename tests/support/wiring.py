"""How tests wire the functions: the production composition, read afresh, with parts replaced or stubbed.

Each function's services come from its ``switchboard.composition.*_function`` module, as in
production; nothing here has defaults of its own. ``forget_wired_functions`` is a cold start (after
moto restarts or the environment changes); the ``*_services`` builders return the production
services with named parts replaced; the ``*_handler`` builders answer requests with given services.
"""
from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

COMPOSITION_MODULES = ("switchboard.composition.api_function", "switchboard.composition.webhooks_function")

Handler = Callable[[dict, Any], dict]


def forget_wired_functions() -> None:
    """Every function's next invocation reads its settings and builds its services afresh."""
    for name in COMPOSITION_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            module.settings.cache_clear()
            module.services.cache_clear()


def _replace(services: Any, replaced: Mapping[str, Any]) -> Any:
    for name, value in replaced.items():
        if not hasattr(type(services), name):
            raise AttributeError(f"{type(services).__name__} has no {name}")
        setattr(services, name, value)  # a built-on-first-use service, given instead
    return services


# -- WebhooksFunction ---------------------------------------------------------------------------


@dataclass
class StubWebhookServices:
    """``WebhookServices`` from in-memory parts; the lists and dicts given stay live (tests change them)."""

    statuses: Any
    inbound: Any
    config: dict[str, Any] = field(default_factory=dict)
    viber_allowed_cidrs: Sequence[str] = ()
    allow_unsigned_sms: bool = False
    whatsapp_windows: Any = field(default_factory=lambda: _fake_windows())
    whatsapp_replies: Any = field(default_factory=lambda: _fake_replies())

    def channels_config(self) -> Mapping[str, Any]:
        return self.config


def _fake_windows() -> Any:
    from tests.support.fakes.receipts import FakeWindows

    return FakeWindows()


def _fake_replies() -> Any:
    from tests.support.fakes.receipts import FakeReplies

    return FakeReplies()


def webhook_services(**replaced: Any) -> Any:
    """The production webhook services on the current environment, with e.g. ``statuses=`` replaced."""
    from switchboard.composition.webhooks_function import WebhookFunctionServices
    from switchboard.settings import WebhooksSettings, load_settings

    return _replace(WebhookFunctionServices(load_settings(WebhooksSettings)), replaced)


def webhooks_handler(services: Any) -> Handler:
    """The WebhooksFunction's routes answering with ``services``."""
    from switchboard.composition.webhooks_function import create_handler

    return create_handler(lambda: services)


# -- ApiFunction --------------------------------------------------------------------------------


def api_services(**replaced: Any) -> Any:
    """The production API services on the current environment, with e.g. ``acceptor=`` replaced."""
    from switchboard.composition.api_function import ApiFunctionServices
    from switchboard.settings import ApiSettings, load_settings

    return _replace(ApiFunctionServices(load_settings(ApiSettings)), replaced)


# -- SenderFunction -----------------------------------------------------------------------------


def send_batch(event: dict[str, Any], sender: Any, channel_config: Callable[[], Mapping[str, Any]] | None = None) -> Any:
    """One batch through the SenderFunction's runner (ten at once, as the template's SENDER_CONCURRENCY).

    ``channel_config`` loads the channels configuration (``tests.support.builders.CHANNELS_CONFIG`` by default).
    """
    from switchboard.composition.sender_function import sender_runner
    from switchboard.sender.send_handler import SendHandler
    from tests.support.builders import CHANNELS_CONFIG

    return SendHandler(sender, channel_config or (lambda: CHANNELS_CONFIG)).run(sender_runner(10), event, None)
