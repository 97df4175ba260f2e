"""Moved to ``switchboard.api.message_view``; this shim is removed when the restructuring completes."""
from switchboard.api.message_view import MessageReader, find_message, message_view  # noqa: F401
