"""Every authentication failure gets the same 401 problem+json through the real API handler."""
from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from switchboard.provisioning import generate_jwt, provision_account, provision_application
from tests.support.stores import AccountStore
from tests.support.api_client import Api
from tests.support.lambdas import FakeLambdaContext, basic_auth, http_event
from tests.support.request_bodies import SMS_V1


@pytest.fixture
def api(aws: Any, tmp_path: Path) -> Api:
    return Api(aws, tmp_path)


def foreign_private_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def refusals(api: Api, tmp_path: Path) -> dict[str, str | None]:
    """One Authorization header (or none) per kind of authentication failure."""
    store = AccountStore()
    disabled = provision_account(store)
    disabled_app = provision_application(store, disabled["api_key"], "off", private_key_out=tmp_path / "off.key")
    store.set_disabled(disabled["api_key"], True)
    application_id = api.app["application_id"]
    return {
        "no header": None,
        "unsupported scheme": "Token abc",
        "malformed basic": "Basic !!!",
        "unknown api key": basic_auth("deadbeef", api.account["api_secret"]),
        "wrong secret": basic_auth(api.account["api_key"], "wrong-secret-123"),
        "disabled account, basic": basic_auth(disabled["api_key"], disabled["api_secret"]),
        "malformed jwt": "Bearer x.y.z",
        "unknown application": "Bearer " + generate_jwt(str(uuid.uuid4()), api.private_key),
        "foreign key": "Bearer " + generate_jwt(application_id, foreign_private_key()),
        "expired jwt": "Bearer " + generate_jwt(application_id, api.private_key, ttl_seconds=60, now=1_000_000_000),
        "alg none": "Bearer " + jwt.encode({"application_id": application_id, "iat": 1, "jti": "j"}, None, algorithm="none"),
        "missing application_id": "Bearer " + jwt.encode(
            {"iat": 1, "jti": "j"}, serialization.load_pem_private_key(api.private_key.encode(), None), algorithm="RS256"
        ),
        "disabled account, jwt": "Bearer " + generate_jwt(
            disabled_app["application_id"], Path(disabled_app["private_key_path"]).read_text()
        ),
    }


def test_every_authentication_failure_gets_the_same_401_body_and_headers(api: Api, tmp_path: Path) -> None:
    answers = {}
    for kind, authorization in refusals(api, tmp_path).items():
        headers = {"content-type": "application/json"}
        if authorization is not None:
            headers["authorization"] = authorization
        response = api.module.handler(http_event("POST", "/v1/messages", SMS_V1, headers), FakeLambdaContext())
        body = json.loads(response["body"])
        response_headers = {k.lower(): v for k, v in response["headers"].items()}
        assert body.pop("instance") == response_headers.pop("x-nexmo-trace-id")
        answers[kind] = (response["statusCode"], body, response_headers)

    first = next(iter(answers.values()))
    assert first[0] == 401
    assert first[1] == {
        "type": "https://developer.nexmo.com/api-errors#unauthorized",
        "title": "Unauthorized",
        "detail": "You did not provide correct credentials.",
    }
    assert first[2]["content-type"] == "application/problem+json"
    assert {kind: answer for kind, answer in answers.items() if answer != first} == {}
    assert api.queued() == []


def test_lookups_refuse_a_disabled_account_with_the_same_401(api: Api, tmp_path: Path) -> None:
    status, _, sent = api.call("POST", "/v1/messages", SMS_V1)
    assert status == 202
    AccountStore().set_disabled(api.account["api_key"], True)
    from tests.support.wiring import forget_wired_functions

    forget_wired_functions()  # a cold function: the account record is read afresh

    status, _, body = api.call("GET", f"/v1/messages/{sent['message_uuid']}")

    assert status == 401
    assert body["detail"] == "You did not provide correct credentials."
