"""The send API through the real Lambda handler: routing, auth, errors, records, queueing, idempotency."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.api_client import Api, assert_problem
from tests.support.lambdas import FakeLambdaContext, basic_auth, http_event
from tests.support.request_bodies import MESSENGER_V01, SEED_SMS, SMS_V1, VIBER_SERVICE, VIBER_V1


@pytest.fixture
def api(aws: Any, tmp_path: Path) -> Api:
    return Api(aws, tmp_path)


@pytest.mark.parametrize(
    "path,body",
    [("/beta/messages", SEED_SMS), ("/v0.1/messages", MESSENGER_V01), ("/v1/messages", VIBER_V1), ("/v1/messages", SMS_V1)],
)
def test_accepted_message_is_recorded_then_queued(api: Api, path: str, body: dict) -> None:
    status, headers, out = api.call("POST", path, body)
    assert status == 202, out
    assert headers["content-type"] == "application/json"
    assert set(out) == {"message_uuid"}
    record = api.record(out["message_uuid"])
    assert record is not None
    assert record["status"] == "accepted"
    assert record["api_key"] == api.account["api_key"]
    assert [h["status"] for h in record["history"]] == ["accepted"]
    assert api.queued() == [{"message_uuid": out["message_uuid"]}]


def test_record_keeps_the_canonical_message(api: Api) -> None:
    _, _, out = api.call("POST", "/v0.1/messages", MESSENGER_V01)
    record = api.record(out["message_uuid"])
    assert record["channel"] == "messenger"
    assert record["messenger"] == {"category": "message_tag", "tag": "TICKET_UPDATE"}
    assert record["client_ref"] == "order-1"
    assert record["content"] == {"type": "image", "url": "https://example.com/a.jpg"}


def test_jwt_sent_message_records_the_application(api: Api) -> None:
    status, _, out = api.call("POST", "/v0.1/messages", SEED_SMS, headers={"authorization": api.jwt()})
    assert status == 202, out
    record = api.record(out["message_uuid"])
    assert record["application_id"] == api.app["application_id"]
    assert record["auth_method"] == "jwt"


def test_one_jwt_can_send_several_messages(api: Api) -> None:
    token = api.jwt()
    statuses = [api.call("POST", "/beta/messages", SEED_SMS, headers={"authorization": token})[0] for _ in range(3)]
    assert statuses == [202, 202, 202]


@pytest.mark.parametrize("authorization", [None, "", "Basic !!!", "Basic " + "YWFhMDEyOmFiYzEyMzQ1Njc4OQ==", "Bearer x.y.z", "Token abc"])
def test_bad_credentials_are_401(api: Api, authorization: str | None) -> None:
    headers = {"authorization": authorization} if authorization is not None else {}
    event_headers = {"content-type": "application/json", **headers}
    response = api.module.handler(http_event("POST", "/v1/messages", SMS_V1, event_headers), FakeLambdaContext())
    body = json.loads(response["body"])
    assert response["statusCode"] == 401
    assert body["title"] == "Unauthorized"
    assert api.queued() == []


AUTHENTICATED_ROUTES = [
    ("POST", "/beta/messages"), ("POST", "/v0.1/messages"), ("POST", "/v1/messages"),
    ("GET", "/v0.1/messages/00000000-0000-4000-8000-000000000000"),
    ("GET", "/v1/messages/00000000-0000-4000-8000-000000000000"),
    ("POST", "/beta/workflows"), ("POST", "/v0.1/dispatch"),
    ("GET", "/beta/workflows/00000000-0000-4000-8000-000000000000"),
    ("GET", "/v0.1/workflows/00000000-0000-4000-8000-000000000000"),
    ("GET", "/v0.1/dispatch/00000000-0000-4000-8000-000000000000"),
    ("GET", "/v1/workflows/00000000-0000-4000-8000-000000000000"),
]


def test_every_route_but_health_needs_credentials_and_forgets_the_last_caller(api: Api) -> None:
    assert api.call("POST", "/v1/messages", SMS_V1)[0] == 202  # a caller the next requests must not inherit
    for method, path in AUTHENTICATED_ROUTES:
        status, headers, body = api.call(method, path, SMS_V1 if method == "POST" else None, {"authorization": ""})
        assert_problem(status, headers, body, 401)
        assert headers["www-authenticate"] == 'Basic realm="switchboard", Bearer'
        assert body["detail"] == "You did not provide correct credentials."
    assert api.call("GET", "/health", headers={"authorization": ""})[0] == 200


def test_auth_is_checked_before_the_body(api: Api) -> None:
    response = api.module.handler(
        http_event("POST", "/v1/messages", raw_body=b"not json", headers={"content-type": "application/json"}),
        FakeLambdaContext(),
    )
    assert response["statusCode"] == 401


def test_validation_errors_name_every_field_400_on_nested(api: Api) -> None:
    body = {"from": {"type": "sms"}, "to": {"type": "sms", "number": "+44"}, "message": {"content": {"type": "text"}}}
    status, headers, out = api.call("POST", "/v0.1/messages", body)
    assert_problem(status, headers, out, 400)
    assert out["type"] == "https://www.nexmo.com/messages/Errors#InvalidParams"
    names = {p["name"] for p in out["invalid_parameters"]}
    assert {"from.number", "to.number", "message.content.text"} <= names
    assert all(p["reason"] for p in out["invalid_parameters"])
    assert api.queued() == []


def test_validation_errors_are_422_on_v1(api: Api) -> None:
    status, headers, out = api.call("POST", "/v1/messages", {**SMS_V1, "text": "", "client_ref": "x" * 101})
    assert_problem(status, headers, out, 422)
    assert out["title"] == "Invalid params"
    assert {p["name"] for p in out["invalid_parameters"]} >= {"text", "client_ref"}


def test_unconfigured_page_is_a_clear_error_naming_from(api: Api) -> None:
    body = json.loads(json.dumps(MESSENGER_V01))
    body["from"]["id"] = "999"
    status, headers, out = api.call("POST", "/v0.1/messages", body)
    assert_problem(status, headers, out, 400)
    assert [p["name"] for p in out["invalid_parameters"]] == ["from.id"]


def test_unconfigured_viber_service_on_v1_names_from(api: Api) -> None:
    status, _, out = api.call("POST", "/v1/messages", {**VIBER_V1, "from": "555"})
    assert status == 422
    assert [p["name"] for p in out["invalid_parameters"]] == ["from"]


def test_first_viber_message_to_a_number_must_be_a_transaction(api: Api) -> None:
    promo = {**VIBER_V1, "viber_service": {"category": "promotion"}}
    status, _, out = api.call("POST", "/v1/messages", promo)
    assert status == 422
    assert [p["name"] for p in out["invalid_parameters"]] == ["viber_service.category"]
    assert "transaction" in out["invalid_parameters"][0]["reason"]

    from tests.support.stores import ContactStore

    ContactStore().record_transaction_contact(VIBER_SERVICE, "447700900000")
    status, _, out = api.call("POST", "/v1/messages", promo)
    assert status == 202, out


def test_nested_viber_promotion_names_the_nested_field(api: Api) -> None:
    body = {
        "from": {"type": "viber_service_msg", "id": VIBER_SERVICE},
        "to": {"type": "viber_service_msg", "number": "447700900123"},
        "message": {"content": {"type": "text", "text": "Sale!"}, "viber_service_msg": {"category": "promotion"}},
    }
    status, _, out = api.call("POST", "/beta/messages", body)
    assert status == 400
    assert [p["name"] for p in out["invalid_parameters"]] == ["message.viber_service_msg.category"]


@pytest.mark.parametrize(
    "raw,content_type,expected,title",
    [
        (b"{not json", "application/json", 400, "Invalid JSON"),
        (b"", "application/json", 400, "Invalid JSON"),
        (b"\xff\xfe", "application/json", 400, "Invalid JSON"),
        (b'{"a": NaN}', "application/json", 400, "Invalid JSON"),
        (b"from=1", "application/x-www-form-urlencoded", 415, "Unsupported Media Type"),
        (b"{}", None, 415, "Unsupported Media Type"),
        (b"{}", "text/plain", 415, "Unsupported Media Type"),
    ],
)
def test_malformed_requests(api: Api, raw: bytes, content_type: str | None, expected: int, title: str) -> None:
    headers = {"content-type": content_type} if content_type else {}
    status, hdrs, out = api.call("POST", "/v0.1/messages", headers=headers, raw_body=raw)
    assert_problem(status, hdrs, out, expected)
    assert out["title"] == title


SEND_ROUTES = ["/beta/messages", "/v0.1/messages", "/v1/messages", "/beta/workflows", "/v0.1/dispatch"]
DEEP_BODIES = {
    "deep arrays": b'{"message": ' + b"[" * 30_000 + b"]" * 30_000 + b"}",
    "deep objects": b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    "unclosed": b"[" * 60_000,
    "33 levels": b'{"from": ' + b"[" * 32 + b"]" * 32 + b"}",
}


def stored_messages(api: Api) -> list[dict]:
    return api.aws.client("dynamodb").scan(TableName=api.aws.env["MESSAGES_TABLE"])["Items"]


@pytest.mark.parametrize("route", SEND_ROUTES)
@pytest.mark.parametrize("shape", list(DEEP_BODIES))
def test_deeply_nested_json_is_a_400_on_every_send_route(api: Api, route: str, shape: str) -> None:
    status, headers, out = api.call("POST", route, raw_body=DEEP_BODIES[shape], headers={"content-type": "application/json"})

    assert_problem(status, headers, out, 400)
    assert out["title"] == "Invalid JSON"
    assert "levels deep" in out["detail"]
    assert api.queued() == [] and stored_messages(api) == []


@pytest.mark.parametrize("route", SEND_ROUTES)
def test_numbers_out_of_range_are_a_400_on_every_send_route(api: Api, route: str) -> None:
    raw = json.dumps({**SMS_V1, "ttl": 1}).replace('"ttl": 1', '"ttl": 1e999').encode()

    status, headers, out = api.call("POST", route, raw_body=raw, headers={"content-type": "application/json"})

    assert_problem(status, headers, out, 400)
    assert out["title"] == "Invalid JSON" and "out of range" in out["detail"]
    assert api.queued() == []


def test_json_with_charset_is_accepted(api: Api) -> None:
    status, _, _ = api.call(
        "POST", "/beta/messages", headers={"content-type": "application/json; charset=utf-8"}, raw_body=json.dumps(SEED_SMS).encode()
    )
    assert status == 202


def test_oversized_body_is_413(api: Api) -> None:
    raw = json.dumps({**SMS_V1, "padding": "x" * 70_000}).encode()
    status, headers, out = api.call("POST", "/v1/messages", raw_body=raw, headers={"content-type": "application/json"})
    assert_problem(status, headers, out, 413)


@pytest.mark.parametrize("body", [[], "text", 42, None, [SEED_SMS], {"message": []}, {"from": None, "to": [], "message": {"content": 7}}])
def test_non_object_and_garbage_bodies_are_validation_errors(api: Api, body: Any) -> None:
    status, headers, out = api.call("POST", "/beta/messages", raw_body=json.dumps(body).encode(), headers={"content-type": "application/json"})
    assert_problem(status, headers, out, 400)
    assert out["invalid_parameters"]


def test_unknown_route_is_404_problem(api: Api) -> None:
    status, headers, out = api.call("GET", "/v2/nothing")
    assert_problem(status, headers, out, 404)


@pytest.mark.parametrize("path", ["/v0x1/messages", "/v0.1/messages/extra/more", "/beta/messages/"])
def test_lookalike_paths_are_404(api: Api, path: str) -> None:
    status, headers, out = api.call("POST", path, SEED_SMS)
    assert_problem(status, headers, out, 404)


def test_wrong_method_is_405_with_allow(api: Api) -> None:
    status, headers, out = api.call("GET", "/v1/messages")
    assert_problem(status, headers, out, 405)
    assert headers["allow"] == "POST"


def test_health(api: Api) -> None:
    status, _, out = api.call("GET", "/health")
    assert (status, out) == (200, {"status": "ok"})


def test_enqueue_failure_is_503_and_the_record_says_so(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.adapters.sqs.outbound_queue import OutboundQueue

    def broken(self: Any, message_uuid: str, delay_seconds: int = 0) -> None:
        raise ConnectionError("queue unreachable")

    monkeypatch.setattr(OutboundQueue, "enqueue", broken)
    status, headers, out = api.call("POST", "/v1/messages", SMS_V1)
    assert_problem(status, headers, out, 503)
    from tests.support.stores import MessagesTable

    table = api.aws.client("dynamodb").scan(TableName=api.aws.env["MESSAGES_TABLE"])["Items"]
    assert len(table) == 1
    record = MessagesTable().get(table[0]["message_uuid"]["S"])
    assert record["status"] == "rejected"
    assert record["enqueue_failed"] is True
    assert record["error"]["code"] == 1030


class TestIdempotencyKey:
    def test_same_key_same_body_replays_first_response_and_sends_nothing_new(self, api: Api) -> None:
        headers = {"idempotency-key": "order-42"}
        first = api.call("POST", "/v1/messages", SMS_V1, headers=headers)
        second = api.call("POST", "/v1/messages", SMS_V1, headers=headers)
        assert first[0] == second[0] == 202
        assert first[2] == second[2]
        assert len(api.queued()) == 1

    def test_key_order_and_spacing_do_not_matter(self, api: Api) -> None:
        headers = {"idempotency-key": "k1", "content-type": "application/json"}
        a = api.call("POST", "/v1/messages", raw_body=json.dumps(SMS_V1).encode(), headers=headers)
        b = api.call("POST", "/v1/messages", raw_body=json.dumps(dict(reversed(list(SMS_V1.items()))), indent=2).encode(), headers=headers)
        assert a[2] == b[2]

    def test_same_key_different_body_is_422(self, api: Api) -> None:
        headers = {"idempotency-key": "order-43"}
        assert api.call("POST", "/v1/messages", SMS_V1, headers=headers)[0] == 202
        status, hdrs, out = api.call("POST", "/v1/messages", {**SMS_V1, "text": "other"}, headers=headers)
        assert_problem(status, hdrs, out, 422)
        assert out["title"] == "Idempotency-Key reused"
        assert len(api.queued()) == 1

    def test_keys_are_per_account(self, api: Api, tmp_path: Path) -> None:
        from local_stack.provision import link_senders
        from switchboard.provisioning import provision_account
        from tests.support.stores import AccountStore

        other = provision_account(AccountStore())
        link_senders(other["api_key"], [("sms", "Other")])
        headers = {"idempotency-key": "shared"}
        a = api.call("POST", "/v1/messages", SMS_V1, headers=headers)
        other_auth = basic_auth(other["api_key"], other["api_secret"])
        b = api.call("POST", "/v1/messages", {**SMS_V1, "from": "Other"}, headers={**headers, "authorization": other_auth})
        assert a[0] == b[0] == 202
        assert a[2] != b[2]

    def test_in_flight_is_409(self, api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
        from switchboard.api import message_acceptor as send

        original = send.MessageAcceptor.accept
        nested: dict[str, Any] = {}

        def accept_and_retry_meanwhile(self: Any, message: Any, principal: Any) -> dict:
            nested["response"] = api.call("POST", "/v1/messages", SMS_V1, headers={"idempotency-key": "slow"})
            return original(self, message, principal)

        monkeypatch.setattr(send.MessageAcceptor, "accept", accept_and_retry_meanwhile)
        status, _, _ = api.call("POST", "/v1/messages", SMS_V1, headers={"idempotency-key": "slow"})
        assert status == 202
        nested_status, nested_headers, nested_body = nested["response"]
        assert_problem(nested_status, nested_headers, nested_body, 409)

    def test_failed_request_does_not_burn_the_key(self, api: Api) -> None:
        headers = {"idempotency-key": "fix-me"}
        assert api.call("POST", "/v1/messages", {**SMS_V1, "text": ""}, headers=headers)[0] == 422
        assert api.call("POST", "/v1/messages", SMS_V1, headers=headers)[0] == 202

    def test_blank_key_is_a_validation_error(self, api: Api) -> None:
        status, _, out = api.call("POST", "/v1/messages", SMS_V1, headers={"idempotency-key": "   "})
        assert status == 422
        assert out["invalid_parameters"][0]["name"] == "Idempotency-Key"


def test_enqueue_error_after_the_message_was_taken_is_still_202(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The enqueue timed out but had landed, and a sender took the message: it is accepted, not refused."""
    from switchboard.adapters.sqs.outbound_queue import OutboundQueue
    from tests.support.stores import MessagesTable

    real_enqueue = OutboundQueue.enqueue

    def lands_then_times_out(self: Any, message_uuid: str, delay_seconds: int = 0, tenant: str | None = None) -> None:
        real_enqueue(self, message_uuid, delay_seconds, tenant)
        MessagesTable().claim(message_uuid, "sender-token", 2_000_000_000)
        raise TimeoutError("read timeout")

    monkeypatch.setattr(OutboundQueue, "enqueue", lands_then_times_out)
    status, _, out = api.call("POST", "/v1/messages", SMS_V1)
    assert status == 202
    assert api.record(out["message_uuid"])["status"] == "sending"
    assert len(api.queued()) == 1


