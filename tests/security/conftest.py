"""Fixtures of the attack suite: the victim (the demo account), the attacker (an account of its own), a canary.

The stack itself is the session's one local stack (``tests/support/stack.py``), shared with the
integration tests; tenants and the canary are made once per session too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.security.canary import Canary
from tests.security.forgery import channels_secret
from tests.security.tenants import Tenant, demo_tenant, provision_tenant
from tests.support.stack import RunningStack


@pytest.fixture(scope="session")
def victim(stack: RunningStack) -> Tenant:
    """The demo account: it owns the demo page, Viber service, SMS number and sender ID."""
    return demo_tenant(stack)


@pytest.fixture(scope="session")
def attacker(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    """A tenant of the same deployment with credentials, an application and a number of its own."""
    return provision_tenant(stack, "mallory", tmp_path_factory.mktemp("mallory"))


@pytest.fixture(scope="session")
def canary() -> Iterator[Canary]:
    listener = Canary()
    listener.start()
    yield listener
    listener.stop()


@pytest.fixture(scope="session")
def channels(stack: RunningStack) -> dict[str, Any]:
    """The providers' secrets as the stack holds them (a test playing the provider signs with them)."""
    return channels_secret(stack)
