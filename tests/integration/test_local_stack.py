"""The running local stack, driven over HTTP(S) as a developer or an SDK would."""

from __future__ import annotations

import stat
import time
from pathlib import Path

import pytest
import requests

from local_stack.simulators.signing import sms_signed_params
from tests.support.stack import RunningStack
from tests.support.stack_requests import channels_secret

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


def test_stack_json_holds_secrets_and_is_private(stack: RunningStack) -> None:
    assert stat.S_IMODE((stack.local_dir / "stack.json").stat().st_mode) == 0o600


def test_the_stack_signs_sms_webhooks_and_refuses_unsigned_ones(stack: RunningStack) -> None:
    sms = channels_secret(stack)["sms"]
    assert sms["signature_secret"]  # the template's default refuses SMS webhooks without one
    receipt = {"msisdn": "447700900000", "to": "447700900001", "messageId": "0A000000UNKNOWN1", "status": "delivered"}
    signed = sms_signed_params(receipt, sms["signature_secret"], sms["signature_method"], time.time())

    assert stack.get("/webhooks/sms/dlr", params=signed).status_code == 200  # an unknown message: no effect
    assert stack.get("/webhooks/sms/dlr", params=receipt).status_code == 403


def test_the_request_log_hides_the_verify_token_and_sms_signatures(stack: RunningStack) -> None:
    channels = channels_secret(stack)
    token = channels["messenger"]["verify_token"]
    handshake = {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "1158201444"}
    sms = channels["sms"]
    receipt = {"msisdn": "447700900000", "to": "447700900001", "messageId": "0A000000UNKNOWN2", "status": "delivered"}
    signed = sms_signed_params(receipt, sms["signature_secret"], sms["signature_method"], time.time())

    assert stack.get("/webhooks/messenger", params=handshake).text == "1158201444"
    assert stack.get("/webhooks/sms/dlr", params=signed).status_code == 200

    def log_with_the_receipt() -> str | None:
        text = stack.output()
        return text if "0A000000UNKNOWN2" in text else None

    output = stack.wait_for(log_with_the_receipt, what="the DLR in the stack log")
    assert token not in output and signed["sig"] not in output
    assert "hub.verify_token=***&hub.challenge=1158201444" in output
    assert "messageId=0A000000UNKNOWN2" in output and "sig=***" in output


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
