"""``Idempotency-Key`` support, built on Powertools Idempotency with the template's IdempotencyTable.

The same key from the same account with the same request within 24 hours returns the first
response and sends nothing new; a different request with that key is refused (422); a request
arriving while the first is still being processed is refused with 409. A request that fails
(validation, enqueue failure) stores nothing, so the client can fix it and retry with the same key.

Imported only when a request carries the header: it keeps the Powertools idempotency modules out of
the cold start of ordinary requests.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Callable

from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from switchboard.domain.errors import IdempotencyInFlight, IdempotencyKeyReused, InvalidParameter, ValidationFailed

KEY_RETENTION_SECONDS = 24 * 3600
MAX_KEY_LENGTH = 255

_CONFIG = IdempotencyConfig(
    event_key_jmespath="[api_key, idempotency_key]",
    payload_validation_jmespath="request_hash",
    expires_after_seconds=KEY_RETENTION_SECONDS,
    use_local_cache=False,
)


def request_fingerprint(route: str, body: Any) -> str:
    """What "the same request" means: the same route and the same JSON (key order and spacing ignored)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{route}\n{canonical}".encode()).hexdigest()


def check_key(key: str) -> str:
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ValidationFailed(
            [InvalidParameter("Idempotency-Key", f"must be 1 to {MAX_KEY_LENGTH} printable characters")]
        )
    return key


class IdempotentRequests:
    """Runs an action once per (account, key) on the IdempotencyTable ``table_name``."""

    def __init__(self, table_name: str, client: Any) -> None:
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)

        @idempotent_function(data_keyword_argument="request", config=_CONFIG, persistence_store=persistence)
        def run_once(request: dict, action: Callable[[], dict]) -> dict:
            return action()

        self._run_once = run_once

    def run(
        self, key: str, api_key: str, route: str, body: Any, action: Callable[[], dict], lambda_context: Any = None
    ) -> dict:
        """Run ``action`` once per (account, key); replay its stored result for the same request."""
        if lambda_context is not None:
            _CONFIG.register_lambda_context(lambda_context)
        request = {"api_key": api_key, "idempotency_key": key, "request_hash": request_fingerprint(route, body)}
        try:
            return self._run_once(request=request, action=action)
        except IdempotencyValidationError:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was already used with a different request in the last 24 hours."
            ) from None
        except IdempotencyAlreadyInProgressError:
            raise IdempotencyInFlight(
                "A request with this Idempotency-Key is still being processed; retry shortly."
            ) from None