class TestLookup:
    def test_owner_sees_the_message_with_its_history(self, api: Api) -> None:
        _, _, sent = api.call("POST", "/v0.1/messages", MESSENGER_V01)
        status, headers, out = api.call("GET", f"/v0.1/messages/{sent['message_uuid']}")
        assert status == 200, out
        assert headers["content-type"] == "application/json"
        assert out["message_uuid"] == sent["message_uuid"]
        assert out["channel"] == "messenger"
        assert out["to"] == MESSENGER_V01["to"] and out["from"] == MESSENGER_V01["from"]
        assert out["client_ref"] == "order-1"
        assert out["status"] == "accepted"
        assert [h["status"] for h in out["history"]] == ["accepted"]
        assert out["webhook_attempts"] == []
        assert out["_links"]["self"]["href"] == f"/v0.1/messages/{sent['message_uuid']}"

    def test_the_webhook_attempts_kept_apart_from_the_record_are_shown(self, api: Api) -> None:
        from tests.support.stores import MessagesTable

        _, _, sent = api.call("POST", "/v1/messages", VIBER_V1)
        attempt = {"webhook": "status:submitted", "kind": "status", "status": "submitted", "attempt": 1,
                   "at": "2026-09-21T14:13:21.000Z", "outcome": "delivered", "target": "account", "http_status": 200}
        MessagesTable().record_webhook_attempt(sent["message_uuid"], attempt)

        status, _, out = api.call("GET", f"/v1/messages/{sent['message_uuid']}")

        assert status == 200
        assert out["webhook_attempts"] == [attempt]
        assert "webhook_attempts" not in api.record(sent["message_uuid"])

    def test_v1_view_is_flat(self, api: Api) -> None:
        _, _, sent = api.call("POST", "/v1/messages", VIBER_V1)
        status, _, out = api.call("GET", f"/v1/messages/{sent['message_uuid']}")
        assert status == 200
        assert (out["channel"], out["to"], out["from"]) == ("viber_service", "447700900000", VIBER_SERVICE)

    def test_the_accounts_application_sees_it_too(self, api: Api) -> None:
        _, _, sent = api.call("POST", "/v1/messages", SMS_V1)
        status, _, _ = api.call("GET", f"/v1/messages/{sent['message_uuid']}", headers={"authorization": api.jwt()})
        assert status == 200

    def test_rejected_message_shows_its_error(self, api: Api) -> None:
        _, _, sent = api.call("POST", "/v1/messages", SMS_V1)
        from tests.support.stores import MessagesTable

        store = MessagesTable()
        store.claim(sent["message_uuid"], "t", 2_000_000_000)
        store.mark_rejected(sent["message_uuid"], "t", {"code": 1300, "reason": "Not part of the provider network"})
        _, _, out = api.call("GET", f"/v1/messages/{sent['message_uuid']}")
        assert out["status"] == "rejected"
        assert out["error"] == {"code": 1300, "reason": "Not part of the provider network"}
        assert [h["status"] for h in out["history"]] == ["accepted", "sending", "rejected"] or out["history"][-1]["status"] == "rejected"

    def test_other_accounts_get_404_like_an_unknown_id(self, api: Api) -> None:
        from switchboard.provisioning import provision_account
        from tests.support.stores import AccountStore

        _, _, sent = api.call("POST", "/v1/messages", SMS_V1)
        other = provision_account(AccountStore())
        other_auth = {"authorization": basic_auth(other["api_key"], other["api_secret"])}
        foreign = api.call("GET", f"/v1/messages/{sent['message_uuid']}", headers=other_auth)
        unknown = api.call("GET", "/v1/messages/00000000-0000-4000-8000-000000000000", headers=other_auth)
        assert_problem(*foreign, expected_status=404)
        assert_problem(*unknown, expected_status=404)
        assert foreign[2]["title"] == unknown[2]["title"]

    @pytest.mark.parametrize("message_id", ["not-a-uuid", "%00", "x" * 300])
    def test_malformed_ids_are_404(self, api: Api, message_id: str) -> None:
        assert_problem(*api.call("GET", f"/v1/messages/{message_id}"), expected_status=404)

    def test_lookup_needs_credentials(self, api: Api) -> None:
        status, _, _ = api.call("GET", "/v1/messages/00000000-0000-4000-8000-000000000000", headers={"authorization": ""})
        assert status == 401

    def test_wrong_method_on_a_message_is_405(self, api: Api) -> None:
        status, headers, out = api.call("DELETE", "/v1/messages/00000000-0000-4000-8000-000000000000")
        assert_problem(status, headers, out, 405)
        assert headers["allow"] == "GET, PATCH"

    def test_beta_has_no_lookup(self, api: Api) -> None:
        assert_problem(*api.call("GET", "/beta/messages/00000000-0000-4000-8000-000000000000"), expected_status=404)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://0x7f000001/",
        "http://unresolvable.invalid/x", "ftp://example.com/x",
        # read as 8.8.8.8 by urlsplit but as 127.0.0.1:3480 by urllib3
        "http://127.0.0.1:3480\\@8.8.8.8/", "http://8.8.8.8@127.0.0.1/", "http://user:pw@hooks.example.com/",
        "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://0177.0.0.1/", "http://2130706433/",
    ],
)
def test_v1_webhook_url_must_be_a_public_http_target(api: Api, url: str) -> None:
    status, headers, out = api.call("POST", "/v1/messages", {**SMS_V1, "webhook_url": url})
    assert_problem(status, headers, out, 422)
    assert [p["name"] for p in out["invalid_parameters"]] == ["webhook_url"]
    assert api.queued() == []


