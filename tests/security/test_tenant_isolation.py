"""One tenant against another: reading the victim's messages and workflows, sending as the victim, its keys.

The attacker holds valid credentials of its own (Basic, and a JWT of its own application) and a
number linked to it; the victim is the demo account, which owns the demo page, Viber service, SMS
number and the ``Acme`` sender ID.
"""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.security.bodies import (
    BETA_MESSAGES,
    BETA_WORKFLOWS,
    V0_1_DISPATCH,
    V0_1_MESSAGES,
    V1_MESSAGES,
    flat_messenger,
    flat_sms,
    flat_viber,
    nested_messenger,
    nested_sms,
    nested_viber,
    v1_failover,
    workflow,
)
from tests.security.effects import (
    assert_no_effects,
    assert_problem,
    invalid_parameter_names,
    marker,
    record,
    unique_msisdn,
    unique_psid,
    webhooks_mentioning,
    without_instance,
)
from tests.security.forgery import bearer, claims_for, load_private_key, rs_token
from tests.security.tenants import Tenant
from tests.support.stack import RunningStack

UNCONFIGURED_PAGE_ID = "990000000000001"
UNCONFIGURED_VIBER_SERVICE_ID = "99001"
UNCONFIGURED_SENDER_ID = "NotOurs"
VICTIM_STATUS_PATH = "/webhooks/status"


def jwt_of(tenant: Tenant) -> dict[str, str]:
    """A fresh, genuine JWT of the tenant's own application."""
    return bearer(rs_token(load_private_key(tenant.private_key_pem()), claims_for(tenant.application_id)))


