"""The send contract lives in ``switchboard.domain.sending`` (and the codes in ``domain.error_codes``);
these re-exports are removed when the restructuring completes."""
from __future__ import annotations

from switchboard.adapters.providers.transport import redact  # noqa: F401
from switchboard.domain.error_codes import (  # noqa: F401
    COMMUNICATION_FAILED, ILLEGAL_SENDER, INTERNAL_ERROR, INVALID_MESSAGE, INVALID_PARAMS, THROTTLED,
)
from switchboard.domain.sending import (  # noqa: F401
    AbandonedSend, ChannelAdapter, SendOutcome, SendResult, TransactionContact, accepted, reason, rejected, retry,
)
