"""Moved to ``switchboard.adapters.providers.viber_api``; this shim is removed when the restructuring completes."""
from switchboard.adapters.providers.viber_api import (  # noqa: F401
    DEFAULT_API_BASE, IMAGE_TYPE, PROVIDER, REJECTED_STATUSES, RETRY_STATUSES, STATUS_NAMES, TEXT_TYPE, ViberAdapter,
    interpret, map_status, request_body, seq_for,
)
