"""Moved to ``switchboard.adapters.providers.messenger_api``; this shim is removed when the restructuring completes."""
from switchboard.adapters.providers.messenger_api import (  # noqa: F401
    DEFAULT_API_BASE, DEFAULT_API_VERSION, PROVIDER, MessengerAdapter, interpret, map_error, request_body,
)
