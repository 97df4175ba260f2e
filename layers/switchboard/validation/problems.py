"""Moved to ``switchboard.validation.collector``; this shim is removed when the restructuring completes."""
from switchboard.validation.collector import *  # noqa: F401,F403