def accepted(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 202, response.text
    return response.json()


@dataclass(frozen=True)
class VictimData:
    message_uuid: str
    message_to: str
    dispatch_uuid: str
    workflow_uuid: str


@pytest.fixture(scope="module")
def victim_data(stack: RunningStack, victim: Tenant) -> VictimData:
    """A message, a v0.1 dispatch and a beta workflow of the victim (recipients that get no reports)."""
    to = unique_msisdn()
    sent = stack.post(V1_MESSAGES, json=flat_sms(victim.sms_number, to, marker("victim")), auth=victim.auth)
    message = accepted(sent)
    first = nested_messenger(str(victim.page_id), unique_psid(), marker("victim workflow"))
    last = nested_sms(victim.sms_number, unique_msisdn(), marker("victim workflow fallback"))
    dispatch = accepted(stack.post(V0_1_DISPATCH, json=workflow(first, last), auth=victim.auth))
    beta = accepted(stack.post(BETA_WORKFLOWS, json=workflow(first, last), auth=victim.auth))
    return VictimData(message["message_uuid"], to, dispatch["dispatch_uuid"], beta["workflow_uuid"])


def attacker_credentials(attacker: Tenant, how: str) -> dict[str, Any]:
    return {"auth": attacker.auth} if how == "basic" else {"headers": jwt_of(attacker)}


def comparable_not_found(problem: dict[str, Any], identifier: str) -> dict[str, Any]:
    """A 404 problem without what differs by request: ``instance`` and the id it names."""
    comparable = without_instance(problem)
    comparable["detail"] = str(comparable.get("detail", "")).replace(identifier, "<id>")
    return comparable


# -- reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["basic", "jwt"])
@pytest.mark.parametrize("version", ["v1", "v0.1"])
def test_another_tenants_message_is_not_found_exactly_like_a_missing_one(
    stack: RunningStack, victim: Tenant, attacker: Tenant, victim_data: VictimData, version: str, how: str
) -> None:
    victims = victim_data.message_uuid
    control = stack.get(f"/{version}/messages/{victims}", auth=victim.auth)
    assert control.status_code == 200, control.text

    credentials = attacker_credentials(attacker, how)
    probes = {each: stack.get(f"/{version}/messages/{each}", **credentials) for each in (victims, victims.upper())}
    missing = str(uuid.uuid4())
    unknown = stack.get(f"/{version}/messages/{missing}", **credentials)

    reference = comparable_not_found(assert_problem(unknown, 404), missing)
    for identifier, response in probes.items():
        assert comparable_not_found(assert_problem(response, 404), identifier) == reference
        assert victim_data.message_to not in response.text


WORKFLOW_LOOKUPS = ["/beta/workflows/{id}", "/v0.1/workflows/{id}", "/v0.1/dispatch/{id}", "/v1/workflows/{id}"]


@pytest.mark.parametrize("how", ["basic", "jwt"])
@pytest.mark.parametrize("route", WORKFLOW_LOOKUPS)
def test_another_tenants_workflow_is_not_found_exactly_like_a_missing_one(
    stack: RunningStack, victim: Tenant, attacker: Tenant, victim_data: VictimData, route: str, how: str
) -> None:
    assert stack.get(f"/v0.1/dispatch/{victim_data.dispatch_uuid}", auth=victim.auth).status_code == 200
    assert stack.get(f"/beta/workflows/{victim_data.workflow_uuid}", auth=victim.auth).status_code == 200

    credentials = attacker_credentials(attacker, how)
    missing = str(uuid.uuid4())
    reference = comparable_not_found(assert_problem(stack.get(route.format(id=missing), **credentials), 404), missing)
    for victims in (victim_data.dispatch_uuid, victim_data.workflow_uuid):
        response = stack.get(route.format(id=victims), **credentials)
        assert comparable_not_found(assert_problem(response, 404), victims) == reference


def test_the_victims_status_webhooks_never_reach_the_attacker(
    stack: RunningStack, attacker: Tenant, victim_data: VictimData
) -> None:
    victims = victim_data.message_uuid
    stack.wait_for(
        lambda: [r for r in webhooks_mentioning(stack, victims) if r["path"] == VICTIM_STATUS_PATH],
        timeout=60,
        what=f"the victim's status webhook of {victims}",
    )
    leaked = [r for r in webhooks_mentioning(stack, victims) if r["path"].startswith(f"/tenants/{attacker.name}/")]
    assert leaked == []


# -- sending as the victim ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SenderAttack:
    """A send or workflow from one of the victim's senders: ``field`` is the invalid parameter to be named."""

    route: str
    build: Callable[[Tenant, Tenant, list[str]], dict[str, Any]]  # (victim, attacker, markers) -> body
    field: str

    @property
    def status(self) -> int:
        return 422 if self.route == V1_MESSAGES else 400


def _to(markers: list[str], recipient: str) -> str:
    markers.append(recipient)
    return recipient


def _text(markers: list[str], label: str) -> str:
    text = marker(label)
    markers.append(text)
    return text


SENDER_ATTACKS: dict[str, SenderAttack] = {
    "v1-sms-victims-number": SenderAttack(
        V1_MESSAGES, lambda v, a, m: flat_sms(v.sms_number, _to(m, unique_msisdn()), _text(m, "as victim")), "from"
    ),
    "v1-sms-victims-sender-id": SenderAttack(
        V1_MESSAGES, lambda v, a, m: flat_sms(str(v.sender_id), _to(m, unique_msisdn()), _text(m, "as victim")), "from"
    ),
    "beta-sms-victims-number": SenderAttack(
        BETA_MESSAGES,
        lambda v, a, m: nested_sms(v.sms_number, _to(m, unique_msisdn()), _text(m, "as victim")),
        "from.number",
    ),
    "v0.1-sms-victims-sender-id": SenderAttack(
        V0_1_MESSAGES,
        lambda v, a, m: nested_sms(str(v.sender_id), _to(m, unique_msisdn()), _text(m, "as victim")),
        "from.number",
    ),
    "v1-messenger-victims-page": SenderAttack(
        V1_MESSAGES,
        lambda v, a, m: flat_messenger(str(v.page_id), _to(m, unique_psid()), _text(m, "as victim")),
        "from",
    ),
    "v0.1-messenger-victims-page": SenderAttack(
        V0_1_MESSAGES,
        lambda v, a, m: nested_messenger(str(v.page_id), _to(m, unique_psid()), _text(m, "as victim")),
        "from.id",
    ),
    "v1-viber-victims-service": SenderAttack(
        V1_MESSAGES,
        lambda v, a, m: flat_viber(str(v.viber_service_id), _to(m, unique_msisdn()), _text(m, "as victim")),
        "from",
    ),
    "beta-viber-victims-service": SenderAttack(
        BETA_MESSAGES,
        lambda v, a, m: nested_viber(str(v.viber_service_id), _to(m, unique_msisdn()), _text(m, "as victim")),
        "from.id",
    ),
    "beta-workflow-second-step-from-victims-service": SenderAttack(
        BETA_WORKFLOWS,
        lambda v, a, m: workflow(
            nested_sms(a.sms_number, _to(m, unique_msisdn()), _text(m, "own step")),
            nested_viber(str(v.viber_service_id), _to(m, unique_msisdn()), _text(m, "as victim")),
        ),
        "workflow[1].from.id",
    ),
    "v0.1-dispatch-first-step-from-victims-page": SenderAttack(
        V0_1_DISPATCH,
        lambda v, a, m: workflow(
            nested_messenger(str(v.page_id), _to(m, unique_psid()), _text(m, "as victim")),
            nested_sms(a.sms_number, _to(m, unique_msisdn()), _text(m, "own step")),
        ),
        "workflow[0].from.id",
    ),
    "v1-failover-step-from-victims-number": SenderAttack(
        V1_MESSAGES,
        lambda v, a, m: v1_failover(
            flat_sms(a.sms_number, _to(m, unique_msisdn()), _text(m, "own step")),
            flat_sms(v.sms_number, _to(m, unique_msisdn()), _text(m, "as victim")),
        ),
        "failover[0].from",
    ),
}


@pytest.mark.parametrize("attack", list(SENDER_ATTACKS), ids=list(SENDER_ATTACKS))
def test_sending_from_another_tenants_sender_is_refused_and_sends_nothing(
    stack: RunningStack, victim: Tenant, attacker: Tenant, attack: str
) -> None:
    """Contract 1: the answer names ``from`` (in the step's path), and the victim's sender is never used."""
    case = SENDER_ATTACKS[attack]
    markers: list[str] = []
    body = case.build(victim, attacker, markers)

    response = stack.post(case.route, json=body, auth=attacker.auth)

    problem = assert_problem(response, case.status)
    assert invalid_parameter_names(problem) == [case.field]
    assert_no_effects(stack, *markers)


def test_the_attacker_may_send_from_its_own_number(stack: RunningStack, attacker: Tenant) -> None:
    to = unique_msisdn()
    response = stack.post(V1_MESSAGES, json=flat_sms(attacker.sms_number, to, marker("own")), auth=attacker.auth)
    message_uuid = accepted(response)["message_uuid"]
    assert record(stack, message_uuid)["api_key"] == attacker.api_key


@dataclass(frozen=True)
class RefusedSenderPair:
    route: str
    build: Callable[[str, str, str], dict[str, Any]]  # (sender, to, text) -> body
    victims: Callable[[Tenant], str]
    unconfigured: str
    recipient: Callable[[], str]


REFUSED_SENDER_PAIRS: dict[str, RefusedSenderPair] = {
    "v1-messenger-page": RefusedSenderPair(
        V1_MESSAGES, flat_messenger, lambda v: str(v.page_id), UNCONFIGURED_PAGE_ID, unique_psid
    ),
    "v0.1-viber-service": RefusedSenderPair(
        V0_1_MESSAGES, nested_viber, lambda v: str(v.viber_service_id), UNCONFIGURED_VIBER_SERVICE_ID, unique_msisdn
    ),
    "v1-sms-number": RefusedSenderPair(V1_MESSAGES, flat_sms, lambda v: v.sms_number, "447700999999", unique_msisdn),
    "v1-sms-sender-id": RefusedSenderPair(
        V1_MESSAGES, flat_sms, lambda v: str(v.sender_id), UNCONFIGURED_SENDER_ID, unique_msisdn
    ),
}


@pytest.mark.parametrize("pair", list(REFUSED_SENDER_PAIRS), ids=list(REFUSED_SENDER_PAIRS))
def test_a_refused_sender_gets_one_answer_whether_unconfigured_or_another_tenants(
    stack: RunningStack, victim: Tenant, attacker: Tenant, pair: str
) -> None:
    """Contract 1: no tenant learns from the answer which senders another tenant has."""
    case = REFUSED_SENDER_PAIRS[pair]
    answers = []
    markers = []
    for sender in (case.victims(victim), case.unconfigured):
        to, text = case.recipient(), marker("probe sender")
        markers += [to, text]
        response = stack.post(case.route, json=case.build(sender, to, text), auth=attacker.auth)
        problem = without_instance(assert_problem(response, 422 if case.route == V1_MESSAGES else 400))
        answers.append(re.sub(re.escape(sender), "<sender>", repr(problem)))

    assert answers[0] == answers[1]
    assert_no_effects(stack, *markers)


# -- idempotency keys -----------------------------------------------------------------------------


def test_an_idempotency_key_belongs_to_one_tenant(stack: RunningStack, victim: Tenant, attacker: Tenant) -> None:
    key = f"shared-key-{secrets.token_hex(6)}"
    victim_body = flat_sms(victim.sms_number, unique_msisdn(), marker("victim idempotent"))
    attacker_body = flat_sms(attacker.sms_number, unique_msisdn(), marker("attacker idempotent"))
    header = {"Idempotency-Key": key}

    victims = accepted(stack.post(V1_MESSAGES, json=victim_body, auth=victim.auth, headers=header))["message_uuid"]
    first = stack.post(V1_MESSAGES, json=attacker_body, auth=attacker.auth, headers=header)
    again = stack.post(V1_MESSAGES, json=attacker_body, auth=attacker.auth, headers=header)
    victims_again = stack.post(V1_MESSAGES, json=victim_body, auth=victim.auth, headers=header)

    attackers = accepted(first)["message_uuid"]
    assert attackers != victims
    assert accepted(again)["message_uuid"] == attackers  # the key works, within the attacker's account
    assert accepted(victims_again)["message_uuid"] == victims
    assert record(stack, attackers)["api_key"] == attacker.api_key
    assert record(stack, victims)["api_key"] == victim.api_key
    assert_problem(stack.get(f"/v1/messages/{victims}", auth=attacker.auth), 404)
