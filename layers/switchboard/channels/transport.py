"""Moved to ``switchboard.adapters.providers.transport``; this shim is removed when the restructuring completes."""
from switchboard.adapters.providers.transport import (  # noqa: F401
    Interpreter, ProviderReply, post, redact, reset_sessions, session, unparsable,
)
