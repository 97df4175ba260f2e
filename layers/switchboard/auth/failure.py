"""One answer for every authentication failure.

Whatever went wrong (no or an unsupported ``Authorization`` header, malformed credentials, an
unknown API key, a wrong secret, a disabled account, a malformed, expired or forged JWT, an unknown
application), the client gets the same 401 problem: a different answer would tell a prober which
keys and applications exist. The real reason is kept on the exception for the log and for tests.
"""
from __future__ import annotations

from switchboard.domain.errors import Unauthorized

CLIENT_DETAIL = "You did not provide correct credentials."


class AuthenticationFailed(Unauthorized):
    def __init__(self, reason: str) -> None:
        super().__init__(CLIENT_DETAIL)
        self.reason = reason  # for operators and tests only: never sent to the client
