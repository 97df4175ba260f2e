"""Moved to ``switchboard.validation.field_parsers``; this shim is removed when the restructuring completes."""
from switchboard.validation.field_parsers import *  # noqa: F401,F403
