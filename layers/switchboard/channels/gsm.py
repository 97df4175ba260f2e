"""Moved to ``switchboard.adapters.providers.gsm``; this shim is removed when the restructuring completes."""
from switchboard.adapters.providers.gsm import BASIC_CHARACTERS, EXTENSION_CHARACTERS, GSM_CHARACTERS, is_gsm  # noqa: F401
