"""The outbound pipeline end to end: the send API over HTTP(S), the queue, the sender, the provider simulators.

Every channel through every API version must reach its provider exactly once, in the provider's own
format; transient provider failures are retried with back-off and permanent ones rejected with the
mapped Nexmo code; a duplicated SQS delivery must never send twice; JWT and HTTPS work as a client
uses them; errors are RFC 7807 problems over real HTTP.

The format cases and provider scenarios are all sent up front by ``sent_messages`` (module scope),
so their waits (the retries' back-off above all) overlap; each test then only checks its own message.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest

from local_stack.simulators import DEMO_PAGE_ID, DEMO_VIBER_SERVICE_ID, MESSENGER_API_VERSION
from tests.support.stack import ROOT, RunningStack
from tests.support.stack_requests import (
    DELIVERY_SUBMITTED,
    NOT_ON_NETWORK,
    REJECTED,
    SENT_STATUSES,
    SERVER_ERROR_TWICE,
    SUBMITTED,
    THROTTLED_ONCE,
    SendRequest,
    assert_problem,
    channels_secret,
    handled_deliveries,
    history_statuses,
    lookup,
    post_message,
    post_messages,
    provider_requests_to,
    run_in_parallel,
    sender_log_records,
    unique_msisdn,
    unique_psid,
    unique_text,
    wait_until_all_settled,
    wait_until_settled,
)

pytestmark = pytest.mark.integration

BETA, V0_1, V1 = "/beta/messages", "/v0.1/messages", "/v1/messages"
SMS_PATH = "/sms/sms/json"
VIBER_PATH = "/viber/send_message"
MESSENGER_PATH = f"/messenger/{MESSENGER_API_VERSION}/me/messages?access_token=***"
VIBER_SERVICE_ID = int(DEMO_VIBER_SERVICE_ID)
VIBER_TEXT_TYPE = 106
VIBER_IMAGE_TYPE = 107
VIBER_IMAGE_TEXT_TYPE = 108  # an image with a caption: the caption is the text
NO_BUTTON = {"#caption": "", "#action": ""}
MAX_VIBER_SEQ = 2**63 - 1
SMS_SENDER_NUMBER = "447700900001"
DUPLICATE_DELIVERIES = 3


def lookup_version(send_path: str) -> str:
    """The lookup API of the request format: beta has none, it shares v0.1's nested view."""
    return "v1" if send_path == V1 else "v0.1"


# -- building requests ----------------------------------------------------------------------------


def nested_sms(to: str, text: str, sender: str = SMS_SENDER_NUMBER) -> dict[str, Any]:
    return {
        "from": {"type": "sms", "number": sender},
        "to": {"type": "sms", "number": to},
        "message": {"content": {"type": "text", "text": text}},
    }


def flat_sms(to: str, text: str, sender: str = SMS_SENDER_NUMBER, **extra: Any) -> dict[str, Any]:
    return {"from": sender, "to": to, "channel": "sms", "message_type": "text", "text": text, **extra}


def nested_content(content_type: str, value: str) -> dict[str, Any]:
    if content_type == "text":
        return {"type": "text", "text": value}
    return {"type": content_type, content_type: {"url": value}}


def flat_content(content_type: str, value: str) -> dict[str, Any]:
    if content_type == "text":
        return {"message_type": "text", "text": value}
    return {"message_type": content_type, content_type: {"url": value}}


