"""Forged and broken credentials: every JWT trick and Basic variant is one 401, and nothing happens.

Each attack is a real send (``POST /v1/messages`` from the victim's own SMS number to a number no
one else uses), so a credential that wrongly passed would show as a record, a provider call or a
webhook. Key URLs in JWT headers (``jku``, ``x5u``) point at the canary, which must never be asked
for anything.
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.security.bodies import V1_MESSAGES, flat_sms
from tests.security.canary import Canary
from tests.security.effects import (
    assert_no_effects,
    assert_problem,
    marker,
    unique_msisdn,
    without_instance,
)
from tests.security.forgery import (
    basic_header,
    bearer,
    claims_for,
    es_token,
    hs_token,
    jwk_of,
    load_private_key,
    new_rsa_key,
    rs_token,
    signing_input,
    token,
    unsigned_token,
)
from tests.security.tenants import Tenant, accounts_table
from tests.support.stack import RunningStack

WWW_AUTHENTICATE = 'Basic realm="switchboard", Bearer'
HOUR = 3600


@dataclass(frozen=True)
class Keys:
    """What a forger can use: the victim's public key as stored, keys of its own, the canary's URLs."""

    victim: Tenant
    attacker: Tenant
    victim_key: Any  # the victim application's private key: only for tokens that must fail on their claims
    attacker_key: Any  # the attacker's own application key (a real key of this deployment)
    foreign_key: Any  # a key no application has
    stored_public_pem: str
    key_url: Callable[[str], str]  # a URL at the canary

    def claims(self, **overrides: Any) -> dict[str, Any]:
        return claims_for(self.victim.application_id, **overrides)


@pytest.fixture(scope="module")
def keys(stack: RunningStack, victim: Tenant, attacker: Tenant, canary: Canary) -> Keys:
    item = stack.boto3_client("dynamodb").get_item(
        TableName=accounts_table(stack), Key={"pk": {"S": f"application#{victim.application_id}"}}
    )["Item"]
    return Keys(
        victim=victim,
        attacker=attacker,
        victim_key=load_private_key(victim.private_key_pem()),
        attacker_key=load_private_key(attacker.private_key_pem()),
        foreign_key=new_rsa_key(),
        stored_public_pem=item["public_key_pem"]["S"],
        key_url=lambda name: canary.url(f"jwt-keys/{name}"),
    )


def _tampered(k: Keys) -> str:
    """A genuine token whose claims were changed after signing (to the attacker's application)."""
    header, _, signature = rs_token(k.victim_key, k.claims()).split(".")
    altered = signing_input({}, k.claims(application_id=k.attacker.application_id)).decode().split(".")[1]
    return f"{header}.{altered}.{signature}"


def _none_with_genuine_signature(k: Keys) -> str:
    claims = k.claims()
    genuine_signature = rs_token(k.victim_key, claims).split(".")[2]
    return f"{signing_input({'alg': 'none', 'typ': 'JWT'}, claims).decode()}.{genuine_signature}"


def _no_alg_with_genuine_signature(k: Keys) -> str:
    claims = k.claims()
    genuine_signature = rs_token(k.victim_key, claims).split(".")[2]
    return f"{signing_input({'typ': 'JWT'}, claims).decode()}.{genuine_signature}"


def _truncated(k: Keys) -> str:
    genuine = rs_token(k.victim_key, k.claims())
    return genuine[:-10]


# Each builds a token for the victim's application (unless it says otherwise) that must be refused.
JWT_ATTACKS: dict[str, Callable[[Keys], str]] = {
    # -- the algorithm
    "alg-none": lambda k: unsigned_token(k.claims()),
    "alg-None": lambda k: unsigned_token(k.claims(), alg="None"),
    "alg-NONE": lambda k: unsigned_token(k.claims(), alg="NONE"),
    "alg-none-with-a-genuine-signature": _none_with_genuine_signature,
    "no-alg-with-a-genuine-signature": _no_alg_with_genuine_signature,
    "hs256-keyed-with-the-stored-public-key": lambda k: hs_token(k.stored_public_pem.encode(), k.claims()),
    "hs256-keyed-with-the-public-key-without-newline": lambda k: hs_token(
        k.stored_public_pem.strip().encode(), k.claims()
    ),
    "hs256-keyed-with-the-public-key-der": lambda k: hs_token(
        base64.b64decode("".join(k.stored_public_pem.strip().splitlines()[1:-1])), k.claims()
    ),
    "hs256-empty-secret": lambda k: hs_token(b"", k.claims()),
    "rs512-with-the-genuine-key": lambda k: rs_token(k.victim_key, k.claims(), alg="RS512"),
    "ps256-with-the-genuine-key": lambda k: rs_token(k.victim_key, k.claims(), alg="PS256"),
    "es256-with-an-own-key": lambda k: es_token(k.claims()),
    # -- the key
    "rs256-foreign-key": lambda k: rs_token(k.foreign_key, k.claims()),
    "rs256-foreign-key-embedded-as-jwk": lambda k: rs_token(k.foreign_key, k.claims(), jwk=jwk_of(k.foreign_key, "x")),
    "rs256-foreign-key-behind-jku": lambda k: rs_token(
        k.foreign_key, k.claims(), jku=k.key_url("jwks.json"), kid="attacker"
    ),
    "rs256-foreign-key-behind-x5u": lambda k: rs_token(k.foreign_key, k.claims(), x5u=k.key_url("cert.pem")),
    "rs256-foreign-key-kid-path-traversal": lambda k: rs_token(k.foreign_key, k.claims(), kid="../../../../dev/null"),
    "rs256-foreign-key-kid-url": lambda k: rs_token(k.foreign_key, k.claims(), kid=k.key_url("kid")),
    "claims-changed-after-signing": _tampered,
    "truncated-signature": _truncated,
    # -- time
    "expired": lambda k: rs_token(k.victim_key, k.claims(iat=int(time.time()) - 2 * HOUR, exp=int(time.time()) - HOUR)),
    "expired-by-default-lifetime": lambda k: rs_token(k.victim_key, k.claims(iat=int(time.time()) - HOUR, exp=None)),
    "iat-in-the-future": lambda k: rs_token(k.victim_key, k.claims(now=time.time() + HOUR)),
    "nbf-in-the-future": lambda k: rs_token(k.victim_key, k.claims(nbf=int(time.time()) + HOUR)),
    "lifetime-over-24-hours": lambda k: rs_token(k.victim_key, k.claims(lifetime=25 * HOUR)),
    "exp-before-iat": lambda k: rs_token(k.victim_key, k.claims(exp=int(time.time()) - 1)),
    "iat-as-text": lambda k: rs_token(k.victim_key, k.claims(iat=str(int(time.time())))),
    # -- the claims
    "no-application-id": lambda k: rs_token(k.victim_key, k.claims(application_id=None)),
    "no-iat": lambda k: rs_token(k.victim_key, k.claims(iat=None)),
    "no-jti": lambda k: rs_token(k.victim_key, k.claims(jti=None)),
    "application-id-not-a-string": lambda k: rs_token(k.victim_key, k.claims(application_id=[k.victim.application_id])),
    "unknown-application": lambda k: rs_token(k.victim_key, k.claims(application_id=str(uuid.uuid4()))),
    # -- another tenant's application
    "victims-application-signed-with-the-attackers-key": lambda k: rs_token(k.attacker_key, k.claims()),
    "attackers-application-signed-with-the-victims-key": lambda k: rs_token(
        k.victim_key, k.claims(application_id=k.attacker.application_id)
    ),
    # -- not a token at all
    "not-a-jwt": lambda k: "not-a-jwt",
    "four-segments": lambda k: rs_token(k.victim_key, k.claims()) + ".e30",
    "empty-segments": lambda k: "..",
    "too-long": lambda k: rs_token(k.victim_key, k.claims(padding="x" * 5000)),
}


def send_as(stack: RunningStack, victim: Tenant, headers: dict[str, str]) -> tuple[requests.Response, list[str]]:
    """A send from the victim's own number with ``headers``; the response and the attack's markers."""
    to, text = unique_msisdn(), marker("forged credentials")
    response = stack.post(V1_MESSAGES, json=flat_sms(victim.sms_number, to, text), headers=headers)
    return response, [to, text]


def assert_unauthorized(response: requests.Response) -> dict[str, Any]:
    problem = assert_problem(response, 401)
    assert response.headers.get("WWW-Authenticate") == WWW_AUTHENTICATE
    return problem


@pytest.mark.parametrize("attack", list(JWT_ATTACKS), ids=list(JWT_ATTACKS))
def test_a_forged_or_invalid_jwt_is_refused_and_sends_nothing(
    stack: RunningStack, victim: Tenant, keys: Keys, canary: Canary, attack: str
) -> None:
    response, markers = send_as(stack, victim, bearer(JWT_ATTACKS[attack](keys)))

    assert_unauthorized(response)
    assert_no_effects(stack, *markers)
    assert canary.requests("jwt-keys") == [], "a key URL from a JWT header was fetched"


def test_jku_x5u_and_kid_headers_on_a_genuine_token_are_never_fetched(
    stack: RunningStack, victim: Tenant, keys: Keys, canary: Canary
) -> None:
    header_urls = {"jku": keys.key_url("genuine/jwks.json"), "x5u": keys.key_url("genuine/cert.pem")}
    genuine = rs_token(keys.victim_key, keys.claims(), kid=keys.key_url("genuine/kid"), **header_urls)

    response = stack.get(f"/v1/messages/{uuid.uuid4()}", headers=bearer(genuine))

    assert_problem(response, 404)  # authenticated: the message simply does not exist
    assert canary.requests("jwt-keys") == []


# -- Basic ----------------------------------------------------------------------------------------


def _raw(header_value: str) -> Callable[[Tenant, Tenant], dict[str, str]]:
    return lambda victim, attacker: {"Authorization": header_value}


def _credentials(build: Callable[[Tenant, Tenant], bytes]) -> Callable[[Tenant, Tenant], dict[str, str]]:
    return lambda victim, attacker: basic_header(build(victim, attacker))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


def _lookalike(secret: str) -> str:
    """The secret with its first letter or digit swapped for its fullwidth form (NFKC folds it back)."""
    return chr(ord(secret[0]) + 0xFEE0) + secret[1:]


BASIC_ATTACKS: dict[str, Callable[[Tenant, Tenant], dict[str, str]]] = {
    "wrong-secret": _credentials(lambda v, a: _utf8(f"{v.api_key}:{v.api_secret[::-1]}")),
    "unknown-key": _credentials(lambda v, a: _utf8(f"{uuid.uuid4().hex[:8]}:{v.api_secret}")),
    "victims-key-with-the-attackers-secret": _credentials(lambda v, a: _utf8(f"{v.api_key}:{a.api_secret}")),
    "attackers-key-with-the-victims-secret": _credentials(lambda v, a: _utf8(f"{a.api_key}:{v.api_secret}")),
    "key-with-a-trailing-space": _credentials(lambda v, a: _utf8(f"{v.api_key} :{v.api_secret}")),
    "empty-secret": _credentials(lambda v, a: _utf8(f"{v.api_key}:")),
    "empty-key": _credentials(lambda v, a: _utf8(f":{v.api_secret}")),
    "only-a-colon": _credentials(lambda v, a: b":"),
    "no-colon": _credentials(lambda v, a: _utf8(f"{v.api_key}{v.api_secret}")),
    "empty-credentials": _raw("Basic "),
    "scheme-only": _raw("Basic"),
    "empty-header": _raw(""),
    "unknown-scheme": _raw("Digest " + base64.b64encode(b"k:s").decode()),
    "malformed-base64": _raw("Basic !!!not-base64!!!"),
    "extra-colon-in-secret": _credentials(lambda v, a: _utf8(f"{v.api_key}:{v.api_secret}:")),
    "extra-field": _credentials(lambda v, a: _utf8(f"{v.api_key}:{v.api_secret}:{v.api_secret}")),
    "double-colon": _credentials(lambda v, a: _utf8(f"{v.api_key}::{v.api_secret}")),
    "secret-with-a-trailing-space": _credentials(lambda v, a: _utf8(f"{v.api_key}:{v.api_secret} ")),
    "nul-after-the-key": _credentials(lambda v, a: _utf8(f"{v.api_key}\0:{v.api_secret}")),
    "unicode-lookalike-secret": _credentials(lambda v, a: _utf8(f"{v.api_key}:{_lookalike(v.api_secret)}")),
    "unicode-key-and-secret": _credentials(lambda v, a: _utf8("clé:sécret✓")),
    "latin-1-bytes": _credentials(lambda v, a: "clé:sécret".encode("latin-1")),
    "too-long": _credentials(lambda v, a: _utf8(f"{v.api_key}:{'x' * 9000}")),
}


@pytest.mark.parametrize("attack", list(BASIC_ATTACKS), ids=list(BASIC_ATTACKS))
def test_wrong_or_malformed_basic_credentials_are_refused_and_send_nothing(
    stack: RunningStack, victim: Tenant, attacker: Tenant, attack: str
) -> None:
    response, markers = send_as(stack, victim, BASIC_ATTACKS[attack](victim, attacker))

    assert_unauthorized(response)
    assert_no_effects(stack, *markers)


# -- one answer for every failure -------------------------------------------------------------------

UNIFORM_JWT_CASES = (
    "alg-none",
    "rs256-foreign-key",
    "unknown-application",
    "attackers-application-signed-with-the-victims-key",
    "expired",
    "no-jti",
    "not-a-jwt",
)
UNIFORM_BASIC_CASES = ("wrong-secret", "unknown-key", "malformed-base64", "empty-secret", "no-colon")


def test_every_authentication_failure_gets_the_same_answer(
    stack: RunningStack, victim: Tenant, attacker: Tenant, keys: Keys
) -> None:
    """Contract 5: nothing in a 401 tells an unknown key or application from a wrong secret or signature."""
    answers = {}
    for name in UNIFORM_JWT_CASES:
        response, _ = send_as(stack, victim, bearer(JWT_ATTACKS[name](keys)))
        answers[f"jwt:{name}"] = without_instance(assert_unauthorized(response))
    for name in UNIFORM_BASIC_CASES:
        response, _ = send_as(stack, victim, BASIC_ATTACKS[name](victim, attacker))
        answers[f"basic:{name}"] = without_instance(assert_unauthorized(response))

    reference = answers["basic:wrong-secret"]
    differing = {name: answer for name, answer in answers.items() if answer != reference}
    assert not differing, f"answers differ from the wrong-secret answer {reference}: {differing}"


def test_a_forged_token_is_refused_also_after_the_genuine_one_was_accepted(
    stack: RunningStack, victim: Tenant, keys: Keys
) -> None:
    """Verified tokens are cached by their hash: a forgery sharing the genuine token's claims is not."""
    claims = keys.claims()
    genuine = rs_token(keys.victim_key, claims)
    accepted = stack.get(f"/v1/messages/{uuid.uuid4()}", headers=bearer(genuine))
    assert_problem(accepted, 404)

    header, payload, _ = genuine.split(".")
    forged = token({"alg": "RS256", "typ": "JWT"}, claims, b"\0" * 256)
    assert forged.split(".")[:2] == [header, payload]
    response, markers = send_as(stack, victim, bearer(forged))

    assert_unauthorized(response)
    assert_no_effects(stack, *markers)
