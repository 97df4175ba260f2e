"""Moved to ``switchboard.adapters.providers.channels_secret``; this shim is removed when the restructuring completes."""
from __future__ import annotations

from switchboard.adapters.providers.channels_secret import ChannelsSecret
from switchboard.config import settings


def channels_config() -> dict:
    """The channels secret, for callers not yet wired by a composition module."""
    config = settings()
    return ChannelsSecret(config.channels_secret_id, config.secrets_max_age_seconds)()
