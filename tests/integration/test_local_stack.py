"""The running local stack, driven over HTTP(S) as a developer or an SDK would."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import requests

from tests.integration.conftest import RunningStack

pytestmark = pytest.mark.integration

SEED_TEXT = "This is an SMS sent from the Messages API"
SEED_SMS = {
    "from": {"type": "sms", "number": "447700900001"},
    "to": {"type": "sms", "number": "447700900000"},
    "message": {"content": {"type": "text", "text": SEED_TEXT}},
}
STACK_JSON_KEYS = {
    "api_url",
    "https_api_host",
    "tls_cert_path",
    "api_key",
    "api_secret",
    "signature_secret",
    "application_id",
    "private_key_path",
    "webhook_log",
    "provider_log",
    "aws_endpoint_url",
    "allowed_private_webhook_hosts",
}


def test_health(stack: RunningStack) -> None:
    response = stack.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["apigw-requestid"]


def test_stack_json_has_exactly_the_documented_keys_with_absolute_paths(stack: RunningStack) -> None:
    info = stack.stack_json()
    assert set(info) == STACK_JSON_KEYS
    for key in ("tls_cert_path", "private_key_path", "webhook_log", "provider_log"):
        assert Path(info[key]).is_absolute(), key
    assert info["api_url"].startswith("http://127.0.0.1:")
    assert info["https_api_host"].startswith("127.0.0.1:")


def test_the_demo_private_key_is_pkcs8_and_private(stack: RunningStack) -> None:
    key = Path(stack.private_key_path)
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


def test_outputs_json_resolves_the_templates_outputs_locally(stack: RunningStack) -> None:
    outputs = stack.outputs()
    assert outputs["AccountsTableName"] in stack.boto3_client("dynamodb").list_tables()["TableNames"]
    assert outputs["ApiUrl"] == stack.https_url
    queue_urls = stack.boto3_client("sqs").list_queues()["QueueUrls"]
    assert outputs["OutboundQueueUrl"] in queue_urls and outputs["OutboundDLQUrl"] in queue_urls


def test_https_works_with_the_generated_certificate(stack: RunningStack) -> None:
    response = stack.get(f"{stack.https_url}/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    with pytest.raises(requests.exceptions.SSLError):
        stack.get(f"{stack.https_url}/health", verify=True)


def test_an_unknown_route_is_answered_by_the_catch_all_route(stack: RunningStack) -> None:
    response = stack.get("/no/such/route")
    assert response.status_code == 404
    # The API's own problem response, not API Gateway's {"message": "Not Found"}.
    assert response.headers["content-type"].startswith("application/problem+json")


def test_the_root_path_matches_no_route(stack: RunningStack) -> None:
    response = stack.get("/")
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


def test_a_sent_sms_reaches_the_provider_simulator_once(stack: RunningStack) -> None:
    response = stack.post("/beta/messages", json=SEED_SMS, auth=stack.auth)
    assert response.status_code == 202, response.text
    message_uuid = response.json()["message_uuid"]
    assert message_uuid

    def sms_requests() -> list[dict]:
        return [
            r
            for r in stack.provider_requests()
            if r["provider"] == "sms" and isinstance(r.get("body"), dict) and r["body"].get("text") == SEED_TEXT
        ]

    sent = stack.wait_for(sms_requests, what="the SMS at the provider simulator")
    assert len(sent) == 1
    assert sent[0]["body"]["to"] == "447700900000"


def test_the_official_sdk_sends_over_https_with_the_demo_application(
    stack: RunningStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vonage import Auth, HttpClientOptions, Vonage
    from vonage_messages import Sms

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", stack.tls_cert_path)
    client = Vonage(
        Auth(application_id=stack.application_id, private_key=stack.private_key_path),
        HttpClientOptions(api_host=stack.https_api_host),
    )
    text = "Sent with the official SDK over HTTPS"
    response = client.messages.send(Sms(to="447700900000", from_="447700900001", text=text))
    assert response.message_uuid

    stack.wait_for(
        lambda: [
            r for r in stack.provider_requests() if isinstance(r.get("body"), dict) and r["body"].get("text") == text
        ],
        what="the SDK's SMS at the provider simulator",
    )


def test_the_apis_own_problem_types_resolve_against_the_stack(stack: RunningStack) -> None:
    response = stack.post("/v1/messages", auth=stack.auth, data=b"x" * (70 * 1024),
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    problem_type = response.json()["type"]
    assert problem_type == f"{stack.api_url}/docs/errors#payload-too-large"

    page = stack.get(problem_type.split("#", 1)[0])
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<section id="payload-too-large">' in page.text
