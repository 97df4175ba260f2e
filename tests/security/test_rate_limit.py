"""One tenant flooding the API: it is slowed down with 429s, and nobody else is (contract 3).

The flooding tenant's own limit is 1 request per second, so a burst of requests sent one after the
other is over it whatever the machine's speed; the demo account and the provider webhooks, which
never count against any account, must go on being served.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.security.bodies import V0_1_DISPATCH, V1_MESSAGES, flat_sms, nested_sms, workflow
from tests.security.effects import assert_no_effects, assert_problem, marker, record, unique_msisdn
from tests.security.tenants import Tenant, provision_tenant
from tests.support.stack import RunningStack

BURST = 10
TOO_MANY_REQUESTS = "Too Many Requests"


@pytest.fixture(scope="module")
def flooder(stack: RunningStack, tmp_path_factory: pytest.TempPathFactory) -> Tenant:
    return provision_tenant(stack, "flooder", tmp_path_factory.mktemp("flooder"), rate_limit_per_second=1)


def send_body(route: str, tenant: Tenant, to: str, text: str) -> dict[str, Any]:
    if route == V1_MESSAGES:
        return flat_sms(tenant.sms_number, to, text)
    return workflow(nested_sms(tenant.sms_number, to, text), nested_sms(tenant.sms_number, unique_msisdn(), text))


def assert_too_many_requests(response: requests.Response) -> None:
    problem = assert_problem(response, 429)
    assert problem["title"] == TOO_MANY_REQUESTS
    assert str(problem["type"]).startswith(("https://", "http://")), problem
    retry_after = response.headers.get("Retry-After", "")
    assert retry_after.isdigit() and int(retry_after) >= 1, response.headers


@pytest.mark.parametrize("route", [V1_MESSAGES, V0_1_DISPATCH])
def test_a_tenant_over_its_limit_gets_429_and_nothing_is_sent_for_those_requests(
    stack: RunningStack, victim: Tenant, flooder: Tenant, route: str
) -> None:
    sent = []
    for _ in range(BURST):
        to, text = unique_msisdn(), marker("flood")
        sent.append((stack.post(route, json=send_body(route, flooder, to, text), auth=flooder.auth), to, text))
    # The victim, right after the burst, in the same second.
    not_starved = flat_sms(victim.sms_number, unique_msisdn(), marker("not starved"))
    victims = stack.post(V1_MESSAGES, json=not_starved, auth=victim.auth)

    throttled = [(response, to, text) for response, to, text in sent if response.status_code == 429]
    assert throttled, [response.status_code for response, _, _ in sent]
    for response, to, text in throttled:
        assert_too_many_requests(response)
        assert_no_effects(stack, to, text)
    for response, _, _ in sent:
        assert response.status_code in (202, 429), response.text
    assert victims.status_code == 202, victims.text
    assert record(stack, victims.json()["message_uuid"])["api_key"] == victim.api_key
