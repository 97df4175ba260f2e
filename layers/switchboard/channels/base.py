"""The send contract lives in ``switchboard.domain.sending`` (and the codes in ``domain.error_codes``);
these re-exports are removed when the restructuring completes."""
from __future__ import annotations

from switchboard.domain.error_codes import (  # noqa: F401
    COMMUNICATION_FAILED, ILLEGAL_SENDER, INTERNAL_ERROR, INVALID_MESSAGE, INVALID_PARAMS, THROTTLED,
)
from switchboard.domain.sending import (  # noqa: F401
    ChannelAdapter, SendOutcome, SendResult, accepted, reason, rejected, retry,
)


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced, for provider messages that may echo a credential."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