def test_v1_webhook_url_is_kept_on_the_record(api: Api) -> None:
    status, _, out = api.call("POST", "/v1/messages", {**SMS_V1, "webhook_url": "https://hooks.example.com/status"})
    assert status == 202, out
    assert api.record(out["message_uuid"])["webhook_url"] == "https://hooks.example.com/status"


def test_a_deployment_missing_a_setting_fails_its_first_invocation_naming_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from switchboard.settings import SettingsError
    from tests.support.wiring import forget_wired_functions

    monkeypatch.delenv("OUTBOUND_QUEUE_URL")
    forget_wired_functions()  # a cold start of the misconfigured function

    with pytest.raises(SettingsError, match="ApiFunction: missing OUTBOUND_QUEUE_URL"):
        api.call("GET", "/health")
    forget_wired_functions()


def test_a_queued_message_is_grouped_by_its_account_for_fair_queues(api: Api) -> None:
    status, _, out = api.call("POST", "/v1/messages", SMS_V1)
    assert status == 202, out
    sqs = api.aws.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=api.aws.env["OUTBOUND_QUEUE_URL"], MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"]
    )["Messages"]
    assert [json.loads(m["Body"]) for m in messages] == [{"message_uuid": out["message_uuid"]}]
    assert messages[0]["Attributes"]["MessageGroupId"] == api.account["api_key"]
