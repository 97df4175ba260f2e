"""Moved to ``switchboard.domain.errors``; this re-export is removed when the restructuring completes."""
from switchboard.domain.errors import (  # noqa: F401
    Forbidden, IdempotencyInFlight, IdempotencyKeyReused, InvalidJson, InvalidParameter, MethodNotAllowed, NotFound,
    PayloadTooLarge, RateLimited, ServiceUnavailable, SwitchboardError, Unauthorized, UnsupportedMediaType, ValidationFailed,
)
