"""Request validation for the send API: every accepted request becomes an ``OutboundMessage``.

``parse_nested`` handles POST /beta/messages and /v0.1/messages, ``parse_flat`` POST /v1/messages.
Both raise ``ValidationFailed`` naming every invalid field by its dotted path as the client sent it.
"""
from switchboard.validation.flat import parse_flat
from switchboard.validation.nested import parse_nested

__all__ = ["parse_flat", "parse_nested"]
