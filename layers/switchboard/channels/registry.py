"""Moved to ``switchboard.adapters.providers.registry``; this shim is removed when the restructuring completes."""
from switchboard.adapters.providers.registry import adapter_for, unconfigured_sender  # noqa: F401
