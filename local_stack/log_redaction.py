"""Query-string secrets never reach the local stack's logs: their values are logged as ``***``.

The HTTP listener logs every request line, and some requests carry a secret in the query string:
the Messenger subscription handshake's ``hub.verify_token``, the SMS API's signed-request ``sig``,
and the provider credentials an adapter may send to a simulator (``api_secret``, ``access_token``).
"""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

REDACTED = "***"
SECRET_QUERY_PARAMETERS = frozenset({"hub.verify_token", "sig", "api_secret", "access_token"})

# name=value after "?", "&" or ";", up to the next separator, whitespace or quote (a request line
# is logged as "GET /path?query HTTP/1.1").
_PARAMETER = re.compile(r"(?<=[?&;])([^=&;#\s\"']+)=([^&;#\s\"']*)")


def redact_query_secrets(text: str) -> str:
    """``text`` with the value of every secret query parameter replaced by ``***``."""

    def redact(match: re.Match[str]) -> str:
        if unquote_plus(match.group(1)).lower() in SECRET_QUERY_PARAMETERS:
            return f"{match.group(1)}={REDACTED}"
        return match.group(0)

    return _PARAMETER.sub(redact, text)
