"""boto3 clients, created once per process (module-level reuse across warm invocations).

``AWS_ENDPOINT_URL`` (honoured by botocore itself) points them at the local stack's moto server.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

# botocore's standard mode retries throttling and transient errors before an error reaches us.
# Client-side parameter validation is off: it walks every request against the service model, about
# an eighth of an UpdateItem's CPU time in the client, for requests our stores build the same way
# every time; the service still validates them (a malformed one fails as a ClientError instead).
_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5, parameter_validation=False
)


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


def reset_clients() -> None:
    """Tests: forget cached clients (e.g. after ``mock_aws`` starts)."""
    client.cache_clear()


class DeferredClient:
    """Stands for ``client(service)`` and looks it up at every use.

    For stores built before ``reset_clients`` runs (a test's ``mock_aws``, the local stack's
    reload) that must follow it; a function's composition passes the client itself.
    """

    def __init__(self, service: str) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(client(self._service), name)
