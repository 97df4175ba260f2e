"""Hostile bodies and paths on every route: depth, size, encoding and type. Always a 4xx problem, never a 5xx.

The send and workflow routes are called with the attacker's valid credentials, so the body is all
that stands between the request and a send; the provider webhook routes are called as anyone on the
internet can call them (unsigned), and as a provider with a bug would (signed with the real secret).
Besides the answer, the function that handled the request must have logged no error or traceback,
and a body carrying a marker must leave no record, provider call or webhook behind.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from local_stack.simulators.signing import messenger_signature_headers, viber_signature_headers
from tests.security.bodies import (
    BETA_MESSAGES,
    BETA_WORKFLOWS,
    SEND_ROUTES,
    V0_1_DISPATCH,
    V1_MESSAGES,
    WORKFLOW_ROUTES,
    flat_sms,
    nested_sms,
    workflow,
)
from tests.security.effects import (
    PROVIDER_REFUSAL_STATUS,
    assert_no_effects,
    assert_no_error_logged,
    assert_problem,
    marker,
    unique_msisdn,
)
from tests.security.tenants import Tenant
from tests.support.stack import RunningStack

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
DEEP = 20_000  # far past any parser's recursion limit, still under the API's 64 KiB body limit
DEEP_OBJECT = 10_000  # {"a": ... } levels: 60 KB, under the same limit
JUST_PAST_THE_RECURSION_LIMIT = 990  # Python's json parser gives up near 1000 levels (less the caller's frames)
OVERSIZED_BYTES = 1_100_000  # above the API's body limit (64 KiB) and the webhooks' (1 MiB), below API Gateway's
TOO_DEEP = (400,)  # contract 8: deep JSON is a 400 problem on every route, never a 500
REFUSED_OR_INVALID = (400, PROVIDER_REFUSAL_STATUS)  # an unsigned provider webhook: refused, or malformed


@dataclass(frozen=True)
class Attempt:
    """One hostile request's parts: the route, who sends, and the markers its body carries."""

    route: str
    attacker: Tenant
    text: str
    to: str

    def body(self) -> dict[str, Any]:
        """A valid request of the route from the attacker's own number to ``to``, carrying ``text``."""
        number = self.attacker.sms_number
        if self.route == V1_MESSAGES:
            return flat_sms(number, self.to, self.text)
        if self.route in WORKFLOW_ROUTES:
            return workflow(nested_sms(number, self.to, self.text), nested_sms(number, self.to, self.text))
        return nested_sms(number, self.to, self.text)

    def encoded(self) -> bytes:
        return encoded(self.body())

    def with_text(self, raw: str) -> bytes:
        """The valid request with its text written as the raw JSON ``raw`` instead."""
        return self.encoded().replace(json.dumps(self.text).encode(), raw.encode())

    def around(self, raw_value: str) -> bytes:
        return around(self.text, raw_value)


def encoded(value: Any) -> bytes:
    return json.dumps(value).encode("utf-8")


def around(text: str, raw_value: str) -> bytes:
    """An object with the marker and one more member whose value is ``raw_value`` as written."""
    return f'{{"marker": {json.dumps(text)}, "value": {raw_value}}}'.encode("utf-8")


def nested_levels(opening: str, closing: str, levels: int, inner: str = "") -> str:
    return opening * levels + inner + closing * levels


# name -> (the body and its content type, the statuses a send or workflow route may answer)
SEND_BODIES: dict[str, tuple[Callable[[Attempt], tuple[bytes, str | None]], tuple[int, ...]]] = {
    "deep-array": (lambda a: (a.around(nested_levels("[", "]", DEEP)), JSON), TOO_DEEP),
    "deep-object": (lambda a: (a.around(nested_levels('{"a":', "}", DEEP_OBJECT, "1")), JSON), TOO_DEEP),
    "deep-inside-a-valid-request": (
        lambda a: (a.encoded()[:-1] + b', "extra": ' + nested_levels("[", "]", DEEP).encode() + b"}", JSON),
        TOO_DEEP,
    ),
    "just-past-the-recursion-limit": (
        lambda a: (a.around(nested_levels("[", "]", JUST_PAST_THE_RECURSION_LIMIT)), JSON),
        (400, 422),
    ),
    "oversized": (lambda a: (encoded({**a.body(), "pad": "x" * OVERSIZED_BYTES}), JSON), (400, 413)),
    "invalid-utf-8": (lambda a: (a.encoded().replace(b'"to"', b'"\xff\xfe"'), JSON), (400,)),
    "utf-16": (lambda a: (json.dumps(a.body()).encode("utf-16"), JSON), (400,)),
    "byte-order-mark": (lambda a: (b"\xef\xbb\xbf" + a.encoded(), JSON), (400,)),
    "nan-literal": (lambda a: (a.with_text("NaN"), JSON), (400,)),
    "infinity-literal": (lambda a: (a.with_text("-Infinity"), JSON), (400,)),
    "huge-integer": (lambda a: (a.with_text("9" * 5000), JSON), (400,)),
    "float-overflow": (lambda a: (a.with_text("1e999"), JSON), (400, 422)),
    "lone-surrogate": (lambda a: (a.with_text(json.dumps(a.text)[:-1] + '\\ud800"'), JSON), (400, 422)),
    "text-of-60-kib": (lambda a: (a.with_text(json.dumps(a.text + "x" * 60_000)), JSON), (400, 413, 422)),
    "top-level-array": (lambda a: (encoded([a.body()]), JSON), (400, 422)),
    "top-level-string": (lambda a: (encoded(a.text), JSON), (400, 422)),
    "top-level-number": (lambda a: (b"42", JSON), (400, 422)),
    "top-level-null": (lambda a: (b"null", JSON), (400, 422)),
    "wrong-types": (
        lambda a: (
            encoded({"from": 1, "to": [a.to], "channel": True, "text": {}, "message": 3, "workflow": "x",
                     "template": 5, "client_ref": a.text}),
            JSON,
        ),
        (400, 422),
    ),
    "truncated": (lambda a: (a.encoded()[:-3], JSON), (400,)),
    "empty": (lambda a: (b"", JSON), (400,)),
    "whitespace": (lambda a: (b" \r\n\t ", JSON), (400,)),
    "form-encoded": (lambda a: (f"text={a.text}&from={a.attacker.sms_number}&to={a.to}".encode(), FORM), (415,)),
    "no-content-type": (lambda a: (a.encoded(), None), (415,)),
}

