"""Every problem ``type`` is an absolute URL: Nexmo/Vonage's where they had the error, else this API's own
``<API URL>/docs/errors#<id>``, which the API serves and ``docs/errors.md`` documents."""
from __future__ import annotations

import json
import re
from typing import Any

import pytest

from switchboard.domain import errors
from switchboard.http.problem_responses import OWN_PROBLEM_TYPES, problem_for
from switchboard.http.problem_responses import problem_response, request_base_url
from switchboard.domain.message import ApiVersion
from tests.support.lambdas import FakeLambdaContext, ROOT, http_event, load_handler_module

EVERY_ERROR = [
    errors.ValidationFailed([]),
    errors.Unauthorized("no"),
    errors.Forbidden("no"),
    errors.InvalidJson("no"),
    errors.UnsupportedMediaType("no"),
    errors.PayloadTooLarge("too big"),
    errors.NotFound("no"),
    errors.MethodNotAllowed("no", ["GET"]),
    errors.IdempotencyKeyReused("no"),
    errors.IdempotencyInFlight("no"),
    errors.ServiceUnavailable("no"),
    errors.SwitchboardError("anything else"),
]


@pytest.mark.parametrize("exc", EVERY_ERROR, ids=lambda exc: type(exc).__name__)
@pytest.mark.parametrize("version", [ApiVersion.V0_1, ApiVersion.V1])
def test_every_problem_type_is_an_absolute_url(exc: errors.SwitchboardError, version: ApiVersion) -> None:
    response = problem_response(problem_for(exc, version), "https://abc123.execute-api.eu-west-1.amazonaws.com")
    problem_type = json.loads(response.body)["type"]
    assert re.fullmatch(r"https://[^/\s]+/\S*", problem_type), problem_type
    if "/docs/errors#" in problem_type:
        assert problem_type.startswith("https://abc123.execute-api.eu-west-1.amazonaws.com/docs/errors#")
        assert problem_type.rsplit("#", 1)[1] in OWN_PROBLEM_TYPES


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"host": "abc123.execute-api.eu-west-1.amazonaws.com", "x-forwarded-proto": "https"},
         "https://abc123.execute-api.eu-west-1.amazonaws.com"),
        ({"host": "messages.example.com"}, "https://messages.example.com"),  # a custom domain
        ({"host": "127.0.0.1:3100", "x-forwarded-proto": "http"}, "http://127.0.0.1:3100"),  # the local stack
        ({}, "https://fallback.example.com"),
    ],
)
def test_the_base_url_is_the_one_the_client_called(headers: dict[str, str], expected: str) -> None:
    event = {"headers": headers, "requestContext": {"domainName": "fallback.example.com"}}
    assert request_base_url(event) == expected


def call_api(method: str, path: str, headers: dict[str, str] | None = None, raw_body: bytes | None = None) -> Any:
    module = load_handler_module("api")
    return module.handler(http_event(method, path, headers=headers, raw_body=raw_body), FakeLambdaContext())


def test_the_api_serves_a_section_for_each_of_its_own_problem_types(aws) -> None:
    response = call_api("GET", "/docs/errors")

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    for problem_id, kind in OWN_PROBLEM_TYPES.items():
        assert f'<section id="{problem_id}">' in response["body"]
        assert f"HTTP {kind.status} " in response["body"]


def test_an_own_problem_type_resolves_against_the_api_that_answered(aws) -> None:
    import base64

    from switchboard.provisioning import provision_account
    from tests.support.stores import AccountStore

    account = provision_account(AccountStore())
    basic = base64.b64encode(f"{account['api_key']}:{account['api_secret']}".encode()).decode()
    headers = {"host": "127.0.0.1:3100", "x-forwarded-proto": "http", "content-type": "application/json",
               "authorization": f"Basic {basic}"}

    response = call_api("POST", "/v1/messages", headers=headers, raw_body=b"x" * (70 * 1024))

    assert response["statusCode"] == 413
    assert json.loads(response["body"])["type"] == "http://127.0.0.1:3100/docs/errors#payload-too-large"


def test_docs_errors_md_documents_each_own_type_under_its_id() -> None:
    text = (ROOT / "docs" / "errors.md").read_text()
    headings = re.findall(r"^## (\S+)$", text, flags=re.M)
    assert set(OWN_PROBLEM_TYPES) <= set(headings)
    for problem_id in OWN_PROBLEM_TYPES:
        assert f"`<API URL>/docs/errors#{problem_id}`" in text
    assert "`/docs/errors#" not in text.replace("<API URL>/docs/errors#", "")  # no relative type left
