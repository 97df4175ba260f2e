"""The webhook sink answers 200 to anything, records it, and checks Vonage-style signatures."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
import requests

from local_stack.sink import WebhookSink

SECRET = "sink-test-signature-secret-0123456789abcdef"
OLD_SECRET = "sink-test-previous-secret-0123456789abcdef"


@pytest.fixture
def secrets_in_use() -> list[str]:
    return [SECRET]


@pytest.fixture
def sink(tmp_path, secrets_in_use: list[str]) -> Iterator[WebhookSink]:
    webhook_sink = WebhookSink(tmp_path / "state", lambda: list(secrets_in_use))
    webhook_sink.start()
    yield webhook_sink
    webhook_sink.stop()


def signed_headers(raw_body: bytes, secret: str = SECRET, payload_hash: str | None = None) -> dict[str, str]:
    claims: dict[str, Any] = {
        "iat": int(time.time()),
        "jti": str(uuid.uuid4()),
        "iss": "Vonage",
        "payload_hash": payload_hash or hashlib.sha256(raw_body).hexdigest(),
        "api_key": "abcd1234",
        "application_id": str(uuid.uuid4()),
    }
    token = jwt.encode(claims, secret, algorithm="HS256")
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def post(
    sink: WebhookSink, raw_body: bytes, headers: dict[str, str] | None = None, path: str = "/webhooks/status"
):
    return requests.post(sink.url(path), data=raw_body, headers=headers or {}, timeout=5)


def logged(sink: WebhookSink) -> list[dict[str, Any]]:
    return [json.loads(line) for line in sink.log_path.read_text(encoding="utf-8").splitlines()]


def test_url_joins_the_bound_port_and_path(sink: WebhookSink) -> None:
    assert sink.port > 0
    assert sink.url() == f"http://127.0.0.1:{sink.port}/"
    assert sink.url("/webhooks/inbound") == f"http://127.0.0.1:{sink.port}/webhooks/inbound"
    assert sink.url("webhooks/inbound") == f"http://127.0.0.1:{sink.port}/webhooks/inbound"


def test_url_needs_the_bound_port(tmp_path) -> None:
    with pytest.raises(RuntimeError):
        WebhookSink(tmp_path, list).url()


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_any_method_and_path_gets_200_and_is_recorded(sink: WebhookSink, method: str) -> None:
    response = requests.request(method, sink.url("/any/where?x=1"), timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    (record,) = sink.received
    assert record["method"] == method
    assert record["path"] == "/any/where"
    assert record["query"] == {"x": "1"}
    assert record["signature_valid"] is None
    assert record["received_at"].endswith("Z")


def test_the_redirect_path_answers_307_to_its_location_and_is_recorded(sink: WebhookSink) -> None:
    target = "http://127.0.0.1:9/elsewhere?a=1"
    response = requests.post(
        sink.url("/redirect"), params={"location": target}, data=b"{}", allow_redirects=False, timeout=5
    )

    assert response.status_code == 307
    assert response.headers["Location"] == target
    (record,) = sink.received
    assert (record["method"], record["path"], record["query"]) == ("POST", "/redirect", {"location": target})


def test_the_redirect_path_without_a_location_is_an_ordinary_200(sink: WebhookSink) -> None:
    response = requests.post(sink.url("/redirect"), data=b"{}", allow_redirects=False, timeout=5)

    assert response.status_code == 200
    assert "Location" not in response.headers


def test_json_body_is_parsed_and_raw_body_kept_byte_for_byte(sink: WebhookSink) -> None:
    raw = '{"status":  "delivered",\n "text": "caf\u00e9 \u2713", "n": 1.50}'.encode("utf-8")
    post(sink, raw, {"Content-Type": "application/json", "X-Custom": "yes"})

    (record,) = logged(sink)
    assert record == sink.received[0]
    assert record["raw_body"].encode("utf-8") == raw
    assert record["body"] == {"status": "delivered", "text": "caf\u00e9 \u2713", "n": 1.5}
    assert record["headers"]["X-Custom"] == "yes"
    assert record["headers"]["Content-Type"] == "application/json"


def test_non_json_body_is_kept_as_text(sink: WebhookSink) -> None:
    post(sink, b"msisdn=447700900123&status=delivered", {"Content-Type": "application/x-www-form-urlencoded"})

    (record,) = sink.received
    assert record["body"] == "msisdn=447700900123&status=delivered"
    assert record["raw_body"] == "msisdn=447700900123&status=delivered"


def test_requests_are_appended_in_order(sink: WebhookSink) -> None:
    for index in range(3):
        post(sink, json.dumps({"index": index}).encode())

    assert [record["body"]["index"] for record in logged(sink)] == [0, 1, 2]
    assert sink.log_path == sink.state_dir / "webhooks.jsonl"


def test_signed_webhook_is_valid(sink: WebhookSink) -> None:
    raw = b'{"message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab", "status": "delivered"}'
    post(sink, raw, signed_headers(raw))

    assert sink.received[0]["signature_valid"] is True


def test_signature_with_an_unknown_secret_is_invalid(sink: WebhookSink) -> None:
    raw = b'{"status": "read"}'
    post(sink, raw, signed_headers(raw, secret="some-other-secret-0123456789abcdefghij"))

    assert sink.received[0]["signature_valid"] is False


def test_payload_hash_of_another_body_is_invalid(sink: WebhookSink) -> None:
    signed_for = b'{"status": "read"}'
    post(sink, b'{"status": "read" }', signed_headers(signed_for))

    assert sink.received[0]["signature_valid"] is False


def test_token_without_payload_hash_is_invalid(sink: WebhookSink) -> None:
    token = jwt.encode({"iat": int(time.time()), "iss": "Vonage"}, SECRET, algorithm="HS256")
    post(sink, b"{}", {"Authorization": f"Bearer {token}"})

    assert sink.received[0]["signature_valid"] is False


@pytest.mark.parametrize("authorization", ["Bearer not-a-jwt", "Bearer "])
def test_unparseable_bearer_token_is_invalid(sink: WebhookSink, authorization: str) -> None:
    post(sink, b"{}", {"Authorization": authorization})

    assert sink.received[0]["signature_valid"] is False


def test_other_authorization_schemes_are_unsigned(sink: WebhookSink) -> None:
    post(sink, b"{}", {"Authorization": "Basic YWJjZDEyMzQ6c2VjcmV0"})

    assert sink.received[0]["signature_valid"] is None


def test_every_current_secret_is_tried_and_read_per_request(
    sink: WebhookSink, secrets_in_use: list[str]
) -> None:
    raw = b'{"status": "delivered"}'
    post(sink, raw, signed_headers(raw, secret=OLD_SECRET))
    secrets_in_use.append(OLD_SECRET)
    post(sink, raw, signed_headers(raw, secret=OLD_SECRET))

    assert [record["signature_valid"] for record in sink.received] == [False, True]


def test_raw_body_is_what_the_payload_hash_covers(sink: WebhookSink) -> None:
    # Not the parsed body re-serialised: key order, spacing and escapes all count in the hash.
    raw = '{"text":"caf\u00e9","status" : "read","n":1.0}'.encode("utf-8")
    headers = signed_headers(raw)
    post(sink, raw, headers)

    (record,) = logged(sink)
    token = headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert hashlib.sha256(record["raw_body"].encode("utf-8")).hexdigest() == claims["payload_hash"]
    assert json.dumps(record["body"]).encode("utf-8") != raw
    assert record["signature_valid"] is True


def test_an_empty_body_is_recorded_as_empty_text(sink: WebhookSink) -> None:
    requests.get(sink.url("/webhooks/status"), timeout=5)

    (record,) = sink.received
    assert (record["body"], record["raw_body"]) == ("", "")
