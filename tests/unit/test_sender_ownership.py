"""An account sends only from its own senders: every API version, every workflow flavour, one answer.

Account A is the ``api`` fixture's account, which owns the demo page, Viber service, SMS number and
the ``Acme`` sender id. Account B is a second account of the same deployment.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from switchboard.api.message_acceptor import REFUSED_SENDER_REASON
from tests.support.api_client import Api
from tests.support.lambdas import FakeLambdaContext, basic_auth, http_event
from tests.support.request_bodies import MESSENGER_V01, PAGE_ID, SEED_SMS, SMS_V1, VIBER_SERVICE, VIBER_V1

B_SENDER_ID = "Bravo"
UNCONFIGURED_PAGE = "555000555"  # linked to B, missing from the channels configuration


@dataclass(frozen=True)
class Account:
    api_key: str
    basic: str
    application_id: str
    private_key: str

    def jwt(self) -> str:
        from switchboard.provisioning import generate_jwt

        return "Bearer " + generate_jwt(self.application_id, self.private_key)


@pytest.fixture
def api(aws: Any, tmp_path: Path) -> Api:
    """Account A: owns the demo page, Viber service, SMS number and the ``Acme`` sender id."""
    return Api(aws, tmp_path)


@pytest.fixture
def b(api: Api, tmp_path: Path) -> Account:
    """A second account (with an application) owning an SMS sender id and an unconfigured page."""
    from local_stack.provision import link_senders
    from switchboard.provisioning import provision_account, provision_application
    from tests.support.stores import AccountStore

    store = AccountStore()
    account = provision_account(store)
    app = provision_application(store, account["api_key"], "b", private_key_out=tmp_path / "b.key")
    link_senders(account["api_key"], [("sms", B_SENDER_ID), ("messenger", UNCONFIGURED_PAGE)])
    return Account(
        account["api_key"], basic_auth(account["api_key"], account["api_secret"]), app["application_id"],
        Path(app["private_key_path"]).read_text(),
    )


def nested(channel: str, sender: dict[str, str], to: dict[str, str]) -> dict[str, Any]:
    return {"from": {"type": channel, **sender}, "to": {"type": channel, **to},
            "message": {"content": {"type": "text", "text": "hello"}}}


MESSENGER_NESTED = nested("messenger", {"id": PAGE_ID}, {"id": "3523523523520000"})
VIBER_NESTED = nested("viber_service_msg", {"id": VIBER_SERVICE}, {"number": "447700900000"})
SMS_NUMBER_NESTED = SEED_SMS
SMS_ID_NESTED = nested("sms", {"number": "Acme"}, {"number": "447700900000"})
MESSENGER_FLAT = {"channel": "messenger", "message_type": "text", "from": PAGE_ID, "to": "3523523523520000",
                  "text": "hello"}
SMS_NUMBER_FLAT = {**SMS_V1, "from": "447700900001"}

# (route, body sending from one of A's senders, the invalid parameter's name)
A_SENDERS = [
    pytest.param(path, body, field, id=f"{path}-{label}")
    for path in ("/beta/messages", "/v0.1/messages")
    for label, body, field in (
        ("page", MESSENGER_NESTED, "from.id"),
        ("viber", VIBER_NESTED, "from.id"),
        ("number", SMS_NUMBER_NESTED, "from.number"),
        ("sender-id", SMS_ID_NESTED, "from.number"),
    )
] + [
    pytest.param("/v1/messages", body, "from", id=f"/v1/messages-{label}")
    for label, body in (("page", MESSENGER_FLAT), ("viber", VIBER_V1), ("number", SMS_NUMBER_FLAT), ("sender-id", SMS_V1))
]


def items(api: Api, table_env: str) -> list[dict]:
    return api.aws.client("dynamodb").scan(TableName=api.aws.env[table_env])["Items"]


def queue_depth(api: Api, queue_env: str) -> int:
    attributes = api.aws.client("sqs").get_queue_attributes(
        QueueUrl=api.aws.env[queue_env],
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesDelayed"])


def assert_nothing_happened(api: Api) -> None:
    """No message or workflow record, nothing on the outbound or workflow-events queue."""
    assert items(api, "MESSAGES_TABLE") == []
    assert items(api, "WORKFLOWS_TABLE") == []
    assert queue_depth(api, "OUTBOUND_QUEUE_URL") == 0
    assert queue_depth(api, "WORKFLOW_EVENTS_QUEUE_URL") == 0


def assert_refused(response: tuple[int, dict, Any], path: str, names: list[str]) -> None:
    status, headers, out = response
    assert status == (422 if path.startswith("/v1/") else 400), out
    assert headers["content-type"] == "application/problem+json"
    assert out["invalid_parameters"] == [{"name": name, "reason": REFUSED_SENDER_REASON} for name in names]


@pytest.mark.parametrize("path,body,field", A_SENDERS)
def test_another_account_cannot_send_from_a_sender_it_does_not_own(
    api: Api, b: Account, path: str, body: dict, field: str
) -> None:
    for authorization in (b.basic, b.jwt()):
        assert_refused(api.call("POST", path, body, headers={"authorization": authorization}), path, [field])
    assert_nothing_happened(api)

    # The owner (and its application) sends the very same request.
    assert api.call("POST", path, body)[0] == 202
    assert api.call("POST", path, body, headers={"authorization": api.jwt()})[0] == 202


def raw_answer(api: Api, path: str, body: dict, authorization: str) -> tuple[int, dict[str, str], str]:
    """Status, headers and body text exactly as returned, with the per-request trace id masked."""
    response = api.module.handler(http_event("POST", path, body, {"authorization": authorization}), FakeLambdaContext())
    headers = {k.lower(): v for k, v in response["headers"].items()}
    trace_id = headers.pop("x-nexmo-trace-id")
    return response["statusCode"], headers, response["body"].replace(trace_id, "<instance>")


def with_sender(body: dict, sender: str) -> dict:
    if "channel" in body:
        return {**body, "from": sender}
    key = "number" if body["from"]["type"] == "sms" else "id"
    return {**body, "from": {"type": body["from"]["type"], key: sender}}


@pytest.mark.parametrize(
    "path,foreign,refused_alike",
    [
        # a page or Viber service of A's, one nobody configured or linked, one B linked but nobody configured
        ("/beta/messages", MESSENGER_NESTED, ["999", UNCONFIGURED_PAGE]),
        ("/v0.1/messages", VIBER_NESTED, ["555"]),
        ("/v1/messages", MESSENGER_FLAT, ["999", UNCONFIGURED_PAGE]),
        ("/v1/messages", VIBER_V1, ["555"]),
        # SMS is configured as a whole: A's number or sender id, and ones nobody linked
        ("/v0.1/messages", SMS_NUMBER_NESTED, ["447700900999"]),
        ("/beta/messages", SMS_ID_NESTED, ["Nobody"]),
        ("/v1/messages", SMS_NUMBER_FLAT, ["447700900999"]),
        ("/v1/messages", SMS_V1, ["Nobody"]),
    ],
)
def test_a_refused_sender_gets_one_answer_whether_foreign_unconfigured_or_unknown(
    api: Api, b: Account, path: str, foreign: dict, refused_alike: list[str]
) -> None:
    """Byte for byte apart from ``instance`` (and its trace header): B learns nothing about A's senders."""
    expected = raw_answer(api, path, foreign, b.basic)

    assert expected[0] == (422 if path.startswith("/v1/") else 400)
    assert REFUSED_SENDER_REASON in expected[2]
    for sender in refused_alike:
        assert raw_answer(api, path, with_sender(foreign, sender), b.basic) == expected
    assert_nothing_happened(api)


