"""Moved to ``switchboard.notifier.webhook_signing``; this shim is removed when the restructuring completes."""
from switchboard.notifier.webhook_signing import ISSUER, authorization_header, payload_hash, webhook_token  # noqa: F401
