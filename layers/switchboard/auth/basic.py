"""Parsing of ``Authorization: Basic base64(api_key:api_secret)`` credentials."""
from __future__ import annotations

import base64
import binascii

from switchboard.auth.failure import AuthenticationFailed

MALFORMED = "Malformed Basic credentials; expected base64(api_key:api_secret)"
_MAX_CREDENTIALS_LENGTH = 1024


def parse_basic_credentials(encoded: str) -> tuple[str, str]:
    """``(api_key, api_secret)`` from the part after ``Basic ``; raises ``AuthenticationFailed`` if malformed."""
    encoded = encoded.strip()
    if not encoded or len(encoded) > _MAX_CREDENTIALS_LENGTH:
        raise AuthenticationFailed(MALFORMED)
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise AuthenticationFailed(MALFORMED) from None
    api_key, colon, api_secret = decoded.partition(":")
    if not colon or not api_key or not api_secret:
        raise AuthenticationFailed(MALFORMED)
    return api_key, api_secret