def test_a_linked_sender_must_still_be_configured(api: Api, b: Account) -> None:
    assert_refused(
        api.call("POST", "/v1/messages", {**MESSENGER_FLAT, "from": UNCONFIGURED_PAGE}, headers={"authorization": b.basic}),
        "/v1/messages", ["from"],
    )
    assert_nothing_happened(api)


def test_sender_ids_are_owned_whatever_their_case(api: Api, b: Account) -> None:
    for spelling in ("ACME", "acme", "aCmE"):
        assert_refused(
            api.call("POST", "/v1/messages", {**SMS_V1, "from": spelling}, headers={"authorization": b.basic}),
            "/v1/messages", ["from"],
        )
    assert_nothing_happened(api)
    assert api.call("POST", "/v1/messages", {**SMS_V1, "from": "ACME"})[0] == 202  # the owner's brand, any case


def test_each_account_sends_from_its_own_sender_id(api: Api, b: Account) -> None:
    status, _, out = api.call("POST", "/v1/messages", {**SMS_V1, "from": B_SENDER_ID}, headers={"authorization": b.basic})
    assert status == 202, out
    assert api.record(out["message_uuid"])["api_key"] == b.api_key
    assert_refused(api.call("POST", "/v1/messages", {**SMS_V1, "from": B_SENDER_ID}), "/v1/messages", ["from"])


