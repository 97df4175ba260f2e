"""The customer API driven through its real Lambda handler, on the tests' in-process AWS."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.lambdas import FakeLambdaContext, basic_auth, http_event, load_handler_module
from local_stack.simulators import DEMO_WHATSAPP_NUMBER
from tests.support.request_bodies import PAGE_ID, VIBER_SERVICE
from tests.support.tenants import provision_sender_owner

# The test account's own request limit: far above anything a test sends, so no test but the rate
# limit's own ever meets it (the clock is frozen in some modules: every request is in one second).
TEST_RATE_LIMIT_PER_SECOND = 100_000
# Every channel configured, every provider unreachable (the API never calls one).
API_CHANNELS_SECRET = {
    "messenger": {
        "api_base": "http://provider.invalid/messenger",
        "api_version": "v18.0",
        "app_secret": "app-secret",
        "verify_token": "verify",
        "pages": {PAGE_ID: "page-token"},
    },
    "viber": {"api_base": "http://provider.invalid/viber", "callback_secret": "cb", "service_ids": [VIBER_SERVICE]},
    "sms": {
        "api_base": "http://provider.invalid/sms",
        "api_key": "abcd1234",
        "api_secret": "secretsecret1234",
        "signature_secret": "sig",
        "signature_method": "md5hash",
    },
    "whatsapp": {
        "api_base": "http://provider.invalid/whatsapp",
        "api_version": "v21.0",
        "app_secret": "wa-app-secret",
        "verify_token": "wa-verify",
        "numbers": {DEMO_WHATSAPP_NUMBER: {"phone_number_id": "106540352242922", "access_token": "wa-token"}},
    },
}


class Api:
    """An account with an application that owns the demo senders, and calls to the API as it."""

    def __init__(self, aws: Any, tmp_path: Path) -> None:
        from aws_lambda_powertools.utilities import parameters

        from tests.support.wiring import forget_wired_functions

        parameters.clear_caches()
        forget_wired_functions()
        self.aws = aws
        aws.client("secretsmanager").put_secret_value(
            SecretId=aws.env["CHANNELS_SECRET_ID"], SecretString=json.dumps(API_CHANNELS_SECRET)
        )
        self.account, self.app = provision_sender_owner(tmp_path / "app.key", TEST_RATE_LIMIT_PER_SECOND, "tests")
        self.private_key = Path(self.app["private_key_path"]).read_text()
        self.auth = basic_auth(self.account["api_key"], self.account["api_secret"])
        self.module = load_handler_module("api")

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None, **kw: Any) -> tuple[int, dict, Any]:
        """(status, lower-cased headers, JSON body or text) of one request."""
        hdrs = {"authorization": self.auth, **(headers or {})}
        response = self.module.handler(http_event(method, path, body, hdrs, **kw), FakeLambdaContext())
        text = response.get("body") or ""
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return response["statusCode"], {k.lower(): v for k, v in response.get("headers", {}).items()}, parsed

    def jwt(self, **kw: Any) -> str:
        from switchboard.provisioning import generate_jwt

        return "Bearer " + generate_jwt(self.app["application_id"], self.private_key, **kw)

    def record(self, message_uuid: str) -> dict | None:
        from tests.support.stores import MessagesTable

        return MessagesTable().get(message_uuid)

    def queued(self) -> list[dict]:
        """The outbound queue's messages (up to 10), taken off the queue."""
        sqs = self.aws.client("sqs")
        out = sqs.receive_message(QueueUrl=self.aws.env["OUTBOUND_QUEUE_URL"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = out.get("Messages", [])
        for m in messages:
            sqs.delete_message(QueueUrl=self.aws.env["OUTBOUND_QUEUE_URL"], ReceiptHandle=m["ReceiptHandle"])
        return [json.loads(m["Body"]) for m in messages]


def assert_problem(status: int, headers: dict, body: Any, expected_status: int) -> None:
    """A problem+json answer with ``expected_status`` and the trace id as its instance."""
    assert status == expected_status, body
    assert headers["content-type"] == "application/problem+json"
    assert {"type", "title", "detail", "instance"} <= set(body)
    assert headers["x-nexmo-trace-id"] == body["instance"]
    assert len(body["instance"]) == 32
