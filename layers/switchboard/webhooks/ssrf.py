"""Moved to ``switchboard.adapters.webhook_http.ssrf_guard``; this shim is removed when the restructuring completes."""
from switchboard.adapters.webhook_http.ssrf_guard import (  # noqa: F401
    MAX_URL_LENGTH, IpAddress, Resolver, UnsafeWebhookUrl, WebhookTarget, WebhookUrl, check_webhook_url,
    non_public_reason, parse_webhook_url, resolve_webhook_target,
)