# -- workflows ----------------------------------------------------------------------------------

B_SMS_STEP = nested("sms", {"number": B_SENDER_ID}, {"number": "447700900000"})
FAILOVER = {"expiry_time": 600, "condition_status": "delivered"}


@pytest.mark.parametrize("path", ["/beta/workflows", "/v0.1/dispatch"])
@pytest.mark.parametrize(
    "foreign_step,field",
    [(MESSENGER_NESTED, "from.id"), (VIBER_NESTED, "from.id"), (SMS_NUMBER_NESTED, "from.number"),
     (SMS_ID_NESTED, "from.number")],
)
def test_no_workflow_step_may_use_another_accounts_sender(
    api: Api, b: Account, path: str, foreign_step: dict, field: str
) -> None:
    first = {**B_SMS_STEP, "failover": FAILOVER}
    as_first = {**foreign_step, "failover": FAILOVER}
    for steps, name in (([first, foreign_step], f"workflow[1].{field}"), ([as_first, B_SMS_STEP], f"workflow[0].{field}")):
        response = api.call("POST", path, {"template": "failover", "workflow": steps}, headers={"authorization": b.basic})
        assert_refused(response, path, [name])
    assert_nothing_happened(api)


@pytest.mark.parametrize(
    "request_body,names",
    [
        ({**MESSENGER_FLAT, "failover": [{**SMS_V1, "from": B_SENDER_ID}]}, ["from"]),
        ({**SMS_V1, "from": B_SENDER_ID, "failover": [VIBER_V1]}, ["failover[0].from"]),
        ({**SMS_V1, "from": B_SENDER_ID, "failover": [{**SMS_V1, "from": B_SENDER_ID}, SMS_V1]}, ["failover[1].from"]),
    ],
    ids=["first-step", "failover-viber", "failover-sender-id"],
)
def test_no_v1_failover_step_may_use_another_accounts_sender(
    api: Api, b: Account, request_body: dict, names: list[str]
) -> None:
    assert_refused(api.call("POST", "/v1/messages", request_body, headers={"authorization": b.jwt()}), "/v1/messages", names)
    assert_nothing_happened(api)


def test_the_owners_workflow_from_the_same_senders_starts(api: Api) -> None:
    body = {"template": "failover", "workflow": [{**MESSENGER_V01, "failover": FAILOVER}, SMS_ID_NESTED]}
    status, _, out = api.call("POST", "/v0.1/dispatch", body)
    assert status == 202, out


def test_the_log_tells_the_operator_which_check_refused_the_sender(
    api: Api, b: Account, caplog: pytest.LogCaptureFixture
) -> None:
    for sender in (PAGE_ID, UNCONFIGURED_PAGE, "999"):
        api.call("POST", "/v1/messages", {**MESSENGER_FLAT, "from": sender}, headers={"authorization": b.basic})

    logged = [record.__dict__ for record in caplog.records if record.getMessage() == "sender refused"]
    assert [(each["sender"], each["api_key"], each["refusal"]) for each in logged] == [
        (PAGE_ID, b.api_key, "not linked to the calling account"),
        (UNCONFIGURED_PAGE, b.api_key, f"page {UNCONFIGURED_PAGE} is not configured for this deployment"),
        ("999", b.api_key, "page 999 is not configured for this deployment; not linked to the calling account"),
    ]
