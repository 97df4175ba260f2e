"""Moved to ``switchboard.notifier.targets``; this shim is removed when the restructuring completes."""
from switchboard.notifier.targets import (  # noqa: F401
    FROM_ACCOUNT, FROM_APPLICATION, FROM_MESSAGE, AccountLookup, ResolvedTarget, WebhookTargets,
)
