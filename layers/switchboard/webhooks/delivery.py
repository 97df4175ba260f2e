"""Moved to ``switchboard.adapters.webhook_http.webhook_poster``; this shim is removed when the restructuring completes."""
from switchboard.adapters.webhook_http.webhook_poster import (  # noqa: F401
    CONNECT_TIMEOUT_SECONDS, MAX_RESPONSE_BYTES, POOL_SIZE, READ_TIMEOUT_SECONDS, TARGET_POOLS, USER_AGENT, PostResult,
    WebhookPoster, shared_session,
)