AUTHENTICATED_ROUTES = (*SEND_ROUTES, *WORKFLOW_ROUTES)


def post_raw(stack: RunningStack, path: str, body: bytes, content_type: str | None, **kwargs: Any) -> requests.Response:
    headers = dict(kwargs.pop("headers", {}))
    if content_type is not None:
        headers["Content-Type"] = content_type
    return stack.request("POST", path, data=body, headers=headers, **kwargs)


@pytest.mark.parametrize("kind", list(SEND_BODIES))
@pytest.mark.parametrize("route", AUTHENTICATED_ROUTES)
def test_a_hostile_body_on_a_send_or_workflow_route_is_a_4xx_problem_and_sends_nothing(
    stack: RunningStack, attacker: Tenant, route: str, kind: str
) -> None:
    build, statuses = SEND_BODIES[kind]
    attempt = Attempt(route, attacker, marker(f"bad input {kind}"), unique_msisdn())
    body, content_type = build(attempt)

    response = post_raw(stack, route, body, content_type, auth=attacker.auth)

    assert_problem(response, *statuses)
    assert_no_error_logged(stack, response)
    assert_no_effects(stack, attempt.text, attempt.to)


# -- provider webhook routes ----------------------------------------------------------------------

WEBHOOK_ROUTES = ("/webhooks/messenger", "/webhooks/viber", "/webhooks/sms/dlr", "/webhooks/sms/inbound")
SIGNING_ROUTES = ("/webhooks/messenger", "/webhooks/viber")  # the providers that sign the raw body

WEBHOOK_BODIES: dict[str, tuple[Callable[[str], tuple[bytes, str | None]], tuple[int, ...]]] = {
    # name -> (build(marker text), the statuses the body may get when the provider signed it)
    "deep-array": (lambda t: (around(t, nested_levels("[", "]", DEEP)), JSON), TOO_DEEP),
    "deep-object": (lambda t: (around(t, nested_levels('{"a":', "}", DEEP_OBJECT, "1")), JSON), TOO_DEEP),
    "just-past-the-recursion-limit": (
        lambda t: (around(t, nested_levels("[", "]", JUST_PAST_THE_RECURSION_LIMIT)), JSON),
        (400,),
    ),
    "oversized": (lambda t: (encoded({"marker": t, "pad": "x" * OVERSIZED_BYTES}), JSON), (413,)),
    "invalid-utf-8": (lambda t: (around(t, '"\xff"').replace(b"\xc3\xbf", b"\xff"), JSON), (400,)),
    "nan-literal": (lambda t: (around(t, "NaN"), JSON), (400,)),
    "huge-integer": (lambda t: (around(t, "9" * 5000), JSON), (400,)),
    "top-level-array": (lambda t: (encoded([t]), JSON), (400,)),
    "wrong-types": (
        lambda t: (
            encoded({"object": "page", "entry": t, "message_token": [t], "message_status": {}, "msisdn": [t]}),
            JSON,
        ),
        (400,),
    ),
    "form-with-a-repeated-parameter": (lambda t: (f"text={t}&text=again&msisdn=1".encode(), FORM), (400,)),
    "form-invalid-utf-8": (lambda t: (b"text=" + t.encode() + b"%FF%FE&msisdn=\xff", FORM), (400,)),
    "truncated": (lambda t: (around(t, "1")[:-2], JSON), (400,)),
}


def signature_headers(stack_channels: dict[str, Any], route: str, body: bytes) -> dict[str, str]:
    if route == "/webhooks/messenger":
        return messenger_signature_headers(body, stack_channels["messenger"]["app_secret"])
    return viber_signature_headers(body, stack_channels["viber"]["callback_secret"])


