"""Domain errors. They carry no HTTP knowledge: ``api/problems.py`` maps each one to a response."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InvalidParameter:
    name: str  # dotted path in the request as the client sent it, e.g. "message.content.text"
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


class SwitchboardError(Exception):
    """Base class for errors a client caused or must be told about."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(SwitchboardError):
    """One or more request fields are invalid; ``invalid_parameters`` names every one of them."""

    def __init__(self, invalid_parameters: list[InvalidParameter], detail: str | None = None) -> None:
        self.invalid_parameters = list(invalid_parameters)
        n = len(self.invalid_parameters)
        super().__init__(detail or f"Found errors validating {n} of your submitted parameters.")


class InvalidJson(SwitchboardError):
    pass


class UnsupportedMediaType(SwitchboardError):
    pass


class PayloadTooLarge(SwitchboardError):
    pass


class Unauthorized(SwitchboardError):
    pass


class Forbidden(SwitchboardError):
    pass


class NotFound(SwitchboardError):
    pass


class MethodNotAllowed(SwitchboardError):
    def __init__(self, detail: str, allowed: list[str]) -> None:
        super().__init__(detail)
        self.allowed = allowed


class IdempotencyKeyReused(SwitchboardError):
    """Same Idempotency-Key, different request body."""


class IdempotencyInFlight(SwitchboardError):
    """Same Idempotency-Key while the first request is still being processed."""


class RateLimited(SwitchboardError):
    """The account made more requests in the current window than its rate limit allows."""

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds


class OutsideServiceWindow(SwitchboardError):
    """A free-form WhatsApp message to a customer whose last message is known to be 24 hours old or more."""

    def __init__(self, detail: str, invalid_parameters: list[InvalidParameter]) -> None:
        super().__init__(detail)
        self.invalid_parameters = list(invalid_parameters)


class ProviderCallFailed(SwitchboardError):
    """A provider call the API makes for the customer (a WhatsApp read mark, a media download) failed."""


class ServiceUnavailable(SwitchboardError):
    """A dependency failed after we accepted responsibility (e.g. the enqueue). Answered 503; client may retry."""
