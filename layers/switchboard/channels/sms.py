"""Moved to ``switchboard.adapters.providers.sms_api``; this shim is removed when the restructuring completes."""
from switchboard.adapters.providers.sms_api import (  # noqa: F401
    DEFAULT_API_BASE, PROVIDER, REJECTED_STATUSES, RETRY_STATUSES, SmsAdapter, interpret, map_status, message_type,
    request_form,
)
