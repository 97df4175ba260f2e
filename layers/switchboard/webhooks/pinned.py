"""Moved to ``switchboard.adapters.webhook_http.pinned_connection``; this shim is removed when the restructuring completes."""
from switchboard.adapters.webhook_http.pinned_connection import (  # noqa: F401
    PinnedAddressAdapter, PinnedPoolKey, PinnedRequest, open_socket, pinned_request, webhook_session,
)