@pytest.mark.parametrize("kind", list(WEBHOOK_BODIES))
@pytest.mark.parametrize("route", WEBHOOK_ROUTES)
def test_a_hostile_unsigned_body_on_a_provider_webhook_route_is_a_4xx_problem(
    stack: RunningStack, route: str, kind: str
) -> None:
    build, _ = WEBHOOK_BODIES[kind]
    text = marker(f"bad webhook {kind}")
    body, content_type = build(text)

    response = post_raw(stack, route, body, content_type)

    if kind == "oversized":
        allowed: tuple[int, ...] = (413,)  # the size is checked before anything else
    elif route in SIGNING_ROUTES:
        allowed = (PROVIDER_REFUSAL_STATUS,)  # the signature of the raw body is checked before it is parsed
    else:
        allowed = REFUSED_OR_INVALID  # the SMS API signs the parameters: they are parsed (boundedly) first
    assert_problem(response, *allowed)
    assert_no_error_logged(stack, response)
    assert_no_effects(stack, text)


@pytest.mark.parametrize("kind", [k for k in WEBHOOK_BODIES if not k.startswith("form")])
@pytest.mark.parametrize("route", SIGNING_ROUTES)
def test_a_hostile_body_signed_by_the_provider_is_a_4xx_problem(
    stack: RunningStack, channels: dict[str, Any], route: str, kind: str
) -> None:
    """A provider's own bad body (correct signature) is still only a 400, never a 500 the provider retries."""
    build, statuses = WEBHOOK_BODIES[kind]
    text = marker(f"bad signed webhook {kind}")
    body, content_type = build(text)

    response = post_raw(stack, route, body, content_type, headers=signature_headers(channels, route, body))

    assert_problem(response, *statuses)
    assert_no_error_logged(stack, response)
    assert_no_effects(stack, text)


# -- paths and query strings ----------------------------------------------------------------------

LOOKUP_ROUTES = (
    "/v1/messages/", "/v0.1/messages/", "/beta/workflows/", "/v0.1/workflows/", "/v0.1/dispatch/", "/v1/workflows/"
)
HOSTILE_IDS = {
    "very-long": "a" * 5000,
    "nul": "%00",
    "invalid-utf-8": "%FF%FE",
    "unicode": "%C3%BC%E2%9C%93",
    "encoded-traversal": "..%2F..%2Fhealth",
    "encoded-slash-in-uuid": "00000000-0000-0000-0000%2F000000000000",
    "quote-and-sql": "1'%20OR%20'1'%3D'1",
    "json": "%7B%22a%22%3A1%7D",
    "nil-uuid": "00000000-0000-0000-0000-000000000000",
}


@pytest.mark.parametrize("identifier", list(HOSTILE_IDS))
@pytest.mark.parametrize("route", LOOKUP_ROUTES)
def test_a_hostile_id_in_a_lookup_path_is_a_4xx_problem(
    stack: RunningStack, attacker: Tenant, route: str, identifier: str
) -> None:
    response = stack.get(route + HOSTILE_IDS[identifier], auth=attacker.auth)

    assert_problem(response, 400, 404)
    assert_no_error_logged(stack, response)


HOSTILE_QUERIES = {
    "messenger-handshake-wrong-token-with-markup": (
        "/webhooks/messenger",
        "hub.mode=subscribe&hub.verify_token=guess&hub.challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    ),
    "messenger-handshake-no-token": ("/webhooks/messenger", "hub.mode=subscribe&hub.challenge=123"),
    "messenger-handshake-repeated-token": (
        "/webhooks/messenger",
        "hub.mode=subscribe&hub.verify_token=a&hub.verify_token=b&hub.challenge=1",
    ),
    "sms-dlr-invalid-utf-8": ("/webhooks/sms/dlr", "messageId=%FF%FE&status=delivered"),
    "sms-dlr-repeated-parameter": ("/webhooks/sms/dlr", "messageId=1&messageId=2&status=delivered"),
    "sms-inbound-unsigned": ("/webhooks/sms/inbound", "msisdn=447700900123&to=447700900001&messageId=X&text=hi"),
}


@pytest.mark.parametrize("case", list(HOSTILE_QUERIES))
def test_a_hostile_query_string_on_a_provider_webhook_route_is_refused(stack: RunningStack, case: str) -> None:
    path, query = HOSTILE_QUERIES[case]

    response = stack.get(f"{path}?{query}")

    problem = assert_problem(response, *REFUSED_OR_INVALID)
    assert "<script>" not in response.text, problem
    assert_no_error_logged(stack, response)


@pytest.mark.parametrize("route", [BETA_MESSAGES, V0_1_DISPATCH, BETA_WORKFLOWS])
def test_an_unauthenticated_hostile_body_is_refused_before_it_is_read(stack: RunningStack, route: str) -> None:
    text = marker("unauthenticated deep")
    response = post_raw(stack, route, around(text, nested_levels("[", "]", DEEP)), JSON)

    assert_problem(response, 401)
    assert_no_error_logged(stack, response)
    assert_no_effects(stack, text)
