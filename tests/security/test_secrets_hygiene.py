"""Secrets stay secret: not in the stack's logs, not in API answers, and the files holding them are private.

The stack's log is everything ``python -m local_stack`` wrote (the HTTP listener's request lines,
the functions' structured logs, moto's); the simulators' and the sink's JSON Lines logs are checked
too. The banner the stack prints once it is ready shows the demo account's credentials on purpose
(``make run`` is how a developer gets them, as ``.local/stack.json`` is): it is left out of the
search, and every other credential of the demo account must not appear anywhere else.
"""

from __future__ import annotations

import base64
import stat
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from local_stack.simulators.signing import sms_signed_params
from tests.security.bodies import V1_MESSAGES, flat_sms
from tests.security.effects import marker, unique_msisdn, wait_for_provider_id
from tests.security.forgery import bearer, claims_for, load_private_key, rs_token
from tests.security.tenants import Tenant
from tests.support.stack import RunningStack

BANNER_FIRST_LINE = "Switchboard local stack is ready."
BANNER_LAST_LINE = "Ctrl-C stops the stack."
PRIVATE_FILES = ("stack.json", "demo-app.key", "tls/key.pem")
LOG_FILES = ("provider-requests.jsonl", "provider-reports.jsonl", "webhooks.jsonl")


def without_banner(output: str) -> str:
    lines, kept, in_banner = output.splitlines(), [], False
    for line in lines:
        if line.strip() == BANNER_FIRST_LINE:
            in_banner = True
        if not in_banner:
            kept.append(line)
        if line.strip() == BANNER_LAST_LINE:
            in_banner = False
    return "\n".join(kept)


def key_material(pem_path: str) -> list[str]:
    """Lines of base64 from inside a PEM private key: any of them in a log means the key leaked."""
    lines = Path(pem_path).read_text().strip().splitlines()[1:-1]
    return [line for line in lines if len(line) >= 40]


def basic_credentials(tenant: Tenant) -> str:
    return base64.b64encode(f"{tenant.api_key}:{tenant.api_secret}".encode()).decode()


def leaks(text: str, secrets_by_name: dict[str, str]) -> list[str]:
    return [name for name, value in secrets_by_name.items() if value and value in text]


@pytest.fixture(scope="module")
def exercised(stack: RunningStack, victim: Tenant, attacker: Tenant, channels: dict[str, Any]) -> dict[str, str]:
    """Drive every path that handles a secret once; the per-request secrets it used, by name."""
    jwts = {}
    for tenant in (victim, attacker):
        token = rs_token(load_private_key(tenant.private_key_pem()), claims_for(tenant.application_id))
        jwts[f"{tenant.name} jwt"] = token
        response = stack.post(
            V1_MESSAGES, json=flat_sms(tenant.sms_number, unique_msisdn(), marker("hygiene")), headers=bearer(token)
        )
        assert response.status_code == 202, response.text
        response = stack.post(
            V1_MESSAGES, json=flat_sms(tenant.sms_number, unique_msisdn(), marker("hygiene")), auth=tenant.auth
        )
        assert response.status_code == 202, response.text
        wait_for_provider_id(stack, response.json()["message_uuid"])
    assert stack.post(V1_MESSAGES, json={}, auth=(victim.api_key, "not-the-secret")).status_code == 401

    messenger = channels["messenger"]
    handshake = {"hub.mode": "subscribe", "hub.verify_token": messenger["verify_token"], "hub.challenge": "4711"}
    assert stack.get("/webhooks/messenger?" + urlencode(handshake)).text == "4711"

    sms = channels["sms"]
    dlr = {
        "messageId": f"unknown-{uuid.uuid4().hex}", "status": "delivered", "msisdn": "447700900123",
        "to": victim.sms_number,
    }
    signed = sms_signed_params(dlr, sms["signature_secret"], sms["signature_method"], now=time.time())
    assert stack.get("/webhooks/sms/dlr?" + urlencode(signed)).status_code == 200
    return {**jwts, "sms sig in a query string": signed["sig"], "messenger verify token": messenger["verify_token"]}


def long_lived_secrets(victim: Tenant, attacker: Tenant, channels: dict[str, Any]) -> dict[str, str]:
    return {
        "victim api secret": victim.api_secret,
        "victim signature secret": victim.signature_secret,
        "victim basic credentials": basic_credentials(victim),
        "attacker api secret": attacker.api_secret,
        "attacker signature secret": attacker.signature_secret,
        "attacker basic credentials": basic_credentials(attacker),
        "messenger app secret": channels["messenger"]["app_secret"],
        "viber callback secret": channels["viber"]["callback_secret"],
        "sms api secret": channels["sms"]["api_secret"],
        "sms signature secret": channels["sms"]["signature_secret"],
        **{f"page token of {page}": token for page, token in channels["messenger"]["pages"].items()},
        **{f"victim private key line {i}": line for i, line in enumerate(key_material(victim.private_key_path))},
        **{f"attacker private key line {i}": line for i, line in enumerate(key_material(attacker.private_key_path))},
    }


def test_no_credential_or_provider_secret_is_in_any_log(
    stack: RunningStack, victim: Tenant, attacker: Tenant, channels: dict[str, Any], exercised: dict[str, str]
) -> None:
    wanted = long_lived_secrets(victim, attacker, channels)
    wanted |= {name: value for name, value in exercised.items() if name.endswith(" jwt")}

    assert leaks(without_banner(stack.output()), wanted) == []
    for name in LOG_FILES:
        assert leaks((stack.local_dir / name).read_text(encoding="utf-8"), wanted) == [], name


def test_signatures_and_tokens_in_query_strings_are_not_logged(
    stack: RunningStack, exercised: dict[str, str]
) -> None:
    """Item 5: the HTTP listener logs request lines with ``sig`` and ``hub.verify_token`` redacted."""
    query_secrets = {name: value for name, value in exercised.items() if not name.endswith(" jwt")}

    assert leaks(without_banner(stack.output()), query_secrets) == []


def test_the_lookup_shows_no_secret_of_the_webhooks_it_sent(
    stack: RunningStack, victim: Tenant, attacker: Tenant, channels: dict[str, Any], exercised: dict[str, str]
) -> None:
    wanted = long_lived_secrets(victim, attacker, channels)
    signed_webhooks = [r for r in stack.webhooks() if r.get("signature_valid") and isinstance(r.get("body"), dict)]
    message_uuid = next(r["body"]["message_uuid"] for r in signed_webhooks if "message_uuid" in r["body"])
    authorizations = {
        f"webhook authorization {i}": r["headers"].get("Authorization", "") for i, r in enumerate(signed_webhooks)
    }

    response = stack.get(f"/v1/messages/{message_uuid}", auth=victim.auth)

    assert response.status_code == 200, response.text
    assert leaks(response.text, wanted | authorizations) == []


def test_the_state_files_holding_secrets_are_private(stack: RunningStack, attacker: Tenant) -> None:
    modes = {name: stat.S_IMODE((stack.local_dir / name).stat().st_mode) for name in PRIVATE_FILES}
    modes["attacker's private key"] = stat.S_IMODE(Path(attacker.private_key_path).stat().st_mode)

    not_private = {name: oct(mode) for name, mode in modes.items() if mode != 0o600}
    assert not_private == {}
