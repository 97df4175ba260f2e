"""The per-account request limit on the send and workflow routes: a fixed one-second window.

``RateLimit`` is the routes' middleware (after ``Authentication``), ``RateLimiter`` the rule,
``DynamoDbRequestCounter`` the counter.

Each counted request makes exactly one DynamoDB write, on the RateLimitTable item
``<api_key>#<epoch second>``::

    UpdateItem  ADD #count :one  SET expires_at = :expires
                ConditionExpression: attribute_not_exists(#count) OR #count < :limit

The first request of a second creates the item; the condition refuses the write once ``limit``
requests were counted in that second, and a refused write is the 429. DynamoDB applies the
condition and the increment atomically, so the limit holds however many Lambda instances serve
the account at once. Keys are never reused (the second is in the key); TTL removes old windows.

A fixed window lets through up to twice the limit across a window boundary (the end of one second
and the start of the next); the limit bounds every whole second, which is what a per-second limit
promises. One counter item takes at most about 1,000 writes a second (DynamoDB's per-partition
limit): when DynamoDB throttles it, the account is far over any limit it could have, so that too is
a 429. Any other failure of the counter lets the request through (logged): the counter protects the
other tenants, it must not take sending down with it.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from switchboard import clock
from switchboard.api.authentication import principal_of
from switchboard.domain.errors import RateLimited
from switchboard.observability import logger, metrics

if TYPE_CHECKING:  # the middleware base module is not needed at run time
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

WINDOW_SECONDS = 1
# How long a window's counter is kept. Only its own second reads it; TTL deletes it some time later.
COUNTER_TTL_SECONDS = 60
# DynamoDB's answers when a key or table is over its throughput: the counter is saturated.
_SATURATED = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException"})


class CounterUnavailable(Exception):
    """The counter could not be reached or answered with an unexpected error."""


class RequestCounter(Protocol):
    def try_count(self, key: str, limit: int, expires_at: int) -> bool:
        """Count one request under ``key`` unless ``limit`` were counted already; False when refused."""
        ...


class DynamoDbRequestCounter:
    """``RequestCounter`` on a DynamoDB table keyed by ``pk`` with TTL on ``expires_at``."""

    def __init__(self, table_name: str, client: Any = None) -> None:
        self.table_name = table_name
        self._client = client

    def try_count(self, key: str, limit: int, expires_at: int) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        from switchboard.adapters import aws_clients

        client = self._client if self._client is not None else aws_clients.client("dynamodb")
        try:
            client.update_item(
                TableName=self.table_name,
                Key={"pk": {"S": key}},
                UpdateExpression="ADD #count :one SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(#count) OR #count < :limit",
                ExpressionAttributeNames={"#count": "count"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":limit": {"N": str(limit)},
                    ":expires": {"N": str(expires_at)},
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException" or code in _SATURATED:
                return False
            raise CounterUnavailable(code or str(exc)) from exc
        except BotoCoreError as exc:
            raise CounterUnavailable(type(exc).__name__) from exc
        return True


class RateLimiter:
    """Counts an account's requests and refuses those over its limit with ``RateLimited``.

    ``account_limit(api_key)`` is the account's own limit, or ``None`` for ``default_limit``.
    """

    def __init__(
        self,
        counter: RequestCounter,
        default_limit: int,
        account_limit: Callable[[str], int | None],
        on_counter_error: Callable[[CounterUnavailable], None] = lambda exc: None,
    ) -> None:
        self._counter = counter
        self._default_limit = default_limit
        self._account_limit = account_limit
        self._on_counter_error = on_counter_error

    def limit_for(self, api_key: str) -> int:
        own = self._account_limit(api_key)
        return self._default_limit if own is None else own

    def check(self, api_key: str) -> None:
        """Count this request for ``api_key``; raises ``RateLimited`` if the account is over its limit."""
        now = clock.now()
        window = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
        limit = self.limit_for(api_key)
        try:
            allowed = self._counter.try_count(f"{api_key}#{window}", limit, window + COUNTER_TTL_SECONDS)
        except CounterUnavailable as exc:
            self._on_counter_error(exc)
            return
        if not allowed:
            retry_after = max(1, math.ceil(window + WINDOW_SECONDS - now))
            raise RateLimited(
                f"This account may make {limit} requests per second; retry after {retry_after} s.", retry_after
            )


def log_counter_unavailable(exc: CounterUnavailable) -> None:
    """The production ``on_counter_error``: the request goes through, and the log says why it was not counted."""
    logger.warning("rate limit counter unavailable; request let through", extra={"error": str(exc)})


class RateLimit:
    """Event-handler middleware after ``Authentication``: counts the request against the caller's account.

    ``limiter()`` is called per request (built on first use). A refusal raises ``RateLimited`` (the
    429 problem) and counts the ``rate_limited`` metric.
    """

    def __init__(self, limiter: Callable[[], RateLimiter]) -> None:
        self._limiter = limiter
        self.__name__ = "rate_limit"  # Powertools names each middleware frame

    def __call__(self, app: APIGatewayHttpResolver, next_middleware: NextMiddleware) -> Response:
        try:
            self._limiter().check(principal_of(app).api_key)
        except RateLimited:
            metrics.add_metric(name="rate_limited", unit="Count", value=1)
            raise
        return next_middleware(app)