def nested_messenger(
    psid: str, content_type: str, value: str, options: dict[str, str] | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {"content": nested_content(content_type, value)}
    if options is not None:
        message["messenger"] = options
    return {
        "from": {"type": "messenger", "id": DEMO_PAGE_ID},
        "to": {"type": "messenger", "id": psid},
        "message": message,
    }


def flat_messenger(
    psid: str, content_type: str, value: str, options: dict[str, str] | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"from": DEMO_PAGE_ID, "to": psid, "channel": "messenger"}
    body.update(flat_content(content_type, value))
    if options is not None:
        body["messenger"] = options
    return body


def nested_viber(
    to: str, content: dict[str, Any], options: dict[str, Any] | None = None
) -> dict[str, Any]:
    message: dict[str, Any] = {"content": content}
    if options is not None:
        message["viber_service_msg"] = options
    return {
        "from": {"type": "viber_service_msg", "id": DEMO_VIBER_SERVICE_ID},
        "to": {"type": "viber_service_msg", "number": to},
        "message": message,
    }


def flat_viber(to: str, content: dict[str, Any], options: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"from": DEMO_VIBER_SERVICE_ID, "to": to, "channel": "viber_service", **content}
    if options is not None:
        body["viber_service"] = options
    return body


def media_url(name: str) -> str:
    return f"https://media.example.com/{uuid.uuid4().hex}/{name}"


# -- the scenarios --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OutboundCase:
    """One message sent through the API and the provider request it must turn into.

    ``expected_body`` is the provider request body without the parts that depend on the message
    uuid or the deployment: the SMS credentials and ``client-ref``, and Viber's ``seq``.
    """

    id: str
    request: SendRequest
    provider: str
    recipient: str
    expected_path: str
    expected_body: dict[str, Any]


def sms_case(case_id: str, path: str, body: dict[str, Any], expected_form: dict[str, str]) -> OutboundCase:
    recipient = expected_form["to"]
    return OutboundCase(case_id, SendRequest(path, body), "sms", recipient, SMS_PATH, expected_form)


def sms_cases() -> list[OutboundCase]:
    beta_to, beta_text = unique_msisdn(), unique_text("SMS through beta")
    v01_to, v01_text = unique_msisdn(), unique_text("SMS through v0.1 ✓ Привет")
    v1_to, v1_text = unique_msisdn(), unique_text("SMS through v1")
    return [
        sms_case(
            "sms-beta",
            BETA,
            nested_sms(beta_to, beta_text),
            {"from": SMS_SENDER_NUMBER, "to": beta_to, "text": beta_text, "type": "text", "status-report-req": "1"},
        ),
        sms_case(
            "sms-v0.1-unicode-alphanumeric-sender",
            V0_1,
            nested_sms(v01_to, v01_text, sender="Acme"),
            {"from": "Acme", "to": v01_to, "text": v01_text, "type": "unicode", "status-report-req": "1"},
        ),
        sms_case(
            "sms-v1-ttl-encoding",
            V1,
            flat_sms(v1_to, v1_text, ttl=600, sms={"encoding_type": "unicode"}, client_ref="order-1234"),
            {
                "from": SMS_SENDER_NUMBER,
                "to": v1_to,
                "text": v1_text,
                "type": "unicode",
                "ttl": "600000",  # v1 gives seconds, the SMS API takes milliseconds
                "status-report-req": "1",
            },
        ),
    ]


# (content type, messenger options as sent, messaging_type and tag expected at the Send API)
MESSENGER_VARIANTS: list[tuple[str, dict[str, str] | None, str, str | None]] = [
    ("text", None, "RESPONSE", None),
    ("image", {"category": "message_tag", "tag": "ticket_update"}, "MESSAGE_TAG", "TICKET_UPDATE"),
    ("audio", {"category": "update"}, "UPDATE", None),
    ("video", {"category": "message_tag", "tag": "Shipping_Update"}, "MESSAGE_TAG", "SHIPPING_UPDATE"),
    ("file", {"category": "response"}, "RESPONSE", None),
]
# v1 refuses the 2018 tags Facebook retired; it sends the current ones.
V1_MESSENGER_VARIANTS: list[tuple[str, dict[str, str] | None, str, str | None]] = [
    ("text", None, "RESPONSE", None),
    ("image", {"category": "message_tag", "tag": "confirmed_event_update"}, "MESSAGE_TAG", "CONFIRMED_EVENT_UPDATE"),
    ("audio", {"category": "update"}, "UPDATE", None),
    ("video", {"category": "message_tag", "tag": "Customer_Feedback"}, "MESSAGE_TAG", "CUSTOMER_FEEDBACK"),
    ("file", {"category": "response"}, "RESPONSE", None),
]


def messenger_cases() -> list[OutboundCase]:
    cases = []
    versions = ((V0_1, nested_messenger, MESSENGER_VARIANTS), (V1, flat_messenger, V1_MESSENGER_VARIANTS))
    for path, build, variants in versions:
        for content_type, options, messaging_type, tag in variants:
            psid = unique_psid()
            if content_type == "text":
                value = unique_text(f"Messenger text through {path}")
                message: dict[str, Any] = {"text": value}
            else:
                value = media_url(f"sample.{content_type}")
                message = {"attachment": {"type": content_type, "payload": {"url": value, "is_reusable": True}}}
            expected: dict[str, Any] = {"messaging_type": messaging_type, "recipient": {"id": psid}, "message": message}
            if tag is not None:
                expected["tag"] = tag
            cases.append(
                OutboundCase(
                    f"messenger-{lookup_version(path)}-{content_type}",
                    SendRequest(path, build(psid, content_type, value, options)),
                    "messenger",
                    psid,
                    MESSENGER_PATH,
                    expected,
                )
            )
    return cases


def viber_case(
    case_id: str, path: str, to: str, content: dict[str, Any], options: dict[str, Any] | None, expected: dict[str, Any]
) -> OutboundCase:
    body = flat_viber(to, content, options) if path == V1 else nested_viber(to, content, options)
    expected_body = {"service_id": VIBER_SERVICE_ID, "dest": to, **expected}
    return OutboundCase(case_id, SendRequest(path, body), "viber", to, VIBER_PATH, expected_body)


def viber_cases() -> list[OutboundCase]:
    numbers = [unique_msisdn() for _ in range(6)]
    texts = [unique_text(f"Viber text {n}") for n in range(3)]
    images = [media_url(f"picture-{n}.jpg") for n in range(3)]
    return [
        viber_case(
            "viber-beta-text-defaults",
            BETA,
            numbers[0],
            {"type": "text", "text": texts[0]},
            None,
            {"type": VIBER_TEXT_TYPE, "message": {"#txt": texts[0]}, "label": "transaction"},
        ),
        viber_case(
            "viber-beta-image-ttl",
            BETA,
            numbers[1],
            {"type": "image", "image": {"url": images[0]}},
            {"category": "transaction", "ttl": 600},
            {"type": VIBER_IMAGE_TYPE, "message": {"#img": images[0]}, "ttl": 600, "label": "transaction"},
        ),
        viber_case(
            "viber-v0.1-text-ttl",
            V0_1,
            numbers[2],
            {"type": "text", "text": texts[1]},
            {"category": "transaction", "ttl": 86400},
            {"type": VIBER_TEXT_TYPE, "message": {"#txt": texts[1]}, "ttl": 86400, "label": "transaction"},
        ),
        viber_case(
            "viber-v0.1-image-caption",
            V0_1,
            numbers[3],
            {"type": "image", "image": {"url": images[1], "caption": "Your boarding pass"}},
            {"category": "transaction"},
            {
                "type": VIBER_IMAGE_TEXT_TYPE,
                "message": {"#img": images[1], "#txt": "Your boarding pass", **NO_BUTTON},
                "label": "transaction",
            },
        ),
        viber_case(
            "viber-v1-text-ttl",
            V1,
            numbers[4],
            {"message_type": "text", "text": texts[2]},
            {"category": "transaction", "ttl": 259200, "type": "string"},
            {"type": VIBER_TEXT_TYPE, "message": {"#txt": texts[2]}, "ttl": 259200, "label": "transaction"},
        ),
        viber_case(
            "viber-v1-image-caption-ttl",
            V1,
            numbers[5],
            {"message_type": "image", "image": {"url": images[2], "caption": "Receipt"}},
            {"category": "transaction", "ttl": 30},
            {
                "type": VIBER_IMAGE_TEXT_TYPE,
                "message": {"#img": images[2], "#txt": "Receipt", **NO_BUTTON},
                "ttl": 30,
                "label": "transaction",
            },
        ),
    ]


FORMAT_CASES = sms_cases() + messenger_cases() + viber_cases()


@dataclass(frozen=True)
class ProviderScenario:
    """A recipient the simulator treats specially, and what the pipeline must make of it."""

    id: str
    request: SendRequest
    provider: str
    recipient: str
    final_status: str
    provider_statuses: list[int]  # HTTP status of each provider call, in order
    error_code: int | None = None  # the rejection's Nexmo code
    retries: list[int] = field(default_factory=list)  # the error code of each scheduled retry


def scenario_request(provider: str, recipient: str, text: str) -> SendRequest:
    if provider == "sms":
        return SendRequest(V1, flat_sms(recipient, text))
    if provider == "messenger":
        return SendRequest(V0_1, nested_messenger(recipient, "text", text))
    return SendRequest(BETA, nested_viber(recipient, {"type": "text", "text": text}))


def provider_scenarios() -> list[ProviderScenario]:
    # What each provider answers the not-on-network recipient (Messenger uses HTTP 400; SMS and
    # Viber answer HTTP 200 with a refusal in the body) and the Nexmo code it maps to.
    refusals = {"sms": (200, 1050), "messenger": (400, 1300), "viber": (200, 1300)}
    scenarios = []
    for provider, (refusal_status, refusal_code) in refusals.items():
        new_recipient = unique_psid if provider == "messenger" else unique_msisdn
        for suffix in (NOT_ON_NETWORK, SERVER_ERROR_TWICE, THROTTLED_ONCE):
            recipient = new_recipient(suffix)
            request = scenario_request(provider, recipient, unique_text(f"{provider} scenario {suffix}"))
            scenario_id = f"{provider}-{suffix}"
            if suffix == NOT_ON_NETWORK:
                scenario = ProviderScenario(
                    scenario_id, request, provider, recipient, REJECTED, [refusal_status], error_code=refusal_code
                )
            elif suffix == SERVER_ERROR_TWICE:
                # HTTP 5xx: communication failed (1100), retried
                scenario = ProviderScenario(
                    scenario_id, request, provider, recipient, SUBMITTED, [500, 500, 200], retries=[1100, 1100]
                )
            else:
                # HTTP 429: throttled (1000), retried
                scenario = ProviderScenario(
                    scenario_id, request, provider, recipient, SUBMITTED, [429, 200], retries=[1000]
                )
            scenarios.append(scenario)
    return scenarios


PROVIDER_SCENARIOS = provider_scenarios()


@pytest.fixture(scope="module")
def sent_messages(stack: RunningStack) -> dict[str, str]:
    """Every format case and provider scenario sent at once: message uuids by case id."""
    cases: list[OutboundCase | ProviderScenario] = [*PROVIDER_SCENARIOS, *FORMAT_CASES]
    message_uuids = post_messages(stack, [case.request for case in cases])
    return {case.id: message_uuid for case, message_uuid in zip(cases, message_uuids)}


@pytest.fixture(scope="module")
def sms_credentials(stack: RunningStack) -> dict[str, str]:
    """What the SMS adapter must send as credentials: the API key, and the secret as the log redacts it."""
    return {"api_key": channels_secret(stack)["sms"]["api_key"], "api_secret": "***"}


# -- every channel through every API version -----------------------------------------------------


@pytest.mark.parametrize("case", FORMAT_CASES, ids=lambda case: case.id)
def test_each_channel_and_api_version_reaches_its_provider_once_in_the_providers_format(
    stack: RunningStack, sent_messages: dict[str, str], sms_credentials: dict[str, str], case: OutboundCase
) -> None:
    message_uuid = sent_messages[case.id]
    view = wait_until_settled(stack, message_uuid, lookup_version(case.request.path))

    assert view["status"] == SUBMITTED, view
    assert "error" not in view
    assert history_statuses(view) == ["accepted", "sending", "submitted"]
    sent = provider_requests_to(stack, case.provider, case.recipient)
    assert len(sent) == 1, sent
    request = sent[0]
    assert (request["method"], request["path"], request["response_status"]) == ("POST", case.expected_path, 200)

    body = dict(request["body"])
    if case.provider == "sms":
        expected = {**case.expected_body, **sms_credentials, "client-ref": message_uuid}
    elif case.provider == "viber":
        seq = body.pop("seq")
        assert isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq <= MAX_VIBER_SEQ, seq
        expected = case.expected_body
    else:
        expected = case.expected_body
    assert body == expected


def test_the_lookup_shows_each_versions_own_view_of_the_message(
    stack: RunningStack, sent_messages: dict[str, str]
) -> None:
    message_uuid = sent_messages["sms-v1-ttl-encoding"]
    wait_until_settled(stack, message_uuid)
    flat, nested = lookup(stack, message_uuid, "v1"), lookup(stack, message_uuid, "v0.1")
    case = next(each for each in FORMAT_CASES if each.id == "sms-v1-ttl-encoding")

    assert (flat["channel"], flat["to"], flat["from"]) == ("sms", case.recipient, SMS_SENDER_NUMBER)
    assert nested["to"] == {"type": "sms", "number": case.recipient}
    assert flat["client_ref"] == nested["client_ref"] == "order-1234"
    assert flat["status"] == nested["status"] == SUBMITTED

    viber_uuid = sent_messages["viber-beta-text-defaults"]
    wait_until_settled(stack, viber_uuid, "v0.1")
    assert lookup(stack, viber_uuid, "v1")["channel"] == "viber_service"
    assert lookup(stack, viber_uuid, "v0.1")["channel"] == "viber_service_msg"


def test_a_viber_promotion_is_labelled_promotion_after_a_transaction_message(stack: RunningStack) -> None:
    number = unique_msisdn()
    transaction = flat_viber(number, {"message_type": "text", "text": unique_text("Viber transaction")})
    first = post_message(stack, SendRequest(V1, transaction))
    assert wait_until_settled(stack, first)["status"] == SUBMITTED

    promotion_text = unique_text("Viber promotion")
    promotion = SendRequest(
        V1,
        flat_viber(number, {"message_type": "text", "text": promotion_text}, {"category": "promotion", "ttl": 3600}),
    )

    def send_promotion() -> str | None:
        # The sender records the transaction contact just after marking the first message submitted.
        response = stack.post(promotion.path, json=promotion.body, auth=stack.auth)
        if response.status_code == 422:
            names = [parameter["name"] for parameter in response.json()["invalid_parameters"]]
            assert names == ["viber_service.category"], response.text
            return None
        assert response.status_code == 202, response.text
        return response.json()["message_uuid"]

    second = stack.wait_for(send_promotion, timeout=30, interval=0.2, what="the promotion to be accepted")
    assert wait_until_settled(stack, second)["status"] == SUBMITTED

    sent = provider_requests_to(stack, "viber", number)
    assert [request["body"]["label"] for request in sent] == ["transaction", "promotion"]
    promotion_body = sent[1]["body"]
    assert promotion_body["message"] == {"#txt": promotion_text}
    assert (promotion_body["type"], promotion_body["ttl"]) == (VIBER_TEXT_TYPE, 3600)
    assert promotion_body["seq"] != sent[0]["body"]["seq"]


# -- permanent and transient provider failures --------------------------------------------------


@pytest.mark.parametrize("scenario", PROVIDER_SCENARIOS, ids=lambda scenario: scenario.id)
def test_provider_refusals_and_transient_failures_end_in_the_right_status(
    stack: RunningStack, sent_messages: dict[str, str], scenario: ProviderScenario
) -> None:
    message_uuid = sent_messages[scenario.id]
    view = wait_until_settled(stack, message_uuid, lookup_version(scenario.request.path))
    calls = provider_requests_to(stack, scenario.provider, scenario.recipient)

    assert [call["response_status"] for call in calls] == scenario.provider_statuses, calls
    # A retry sends the very same request (for Viber: the same seq, so Viber could spot a duplicate).
    assert all(call["body"] == calls[0]["body"] for call in calls)

    statuses = history_statuses(view)
    retries = [entry for entry in view["history"] if entry.get("event") == "retry_scheduled"]
    assert [(entry["attempt"], entry["error"]["code"]) for entry in retries] == list(
        enumerate(scenario.retries, start=1)
    )
    if len(retries) > 1:
        assert retries[1]["retry_in_seconds"] == 2 * retries[0]["retry_in_seconds"] > 0
    attempts = len(scenario.provider_statuses)
    expected_history = ["accepted"] + ["sending", "accepted"] * (attempts - 1) + ["sending", scenario.final_status]

    if scenario.final_status == REJECTED:
        assert view["status"] == REJECTED
        assert view["error"]["code"] == scenario.error_code
        assert statuses == expected_history
        assert view["history"][-1]["error"]["code"] == scenario.error_code
    else:
        assert view["status"] in SENT_STATUSES
        assert "error" not in view
        # Delivery reports, once processed, may append entries after "submitted".
        assert statuses[: len(expected_history)] == expected_history
        assert sum(1 for call in calls if 200 <= call["response_status"] < 300) == 1


# -- duplicated SQS deliveries ------------------------------------------------------------------


def one_of_each_channel() -> list[tuple[str, str, SendRequest]]:
    """(provider, recipient, request) for an SMS, a Messenger and a Viber message."""
    sms_to, psid, viber_to = unique_msisdn(), unique_psid(), unique_msisdn()
    return [
        ("sms", sms_to, SendRequest(V1, flat_sms(sms_to, unique_text("Duplicate SMS")))),
        ("messenger", psid, SendRequest(V1, flat_messenger(psid, "text", unique_text("Duplicate Messenger")))),
        (
            "viber",
            viber_to,
            SendRequest(V1, flat_viber(viber_to, {"message_type": "text", "text": unique_text("Duplicate Viber")})),
        ),
    ]


def enqueue_duplicates(stack: RunningStack, message_uuid: str, count: int) -> None:
    """Put ``count`` more copies of the message's outbound record on the queue, as an SQS redelivery would."""
    body = f'{{"message_uuid": "{message_uuid}"}}'
    entries = [{"Id": str(n), "MessageBody": body} for n in range(count)]
    result = stack.boto3_client("sqs").send_message_batch(QueueUrl=stack.outputs()["OutboundQueueUrl"], Entries=entries)
    assert not result.get("Failed"), result


def assert_sent_once_after_all_deliveries(
    stack: RunningStack, messages: list[tuple[str, str, str]], deliveries: int
) -> None:
    """Wait until the sender handled ``deliveries`` deliveries of each message; each reached its provider once."""
    for provider, recipient, message_uuid in messages:
        try:
            stack.wait_for(
                lambda: len(handled_deliveries(stack, message_uuid)) >= deliveries,
                timeout=60,
                interval=0.2,
                what=f"{deliveries} deliveries of {provider} message {message_uuid} to be handled",
            )
        except pytest.fail.Exception as timed_out:
            sender_log = [record.get("message") for record in sender_log_records(stack, message_uuid)]
            history = history_statuses(lookup(stack, message_uuid))
            requests_sent = len(provider_requests_to(stack, provider, recipient))
            pytest.fail(
                f"{timed_out}; sender log: {sender_log}; history: {history}; provider requests: {requests_sent}"
            )
        handled = handled_deliveries(stack, message_uuid)
        sent = provider_requests_to(stack, provider, recipient)
        view = lookup(stack, message_uuid)
        assert len(sent) == 1, sent
        assert handled.count(DELIVERY_SUBMITTED) == 1, handled
        assert view["status"] == SUBMITTED
        assert history_statuses(view) == ["accepted", "sending", "submitted"]


def test_redelivering_a_submitted_messages_queue_record_sends_nothing_again(stack: RunningStack) -> None:
    channels = one_of_each_channel()
    message_uuids = post_messages(stack, [request for _, _, request in channels])
    views = wait_until_all_settled(stack, message_uuids)
    assert views and all(view["status"] == SUBMITTED for view in views.values()), views

    run_in_parallel([lambda each=each: enqueue_duplicates(stack, each, DUPLICATE_DELIVERIES) for each in message_uuids])

    messages = [(provider, recipient, each) for (provider, recipient, _), each in zip(channels, message_uuids)]
    assert_sent_once_after_all_deliveries(stack, messages, deliveries=1 + DUPLICATE_DELIVERIES)


def test_duplicates_queued_next_to_the_original_record_send_only_once(stack: RunningStack) -> None:
    channels = one_of_each_channel()

    message_uuids = []
    for _, _, request in channels:
        message_uuid = post_message(stack, request)
        enqueue_duplicates(stack, message_uuid, DUPLICATE_DELIVERIES)  # while the original is still queued
        message_uuids.append(message_uuid)

    messages = [(provider, recipient, each) for (provider, recipient, _), each in zip(channels, message_uuids)]
    assert_sent_once_after_all_deliveries(stack, messages, deliveries=1 + DUPLICATE_DELIVERIES)


# -- JWT and HTTPS --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cli_jwt(stack: RunningStack) -> str:
    """A token from ``switchboard jwt generate`` for the demo application, as a developer makes one."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard.cli",
            "jwt",
            "generate",
            "--application-id",
            stack.application_id,
            "--private-key",
            stack.private_key_path,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    token = completed.stdout.strip()
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert jwt.decode(token, options={"verify_signature": False})["application_id"] == stack.application_id
    return token


def wait_for_submitted(stack: RunningStack, lookup_url: str, **request_options: Any) -> dict[str, Any]:
    """The lookup at ``lookup_url`` (path or absolute URL) once it says ``submitted``."""

    def submitted() -> dict[str, Any] | None:
        response = stack.get(lookup_url, **request_options)
        assert response.status_code == 200, response.text
        view = response.json()
        return view if view["status"] == SUBMITTED else None

    return stack.wait_for(submitted, timeout=60, interval=0.2, what=f"{lookup_url} to say submitted")


def test_one_cli_generated_jwt_authorises_several_requests(stack: RunningStack, cli_jwt: str) -> None:
    bearer = {"Authorization": f"Bearer {cli_jwt}"}
    sms_to, psid, viber_to = unique_msisdn(), unique_psid(), unique_msisdn()
    requests_to_send = [
        ("sms", sms_to, SendRequest(BETA, nested_sms(sms_to, unique_text("JWT SMS")))),
        ("messenger", psid, SendRequest(V0_1, nested_messenger(psid, "text", unique_text("JWT Messenger")))),
        (
            "viber",
            viber_to,
            SendRequest(V1, flat_viber(viber_to, {"message_type": "text", "text": unique_text("JWT Viber")})),
        ),
    ]

    message_uuids = []
    for _, _, request in requests_to_send:
        response = stack.post(request.path, json=request.body, headers=bearer)
        assert response.status_code == 202, response.text
        message_uuids.append(response.json()["message_uuid"])

    for (provider, recipient, request), message_uuid in zip(requests_to_send, message_uuids):
        lookup_url = f"/{lookup_version(request.path)}/messages/{message_uuid}"
        view = wait_for_submitted(stack, lookup_url, headers=bearer)
        assert view["message_uuid"] == message_uuid
        assert len(provider_requests_to(stack, provider, recipient)) == 1


def test_the_api_over_https_with_the_generated_certificate(stack: RunningStack, cli_jwt: str) -> None:
    sms_to, psid = unique_msisdn(), unique_psid()
    sms_text, messenger_text = unique_text("HTTPS SMS"), unique_text("HTTPS Messenger")

    basic = stack.post(f"{stack.https_url}{V1}", json=flat_sms(sms_to, sms_text), auth=stack.auth)
    assert basic.status_code == 202, basic.text
    bearer = stack.post(
        f"{stack.https_url}{V0_1}",
        json=nested_messenger(psid, "text", messenger_text),
        headers={"Authorization": f"Bearer {cli_jwt}"},
    )
    assert bearer.status_code == 202, bearer.text

    for provider, recipient, message_uuid, version in (
        ("sms", sms_to, basic.json()["message_uuid"], "v1"),
        ("messenger", psid, bearer.json()["message_uuid"], "v0.1"),
    ):
        view = wait_for_submitted(stack, f"{stack.https_url}/{version}/messages/{message_uuid}", auth=stack.auth)
        assert view["message_uuid"] == message_uuid
        assert len(provider_requests_to(stack, provider, recipient)) == 1

    refused = stack.post(f"{stack.https_url}{V1}", json=flat_sms(sms_to, sms_text), auth=(stack.api_key, "wrong"))
    assert_problem(refused, 401, "Unauthorized")


# -- errors over real HTTP ------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorCase:
    id: str
    method: str
    path: str
    status: int
    title: str
    authenticated: bool = True
    data: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expected_headers: dict[str, str] = field(default_factory=dict)
    detail_mentions: str = ""


CURL_FORM_BODY = "from=447700900001&to=447700900000&text=hello"

ERROR_CASES = [
    ErrorCase(
        "401-no-credentials",
        "POST",
        V1,
        401,
        "Unauthorized",
        authenticated=False,
        data='{"channel": "sms"}',
        headers={"Content-Type": "application/json"},
        expected_headers={"WWW-Authenticate": 'Basic realm="switchboard", Bearer'},
    ),
    ErrorCase(
        "415-curl-form-body",
        "POST",
        V0_1,
        415,
        "Unsupported Media Type",
        data=CURL_FORM_BODY,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        detail_mentions="application/x-www-form-urlencoded",
    ),
    ErrorCase(
        "400-invalid-json",
        "POST",
        BETA,
        400,
        "Invalid JSON",
        data='{"from": {"type": "sms", "number": ',
        headers={"Content-Type": "application/json"},
    ),
    ErrorCase("404-unknown-route", "POST", "/v2/messages", 404, "Not Found", data="{}", detail_mentions="/v2/messages"),
    ErrorCase("404-unknown-message", "GET", f"/v1/messages/{uuid.uuid4()}", 404, "Not Found"),
    ErrorCase("405-get-on-send", "GET", V1, 405, "Method Not Allowed", expected_headers={"Allow": "POST"}),
    ErrorCase(
        "405-delete-on-lookup",
        "DELETE",
        f"/v0.1/messages/{uuid.uuid4()}",
        405,
        "Method Not Allowed",
        expected_headers={"Allow": "GET"},
    ),
]


@pytest.mark.parametrize("case", ERROR_CASES, ids=lambda case: case.id)
def test_errors_are_problem_json_with_a_trace_id(stack: RunningStack, case: ErrorCase) -> None:
    response = stack.request(
        case.method,
        case.path,
        data=case.data,
        headers=case.headers,
        auth=stack.auth if case.authenticated else None,
    )

    problem = assert_problem(response, case.status, case.title)
    for name, value in case.expected_headers.items():
        assert response.headers[name] == value
    assert case.detail_mentions in problem["detail"]
