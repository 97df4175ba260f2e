"""The provider simulators answer like Messenger, Viber and the Nexmo SMS API, by recipient suffix."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import requests

from local_stack.simulators import (
    DEMO_PAGE_ID,
    DEMO_VIBER_SERVICE_ID,
    MESSENGER_API_VERSION,
    ProviderSimulators,
    Scenario,
    ScheduledReport,
    scenarios,
)
from local_stack.simulators.http_server import BackgroundHttpServer, HttpRequest, HttpResponse
from local_stack.simulators.jsonl import JsonLinesLog
from local_stack.simulators.reports import (
    HttpPoster,
    ProviderWebhook,
    ReportDispatcher,
    ReportSecrets,
    report_webhook,
    sms_report,
)
from switchboard.domain.message import Channel
from switchboard.domain.provider_events import StatusReceipt, WatermarkReceipt
from switchboard.receipts import messenger_webhook as messenger_webhooks
from switchboard.receipts import sms_webhook as sms_webhooks
from switchboard.receipts import sms_signature
from switchboard.receipts import viber_webhook as viber_webhooks

PSID = "2918374650012"
MSISDN = "447700900123"


@pytest.fixture
def simulators(tmp_path) -> Iterator[ProviderSimulators]:
    sims = ProviderSimulators(tmp_path / "state")
    sims.start()
    yield sims
    sims.stop()


@pytest.fixture
def secret(simulators: ProviderSimulators) -> dict[str, Any]:
    return simulators.channels_secret()


def with_suffix(number: str, suffix: str) -> str:
    return number[:-4] + suffix


# ------------------------------------------------------------------ request helpers


def messenger_body(psid: str = PSID, text: str = "hello") -> dict[str, Any]:
    return {"messaging_type": "UPDATE", "recipient": {"id": psid}, "message": {"text": text}}


def post_messenger(secret: dict[str, Any], body: Any, token: str | None = "page") -> requests.Response:
    config = secret["messenger"]
    params = {}
    if token == "page":
        params["access_token"] = config["pages"][DEMO_PAGE_ID]
    elif token is not None:
        params["access_token"] = token
    url = f"{config['api_base']}/{config['api_version']}/me/messages"
    if isinstance(body, (bytes, str)):
        return requests.post(
            url, params=params, data=body, headers={"Content-Type": "application/json"}, timeout=5
        )
    return requests.post(url, params=params, json=body, timeout=5)


def viber_body(dest: str = MSISDN, seq: int = 41, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "service_id": int(DEMO_VIBER_SERVICE_ID),
        "dest": dest,
        "seq": seq,
        "type": 106,
        "message": {"#txt": "hello"},
        "ttl": 86400,
        "label": "transaction",
    }
    return body | changes


def post_viber(secret: dict[str, Any], body: Any) -> requests.Response:
    url = f"{secret['viber']['api_base']}/send_message"
    if isinstance(body, (bytes, str)):
        return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=5)
    return requests.post(url, json=body, timeout=5)


def sms_form(secret: dict[str, Any], to: str = MSISDN, **changes: str | None) -> dict[str, str]:
    form = {
        "api_key": secret["sms"]["api_key"],
        "api_secret": secret["sms"]["api_secret"],
        "from": "Acme",
        "to": to,
        "text": "hello",
        "type": "text",
        "ttl": "86400000",
        "status-report-req": "true",
        "client-ref": "msg-1",
    }
    form.update(changes)  # type: ignore[arg-type]
    return {k: v for k, v in form.items() if v is not None}


def post_sms(secret: dict[str, Any], form: dict[str, str]) -> requests.Response:
    return requests.post(f"{secret['sms']['api_base']}/sms/json", data=form, timeout=5)


def sms_entry(response: requests.Response) -> dict[str, str]:
    body = response.json()
    assert body["message-count"] == "1"
    assert len(body["messages"]) == 1
    return body["messages"][0]


def report_statuses(simulators: ProviderSimulators, message_id: str) -> list[str]:
    return [r.status for r in simulators.scheduled_reports if r.message_id == message_id]


# ------------------------------------------------------------------ channels secret


def test_channels_secret_points_every_provider_at_the_running_server(simulators: ProviderSimulators) -> None:
    secret = simulators.channels_secret()
    base = f"http://127.0.0.1:{simulators.port}"

    assert simulators.port > 0
    assert secret["messenger"]["api_base"] == f"{base}/messenger"
    assert secret["messenger"]["api_version"] == MESSENGER_API_VERSION
    assert secret["messenger"]["app_secret"] and secret["messenger"]["verify_token"]
    assert list(secret["messenger"]["pages"]) == [DEMO_PAGE_ID]
    assert secret["viber"]["api_base"] == f"{base}/viber"
    assert secret["viber"]["service_ids"] == [DEMO_VIBER_SERVICE_ID]
    assert secret["viber"]["callback_secret"]
    assert secret["sms"]["api_base"] == f"{base}/sms"
    assert re.fullmatch(r"[0-9a-f]{8}", secret["sms"]["api_key"])
    assert len(secret["sms"]["api_secret"]) == 16
    assert secret["sms"]["signature_secret"]
    assert secret["sms"]["signature_method"] == "md5hash"
    json.dumps(secret)  # it is stored as a JSON secret string


def test_channels_secret_needs_the_bound_port(tmp_path) -> None:
    with pytest.raises(RuntimeError):
        ProviderSimulators(tmp_path).channels_secret()


def test_credentials_differ_between_instances(tmp_path) -> None:
    first, second = ProviderSimulators(tmp_path / "a", port=1), ProviderSimulators(tmp_path / "b", port=1)
    assert first.channels_secret()["sms"]["api_secret"] != second.channels_secret()["sms"]["api_secret"]
    assert first.channels_secret()["messenger"]["pages"] != second.channels_secret()["messenger"]["pages"]


@pytest.mark.parametrize(
    ("recipient", "scenario"),
    [
        ("447700900001", Scenario.NOT_ON_NETWORK),
        ("0002", Scenario.DELIVERY_FAILS),
        ("12340003", Scenario.NO_REPORT),
        ("12340004", Scenario.NEVER_READ),
        ("12340005", Scenario.SERVER_ERROR_TWICE),
        ("12340006", Scenario.THROTTLED_ONCE),
        ("12340007", Scenario.DELIVERED_AND_READ),
        ("00010", Scenario.DELIVERED_AND_READ),
        ("001", Scenario.DELIVERED_AND_READ),
    ],
)
def test_scenario_is_chosen_by_the_last_four_digits(recipient: str, scenario: Scenario) -> None:
    assert Scenario.for_recipient(recipient) is scenario


# ------------------------------------------------------------------ Messenger


def test_messenger_accepts_a_text_and_schedules_delivered_then_read(
    simulators: ProviderSimulators, secret: dict[str, Any]
) -> None:
    response = post_messenger(secret, messenger_body())

    assert response.status_code == 200
    body = response.json()
    assert body["recipient_id"] == PSID
    assert body["message_id"].startswith("mid.$")
    reports = [r for r in simulators.scheduled_reports if r.message_id == body["message_id"]]
    assert [r.status for r in reports] == ["delivered", "read"]
    assert all(
        r.provider == "messenger" and r.recipient == PSID and r.sender == DEMO_PAGE_ID for r in reports
    )
    assert reports[0].due_at < reports[1].due_at


def test_messenger_accepts_an_attachment_with_a_message_tag(secret: dict[str, Any]) -> None:
    body = {
        "messaging_type": "MESSAGE_TAG",
        "tag": "ACCOUNT_UPDATE",
        "recipient": {"id": PSID},
        "message": {
            "attachment": {
                "type": "image",
                "payload": {"url": "https://example.com/a.jpg", "is_reusable": True},
            }
        },
    }
    response = post_messenger(secret, body)

    assert response.status_code == 200
    assert response.json()["recipient_id"] == PSID


def test_messenger_message_ids_are_unique(secret: dict[str, Any]) -> None:
    ids = {post_messenger(secret, messenger_body()).json()["message_id"] for _ in range(3)}
    assert len(ids) == 3


def test_messenger_0001_is_no_matching_user(simulators: ProviderSimulators, secret: dict[str, Any]) -> None:
    response = post_messenger(secret, messenger_body(with_suffix(PSID, "0001")))

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "(#100) No matching user found"
    assert error["type"] == "OAuthException"
    assert error["code"] == 100
    assert error["error_subcode"] == 2018001
    assert error["fbtrace_id"]
    assert simulators.scheduled_reports == []


# Messenger has no webhook for a failed delivery: its 0002 gets no report at all.
@pytest.mark.parametrize(("suffix", "statuses"), [("0002", []), ("0003", []), ("0004", ["delivered"])])
def test_messenger_report_scenarios(
    simulators: ProviderSimulators, secret: dict[str, Any], suffix: str, statuses: list[str]
) -> None:
    response = post_messenger(secret, messenger_body(with_suffix(PSID, suffix)))

    assert response.status_code == 200
    assert report_statuses(simulators, response.json()["message_id"]) == statuses


def test_messenger_0005_fails_twice_per_distinct_message(secret: dict[str, Any]) -> None:
    psid = with_suffix(PSID, "0005")
    first = [post_messenger(secret, messenger_body(psid, "one")) for _ in range(3)]

    assert [r.status_code for r in first] == [500, 500, 200]
    error = first[0].json()["error"]
    assert error["code"] == 2 and error["is_transient"] is True and error["type"] == "OAuthException"
    assert first[2].json()["recipient_id"] == psid
    # Another message to the same person is a new request: it starts again at attempt 1.
    assert post_messenger(secret, messenger_body(psid, "two")).status_code == 500
    assert post_messenger(secret, messenger_body(psid, "one")).status_code == 200


def test_messenger_0006_is_throttled_once(secret: dict[str, Any]) -> None:
    body = messenger_body(with_suffix(PSID, "0006"))
    first, second = post_messenger(secret, body), post_messenger(secret, body)

    assert first.status_code == 429
    assert first.json()["error"]["code"] == 613
    assert second.status_code == 200


def test_messenger_refused_requests_are_not_counted_as_attempts(secret: dict[str, Any]) -> None:
    body = messenger_body(with_suffix(PSID, "0006"))
    assert post_messenger(secret, body, token="not-a-token").status_code == 400

    assert post_messenger(secret, body).status_code == 429


def test_messenger_unknown_access_token_is_oauth_190(secret: dict[str, Any]) -> None:
    response = post_messenger(secret, messenger_body(), token="EAAforged")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 190
    assert error["type"] == "OAuthException"
    assert "access token" in error["message"]


def test_messenger_missing_access_token_is_refused(secret: dict[str, Any]) -> None:
    response = post_messenger(secret, messenger_body(), token=None)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2500


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        [],
        {"messaging_type": "UPDATE", "message": {"text": "hi"}},
        {"messaging_type": "UPDATE", "recipient": {"id": ""}, "message": {"text": "hi"}},
        {"recipient": {"id": PSID}, "message": {"text": "hi"}},
        {"messaging_type": "SOMETIMES", "recipient": {"id": PSID}, "message": {"text": "hi"}},
        {"messaging_type": "MESSAGE_TAG", "recipient": {"id": PSID}, "message": {"text": "hi"}},
        {"messaging_type": "UPDATE", "recipient": {"id": PSID}},
        {"messaging_type": "UPDATE", "recipient": {"id": PSID}, "message": {}},
        {"messaging_type": "UPDATE", "recipient": {"id": PSID}, "message": {"text": ""}},
        {"messaging_type": "UPDATE", "recipient": {"id": PSID}, "message": {"text": "x" * 2001}},
        {
            "messaging_type": "UPDATE",
            "recipient": {"id": PSID},
            "message": {
                "text": "hi",
                "attachment": {"type": "image", "payload": {"url": "https://e.x/a.jpg"}},
            },
        },
        {"messaging_type": "UPDATE", "recipient": {"id": PSID}, "message": {"attachment": {"type": "gif"}}},
        {
            "messaging_type": "UPDATE",
            "recipient": {"id": PSID},
            "message": {"attachment": {"type": "image", "payload": {"url": "ftp://e.x/a.jpg"}}},
        },
        {
            "messaging_type": "UPDATE",
            "recipient": {"id": PSID},
            "message": {
                "attachment": {"type": "file", "payload": {"url": "https://e.x/a", "is_reusable": "yes"}}
            },
        },
    ],
)
def test_messenger_malformed_requests_are_invalid_parameter(
    simulators: ProviderSimulators, secret: dict[str, Any], body: Any
) -> None:
    response = post_messenger(secret, body)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 100
    assert error["type"] == "OAuthException"
    assert error["message"].startswith("(#100) ")
    assert "error_subcode" not in error
    assert simulators.scheduled_reports == []


def test_messenger_unknown_path_is_a_graph_error(secret: dict[str, Any]) -> None:
    token = secret["messenger"]["pages"][DEMO_PAGE_ID]
    response = requests.post(
        f"{secret['messenger']['api_base']}/v18.0/me/feed", params={"access_token": token}, timeout=5
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == 2500


# ------------------------------------------------------------------ Viber


def test_viber_accepts_a_text_and_schedules_delivered_then_read(
    simulators: ProviderSimulators, secret: dict[str, Any]
) -> None:
    response = post_viber(secret, viber_body(seq=77))

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 0
    assert body["status_message"] == "SRVC_SUCCESS"
    assert body["seq"] == 77
    token = body["message_token"]
    assert isinstance(token, int) and 0 < token < 2**63
    reports = [r for r in simulators.scheduled_reports if r.message_id == str(token)]
    assert [r.status for r in reports] == ["delivered", "read"]
    assert all(
        r.provider == "viber" and r.recipient == MSISDN and r.sender == DEMO_VIBER_SERVICE_ID for r in reports
    )


def test_viber_accepts_an_image_with_caption_and_no_ttl(secret: dict[str, Any]) -> None:
    message = {"#img": "https://example.com/a.jpg", "#txt": "A picture", "#caption": "", "#action": ""}
    body = viber_body(type=108, message=message)
    del body["ttl"]
    response = post_viber(secret, body)

    assert response.status_code == 200
    assert response.json()["status"] == 0


VIDEO = {"#thumbnail": "https://example.com/t.jpg", "#tracking_data": "t"}
VIDEO_SIZE = {"duration": 30, "file_size": 5 * 1024 * 1024}


@pytest.mark.parametrize(
    "changes",
    [
        {"type": 109, "message": {"#txt": "Hi", "#caption": "Open", "#action": "https://example.com/go"}},
        {"type": 108, "message": {"#img": "https://e.x/a.jpg", "#caption": "Open", "#action": "https://e.x/go"}},
        {"type": 230, "message": {"#action": "https://e.x/v.mp4", **VIDEO}, **VIDEO_SIZE},
        {"type": 231, "message": {"#action": "https://e.x/v.mp4", "#txt": "Watch", **VIDEO}, **VIDEO_SIZE},
        {
            "type": 233,
            "message": {"#media": "https://e.x/v.mp4", "#caption": "Shop", "#action": "https://e.x/go", **VIDEO},
            **VIDEO_SIZE,
        },
        {"type": 222, "message": {"#action": "https://e.x/r.pdf", "#fileName": "r.pdf"}, "file_type": "pdf"},
    ],
    ids=["text-button", "image-button", "video", "video-text", "video-button", "file"],
)
def test_viber_accepts_each_message_type_the_adapter_sends(secret: dict[str, Any], changes: dict[str, Any]) -> None:
    response = post_viber(secret, viber_body(**changes))

    assert response.json()["status"] == 0, response.json()


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"type": 999}, "SRVC_BAD_MESSAGE_TYPE"),
        ({"message": {}}, "SRVC_BAD_PARAMETERS"),
        ({"type": 107, "message": {"#img": "https://e.x/a.jpg", "#tracking_data": "t"}}, "SRVC_BAD_PARAMETERS"),
        ({"type": 230, "message": {"#action": "https://e.x/v.mp4", "#thumbnail": "https://e.x/t.jpg"}, **VIDEO_SIZE},
         "SRVC_BAD_PARAMETERS"),
        ({"type": 230, "message": {"#action": "https://e.x/v.mp4", **VIDEO}, "duration": 601, "file_size": 1},
         "SRVC_BAD_DURATION"),
        ({"type": 230, "message": {"#action": "https://e.x/v.mp4", **VIDEO}, "duration": 1,
          "file_size": 200 * 1024 * 1024 + 1}, "SRVC_BAD_FILE_SIZE"),
        ({"type": 230, "message": {"#action": "https://e.x/v.mp4", **VIDEO, "#thumbnail": "https://e.x/" + "t" * 990},
          **VIDEO_SIZE}, "SRVC_BAD_THUMBNAIL"),
        ({"type": 222, "message": {"#action": "https://e.x/r.exe", "#fileName": "r.exe"}, "file_type": "exe"},
         "SRVC_FILE_NOT_PERMITTED"),
        ({"type": 222, "message": {"#action": "https://e.x/r.pdf", "#fileName": "r" * 22 + ".pdf"}, "file_type": "pdf"},
         "SRVC_BAD_FILE_NAME_LENGTH"),
    ],
)
def test_viber_refuses_what_the_api_refuses(secret: dict[str, Any], changes: dict[str, Any], status: str) -> None:
    response = post_viber(secret, viber_body(**changes))

    assert response.status_code == 200
    assert response.json()["status_message"] == status


def test_viber_0001_is_not_a_viber_user(simulators: ProviderSimulators, secret: dict[str, Any]) -> None:
    response = post_viber(secret, viber_body(with_suffix(MSISDN, "0001"), seq=9))

    assert response.status_code == 200
    assert response.json() == {"status": 9, "status_message": "SRVC_NOT_VIBER_USER", "seq": 9}
    assert simulators.scheduled_reports == []


@pytest.mark.parametrize(
    ("suffix", "statuses"), [("0002", ["failed"]), ("0003", []), ("0004", ["delivered"])]
)
def test_viber_report_scenarios(
    simulators: ProviderSimulators, secret: dict[str, Any], suffix: str, statuses: list[str]
) -> None:
    response = post_viber(secret, viber_body(with_suffix(MSISDN, suffix)))

    assert response.json()["status"] == 0
    assert report_statuses(simulators, str(response.json()["message_token"])) == statuses


def test_viber_0005_fails_twice_per_distinct_message(secret: dict[str, Any]) -> None:
    body = viber_body(with_suffix(MSISDN, "0005"), seq=5)
    responses = [post_viber(secret, body) for _ in range(3)]

    assert [r.status_code for r in responses] == [500, 500, 200]
    assert responses[0].json() == {"status": 1, "status_message": "SRVC_INTERNAL_FAILURE", "seq": 5}
    assert responses[2].json()["status"] == 0
    assert post_viber(secret, viber_body(with_suffix(MSISDN, "0005"), seq=6)).status_code == 500


def test_viber_0006_is_throttled_once(secret: dict[str, Any]) -> None:
    body = viber_body(with_suffix(MSISDN, "0006"))
    assert [post_viber(secret, body).status_code for _ in range(2)] == [429, 200]


def test_viber_unknown_service_id_is_bad_service_id(secret: dict[str, Any]) -> None:
    response = post_viber(secret, viber_body(service_id=99999, seq=3))

    assert response.status_code == 200
    assert response.json() == {"status": 2, "status_message": "SRVC_BAD_SERVICE_ID", "seq": 3}


@pytest.mark.parametrize(
    "changes",
    [
        {"service_id": DEMO_VIBER_SERVICE_ID},  # a string, not the numeric id
        {"seq": "41"},
        {"type": None},
        {"dest": "+447700900123"},
        {"dest": "12345"},
        {"message": {"#txt": ""}},
        {"message": {"#txt": "x" * 1001}},
        {"type": 107, "message": {"#img": "not-a-url"}},
        {"type": 108, "message": {"#img": "https://e.x/a.jpg", "#caption": "c" * 31, "#action": "https://e.x"}},
        {"ttl": 10},
        {"ttl": 2_000_000},
    ],
)
def test_viber_malformed_requests_are_bad_data(secret: dict[str, Any], changes: dict[str, Any]) -> None:
    response = post_viber(secret, viber_body(**changes))

    assert response.status_code == 200
    assert response.json()["status"] == 3
    assert response.json()["status_message"] == "SRVC_BAD_DATA"


def test_viber_unparseable_body_is_bad_data_without_seq(secret: dict[str, Any]) -> None:
    response = post_viber(secret, b"{nope")

    assert response.status_code == 200
    assert response.json() == {"status": 3, "status_message": "SRVC_BAD_DATA"}


@pytest.mark.parametrize("label", [None, "marketing"])
def test_viber_missing_or_unknown_label_is_bad_label(secret: dict[str, Any], label: str | None) -> None:
    body = viber_body(label=label)
    if label is None:
        del body["label"]
    response = post_viber(secret, body)

    assert response.json()["status"] == 18
    assert response.json()["status_message"] == "SRVC_BAD_LABEL"


# ------------------------------------------------------------------ SMS


def test_sms_accepts_a_text_with_the_real_response_shape(
    simulators: ProviderSimulators, secret: dict[str, Any]
) -> None:
    response = post_sms(secret, sms_form(secret))

    assert response.status_code == 200
    entry = sms_entry(response)
    assert entry["to"] == MSISDN
    assert re.fullmatch(r"[0-9A-F]{16}", entry["message-id"])
    assert entry["status"] == "0"
    assert entry["network"] == "23410"
    assert entry["client-ref"] == "msg-1"
    assert all(isinstance(v, str) for v in entry.values())
    float(entry["remaining-balance"]), float(entry["message-price"])
    reports = [r for r in simulators.scheduled_reports if r.message_id == entry["message-id"]]
    assert [r.status for r in reports] == ["delivered"]  # SMS has no read receipts
    assert (reports[0].provider, reports[0].sender, reports[0].client_ref) == ("sms", "Acme", "msg-1")


def test_sms_accepts_query_parameters(secret: dict[str, Any]) -> None:
    response = requests.get(f"{secret['sms']['api_base']}/sms/json", params=sms_form(secret), timeout=5)

    assert sms_entry(response)["status"] == "0"


def test_sms_without_status_report_schedules_nothing(
    simulators: ProviderSimulators, secret: dict[str, Any]
) -> None:
    entry = sms_entry(post_sms(secret, sms_form(secret, **{"status-report-req": "false"})))

    assert entry["status"] == "0"
    assert simulators.scheduled_reports == []


def test_sms_0001_is_number_barred(simulators: ProviderSimulators, secret: dict[str, Any]) -> None:
    to = with_suffix(MSISDN, "0001")
    response = post_sms(secret, sms_form(secret, to=to))

    assert response.status_code == 200
    assert sms_entry(response) == {"to": to, "status": "7", "error-text": "Number barred"}
    assert simulators.scheduled_reports == []


@pytest.mark.parametrize(
    ("suffix", "statuses"), [("0002", ["failed"]), ("0003", []), ("0004", ["delivered"])]
)
def test_sms_report_scenarios(
    simulators: ProviderSimulators, secret: dict[str, Any], suffix: str, statuses: list[str]
) -> None:
    entry = sms_entry(post_sms(secret, sms_form(secret, to=with_suffix(MSISDN, suffix))))

    assert entry["status"] == "0"
    assert report_statuses(simulators, entry["message-id"]) == statuses


def test_sms_0005_fails_twice_per_distinct_message(secret: dict[str, Any]) -> None:
    form = sms_form(secret, to=with_suffix(MSISDN, "0005"))
    responses = [post_sms(secret, form) for _ in range(3)]

    assert [r.status_code for r in responses] == [500, 500, 200]
    assert sms_entry(responses[0]) == {"status": "5", "error-text": "Internal Error"}
    assert sms_entry(responses[2])["status"] == "0"
    other = sms_form(secret, to=with_suffix(MSISDN, "0005"), **{"client-ref": "msg-2"})
    assert post_sms(secret, other).status_code == 500


def test_sms_0006_is_throttled_once(secret: dict[str, Any]) -> None:
    form = sms_form(secret, to=with_suffix(MSISDN, "0006"))
    first, second = post_sms(secret, form), post_sms(secret, form)

    assert first.status_code == 429
    assert sms_entry(first) == {"status": "1", "error-text": "Throttled"}
    assert second.status_code == 200


@pytest.mark.parametrize(
    ("changes", "error_text"),
    [
        ({"api_key": "deadbeef"}, "Bad Credentials"),
        ({"api_secret": "x" * 16}, "Bad Credentials"),
        ({"api_key": "d\u00e9adbeef"}, "Bad Credentials"),
    ],
)
def test_sms_wrong_credentials_are_status_4(
    secret: dict[str, Any], changes: dict[str, str], error_text: str
) -> None:
    response = post_sms(secret, sms_form(secret, **changes))

    assert response.status_code == 200
    assert sms_entry(response) == {"status": "4", "error-text": error_text}


@pytest.mark.parametrize(
    ("changes", "status", "error_text"),
    [
        ({"api_key": None}, "2", "Missing api_key"),
        ({"api_secret": None}, "2", "Missing api_secret"),
        ({"from": None}, "2", "Missing from param"),
        ({"to": None}, "2", "Missing to param"),
        ({"text": ""}, "2", "Missing text param"),
        ({"to": "44-7700"}, "3", "Invalid to param"),
        ({"type": "binary"}, "3", "Invalid type param"),
        ({"ttl": "100"}, "3", "Invalid ttl param"),
        ({"status-report-req": "maybe"}, "3", "Invalid status-report-req param"),
        ({"from": "A sender that is far too long"}, "15", "Illegal Sender Address - rejected"),
    ],
)
def test_sms_malformed_requests(
    secret: dict[str, Any], changes: dict[str, Any], status: str, error_text: str
) -> None:
    response = post_sms(secret, sms_form(secret, **changes))

    assert response.status_code == 200
    assert sms_entry(response) == {"status": status, "error-text": error_text}


# ------------------------------------------------------------------ request log


def log_lines(simulators: ProviderSimulators) -> list[dict[str, Any]]:
    return [
        json.loads(line) for line in simulators.requests_log_path.read_text(encoding="utf-8").splitlines()
    ]


def test_every_request_is_logged_with_secrets_redacted(
    simulators: ProviderSimulators, secret: dict[str, Any]
) -> None:
    post_messenger(secret, messenger_body())
    post_viber(secret, viber_body(with_suffix(MSISDN, "0001"), seq=12))
    post_sms(secret, sms_form(secret, api_key="deadbeef"))
    post_messenger(secret, messenger_body(), token="EAAforged")

    assert simulators.requests_log_path == simulators.state_dir / "provider-requests.jsonl"
    lines = log_lines(simulators)
    assert lines == simulators.requests
    assert [(line["provider"], line["method"], line["response_status"]) for line in lines] == [
        ("messenger", "POST", 200),
        ("viber", "POST", 200),
        ("sms", "POST", 200),
        ("messenger", "POST", 400),
    ]
    messenger, viber, sms, forged = lines
    assert messenger["path"] == "/messenger/v18.0/me/messages?access_token=***"
    assert messenger["body"] == messenger_body()
    assert viber["path"] == "/viber/send_message"
    assert viber["body"] == viber_body(with_suffix(MSISDN, "0001"), seq=12)
    assert sms["path"] == "/sms/sms/json"
    assert sms["body"]["api_secret"] == "***"
    assert sms["body"]["api_key"] == "deadbeef"
    assert sms["body"]["to"] == MSISDN
    assert forged["path"].endswith("access_token=***")
    for line in lines:
        assert datetime.fromisoformat(line["received_at"]).tzinfo is not None

    text = simulators.requests_log_path.read_text(encoding="utf-8")
    assert secret["messenger"]["pages"][DEMO_PAGE_ID] not in text
    assert secret["sms"]["api_secret"] not in text
    assert "EAAforged" not in text


def test_every_logged_request_carries_the_answer_it_got(
    simulators: ProviderSimulators, secret: dict[str, Any]
) -> None:
    answers = [
        post_messenger(secret, messenger_body()),
        post_viber(secret, viber_body(with_suffix(MSISDN, "0001"), seq=12)),
        post_sms(secret, sms_form(secret)),
        post_sms(secret, sms_form(secret, api_secret="wrong-secret")),
        post_messenger(secret, messenger_body(), token="EAAforged"),
        post_viber(secret, b"{nope"),
    ]

    logged = [(line["response_status"], line["response_body"]) for line in log_lines(simulators)]
    assert logged == [(answer.status_code, answer.json()) for answer in answers]
    assert logged[0][1]["message_id"].startswith("mid.$")
    assert logged[1][1]["status_message"] == "SRVC_NOT_VIBER_USER"
    assert logged[2][1]["messages"][0]["client-ref"] == "msg-1"
    assert logged[3][1]["messages"][0]["error-text"] == "Bad Credentials"
    assert "wrong-secret" not in simulators.requests_log_path.read_text(encoding="utf-8")


def test_unparseable_bodies_are_logged_as_text(
    simulators: ProviderSimulators, secret: dict[str, Any]
) -> None:
    post_viber(secret, b"{nope")

    assert simulators.requests[-1]["body"] == "{nope"


def test_paths_outside_the_providers_are_404_and_not_logged(simulators: ProviderSimulators) -> None:
    response = requests.post(f"http://127.0.0.1:{simulators.port}/whatsapp/send", json={}, timeout=5)

    assert response.status_code == 404
    assert simulators.requests == []


def test_concurrent_requests_each_get_one_whole_log_line(
    simulators: ProviderSimulators, secret: dict[str, Any]
) -> None:
    def send(index: int) -> None:
        post_viber(secret, viber_body(seq=index))

    threads = [threading.Thread(target=send, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    lines = log_lines(simulators)
    assert sorted(line["body"]["seq"] for line in lines) == list(range(16))


def test_keep_alive_session_is_served_and_stop_does_not_wait_for_it(tmp_path) -> None:
    sims = ProviderSimulators(tmp_path)
    sims.start()
    secret = sims.channels_secret()
    with requests.Session() as session:
        url = f"{secret['viber']['api_base']}/send_message"
        statuses = [session.post(url, json=viber_body(seq=i), timeout=5).json()["status"] for i in range(3)]
        sims.stop()  # the session's connection is still open here

    assert statuses == [0, 0, 0]
    assert len(sims.requests) == 3


# ------------------------------------------------------------------ reports as provider webhooks
#
# What the simulators send must be what the API's provider webhook routes verify and parse, so these
# check each report with the API's own signature checks and parsers.

REPORT_SECRETS = ReportSecrets(
    messenger_app_secret="messenger-app-secret-0123456789",
    viber_callback_secret="viber-callback-secret-0123456789",
    sms_signature_secret="sms-signature-secret-0123456789",
    sms_signature_method="md5hash",
)
DUE_AT = datetime(2026, 11, 27, 12, 0, 1, 250_000, tzinfo=timezone.utc)
DUE_MS = 1795780801250
MID = "mid.$cAAJsujCd2ORj_1qmrFdzhVa"
VIBER_TOKEN = "5741311803571721087"
SMS_MESSAGE_ID = "0A0000001234567B"


def scheduled(
    provider: str,
    status: str,
    message_id: str,
    recipient: str,
    sender: str,
    client_ref: str | None = None,
    due_at: datetime = DUE_AT,
) -> ScheduledReport:
    return ScheduledReport(
        provider, status, due_at, message_id, recipient, sender, client_ref  # type: ignore[arg-type]
    )


def lower_headers(webhook: ProviderWebhook) -> dict[str, str]:
    return {name.lower(): value for name, value in webhook.headers.items()}


def test_messenger_delivery_report_is_a_signed_graph_webhook_the_api_parses() -> None:
    webhook = report_webhook(scheduled("messenger", "delivered", MID, PSID, DEMO_PAGE_ID), REPORT_SECRETS)

    assert webhook is not None
    assert (webhook.method, webhook.path) == ("POST", "/webhooks/messenger")
    headers = lower_headers(webhook)
    assert headers["content-type"] == "application/json"
    secret = REPORT_SECRETS.messenger_app_secret
    assert messenger_webhooks.signature_valid(headers, webhook.body, secret)
    assert messenger_webhooks.signature_valid({"x-hub-signature": headers["x-hub-signature"]}, webhook.body, secret)
    assert not messenger_webhooks.signature_valid(headers, webhook.body, "another-app-secret")
    assert json.loads(webhook.body) == {
        "object": "page",
        "entry": [
            {
                "id": DEMO_PAGE_ID,
                "time": DUE_MS,
                "messaging": [
                    {
                        "sender": {"id": PSID},
                        "recipient": {"id": DEMO_PAGE_ID},
                        "timestamp": DUE_MS,
                        "delivery": {"mids": [MID], "watermark": DUE_MS, "seq": 0},
                    }
                ],
            }
        ],
    }
    assert messenger_webhooks.parse_events(webhook.body, now=0.0) == [
        StatusReceipt(Channel.MESSENGER, MID, "delivered", DUE_MS / 1000),
        WatermarkReceipt(DEMO_PAGE_ID, PSID, "delivered", DUE_MS, DUE_MS / 1000),
    ]


def test_messenger_read_report_is_a_read_watermark() -> None:
    webhook = report_webhook(scheduled("messenger", "read", MID, PSID, DEMO_PAGE_ID), REPORT_SECRETS)

    assert webhook is not None
    assert messenger_webhooks.signature_valid(lower_headers(webhook), webhook.body, REPORT_SECRETS.messenger_app_secret)
    assert json.loads(webhook.body)["entry"][0]["messaging"][0]["read"] == {"watermark": DUE_MS, "seq": 0}
    assert messenger_webhooks.parse_events(webhook.body, now=0.0) == [
        WatermarkReceipt(DEMO_PAGE_ID, PSID, "read", DUE_MS, DUE_MS / 1000)
    ]


def test_messenger_has_no_failed_delivery_webhook() -> None:
    assert report_webhook(scheduled("messenger", "failed", MID, PSID, DEMO_PAGE_ID), REPORT_SECRETS) is None


@pytest.mark.parametrize(
    ("status", "message_status", "parsed_status", "error_code"),
    [("delivered", 0, "delivered", None), ("read", 1, "read", None), ("failed", 2, "undeliverable", 1360)],
)
def test_viber_reports_are_signed_callbacks_the_api_parses(
    status: str, message_status: int, parsed_status: str, error_code: int | None
) -> None:
    webhook = report_webhook(scheduled("viber", status, VIBER_TOKEN, MSISDN, DEMO_VIBER_SERVICE_ID), REPORT_SECRETS)

    assert webhook is not None
    assert (webhook.method, webhook.path) == ("POST", "/webhooks/viber")
    headers = lower_headers(webhook)
    assert viber_webhooks.signature_valid(headers, webhook.body, REPORT_SECRETS.viber_callback_secret)
    assert not viber_webhooks.signature_valid(headers, webhook.body, "another-callback-secret")
    assert json.loads(webhook.body) == {
        "message_token": int(VIBER_TOKEN),
        "message_status": message_status,
        "message_time": DUE_MS,
        "phone_number": MSISDN,
        "service_id": int(DEMO_VIBER_SERVICE_ID),
    }
    (receipt,) = viber_webhooks.parse_callback(webhook.body, now=0.0)
    assert (receipt.provider_message_id, receipt.status) == (VIBER_TOKEN, parsed_status)
    assert receipt.occurred_at == DUE_MS / 1000
    assert (receipt.error or {}).get("code") == error_code


def sms_params(webhook: ProviderWebhook) -> dict[str, str]:
    assert webhook.headers["Content-Type"] == "application/x-www-form-urlencoded"
    return sms_webhooks.request_params(webhook.method, webhook.headers["Content-Type"], webhook.body, "")


def test_sms_delivered_report_is_a_signed_form_dlr_the_api_parses() -> None:
    report = scheduled("sms", "delivered", SMS_MESSAGE_ID, MSISDN, "447700900001", client_ref="uuid-ref")
    signed_at = time.time()
    webhook = sms_report(report, REPORT_SECRETS, now=signed_at)

    assert webhook is not None
    assert (webhook.method, webhook.path) == ("POST", "/webhooks/sms/dlr")
    params = sms_params(webhook)
    assert params == {
        "msisdn": MSISDN,
        "to": "447700900001",
        "network-code": "23410",
        "messageId": SMS_MESSAGE_ID,
        "price": "0.03330000",
        "status": "delivered",
        "scts": "2611271200",
        "err-code": "0",
        "message-timestamp": "2026-11-27 12:00:01",
        "client-ref": "uuid-ref",
        "timestamp": str(int(signed_at)),
        "nonce": params["nonce"],
        "sig": params["sig"],
    }
    check = sms_signature.verify(params, REPORT_SECRETS.sms_signature_secret, "md5hash", time.time())
    assert check is sms_signature.SignatureCheck.VALID
    assert sms_webhooks.parse_dlr(params, now=0.0) == [
        StatusReceipt(
            Channel.SMS, SMS_MESSAGE_ID, "delivered", DUE_AT.replace(microsecond=0).timestamp(), client_ref="uuid-ref"
        )
    ]


def test_sms_failed_report_is_undeliverable_and_has_no_client_ref_when_the_send_had_none() -> None:
    webhook = report_webhook(scheduled("sms", "failed", SMS_MESSAGE_ID, MSISDN, "Acme"), REPORT_SECRETS)

    assert webhook is not None
    params = sms_params(webhook)
    assert (params["status"], params["err-code"]) == ("failed", "2")
    assert "client-ref" not in params
    (receipt,) = sms_webhooks.parse_dlr(params, now=0.0)
    assert (receipt.status, receipt.error) == ("undeliverable", {"code": 1180, "reason": receipt.error["reason"]})


def test_sms_has_no_read_receipts() -> None:
    assert report_webhook(scheduled("sms", "read", SMS_MESSAGE_ID, MSISDN, "Acme"), REPORT_SECRETS) is None


@pytest.mark.parametrize("method", ["md5hash", "md5", "sha1", "sha256", "sha512"])
def test_sms_reports_are_signed_with_the_configured_method(method: str) -> None:
    secrets_with_method = dataclasses.replace(REPORT_SECRETS, sms_signature_method=method)
    webhook = report_webhook(scheduled("sms", "delivered", SMS_MESSAGE_ID, MSISDN, "Acme"), secrets_with_method)

    assert webhook is not None
    params = sms_params(webhook)
    assert sms_signature.verify(params, REPORT_SECRETS.sms_signature_secret, method, time.time()).value == "valid"
    assert sms_signature.sign(params, REPORT_SECRETS.sms_signature_secret, method) == params["sig"]


def test_sms_reports_without_a_signature_secret_are_unsigned() -> None:
    unsigned = dataclasses.replace(REPORT_SECRETS, sms_signature_secret="")
    webhook = report_webhook(scheduled("sms", "delivered", SMS_MESSAGE_ID, MSISDN, "Acme"), unsigned)

    assert webhook is not None
    assert not {"sig", "timestamp", "nonce"} & set(sms_params(webhook))


# ------------------------------------------------------------------ sending reports


class RecordingPoster:
    """Answers each call with the next of ``answers`` (an HTTP status or an exception to raise), then 200."""

    def __init__(self, answers: list[int | Exception] | None = None) -> None:
        self.calls: list[tuple[float, ProviderWebhook]] = []
        self._answers = list(answers or [])
        self._lock = threading.Lock()

    def __call__(self, webhook: ProviderWebhook) -> int:
        with self._lock:
            self.calls.append((time.time(), webhook))
            answer = self._answers.pop(0) if self._answers else 200
        if isinstance(answer, Exception):
            raise answer
        return answer

    def sent(self) -> list[str]:
        return [webhook.path for _, webhook in self.calls]


def fake_webhook(report: ScheduledReport) -> ProviderWebhook:
    return ProviderWebhook("POST", f"/{report.message_id}/{report.status}", {"Content-Type": "text/plain"}, b"report")


def due_in(seconds: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(seconds=seconds)


@pytest.fixture
def reports_log(tmp_path) -> JsonLinesLog:
    return JsonLinesLog(tmp_path / "provider-reports.jsonl")


@pytest.fixture
def dispatcher_parts(reports_log: JsonLinesLog) -> Iterator[Callable[..., tuple[ReportDispatcher, RecordingPoster]]]:
    started: list[ReportDispatcher] = []

    def make(
        answers: list[int | Exception] | None = None,
        build: Callable[[ScheduledReport], ProviderWebhook | None] = fake_webhook,
        retry_delays: tuple[float, ...] = (0.05, 0.05),
    ) -> tuple[ReportDispatcher, RecordingPoster]:
        poster = RecordingPoster(answers)
        dispatcher = ReportDispatcher(build, poster, reports_log, retry_delays=retry_delays)
        dispatcher.start()
        started.append(dispatcher)
        return dispatcher, poster

    yield make
    for dispatcher in started:
        dispatcher.stop()


def test_a_report_is_sent_when_due_and_logged(dispatcher_parts, reports_log: JsonLinesLog) -> None:
    dispatcher, poster = dispatcher_parts()
    due = due_in(0.3)

    dispatcher.submit([scheduled("viber", "delivered", "m1", MSISDN, DEMO_VIBER_SERVICE_ID, due_at=due)])

    assert dispatcher.wait_until_idle(timeout=10)
    ((sent_at, webhook),) = poster.calls
    assert sent_at >= due.timestamp()
    assert webhook.path == "/m1/delivered"
    (record,) = reports_log.records()
    assert record["provider"] == "viber"
    assert (record["report"], record["message_id"], record["recipient"]) == ("delivered", "m1", MSISDN)
    assert (record["attempt"], record["method"], record["path"]) == (1, "POST", "/m1/delivered")
    assert record["response_status"] == 200
    assert record["body"] == "report"
    assert record["sent_at"].endswith("Z")


def test_a_messages_reports_go_in_order_even_when_the_first_is_retried_past_the_seconds_due_time(
    dispatcher_parts, reports_log: JsonLinesLog
) -> None:
    dispatcher, poster = dispatcher_parts(answers=[500], retry_delays=(0.3,))
    now = datetime.now(timezone.utc)

    dispatcher.submit(
        [
            scheduled("messenger", "delivered", "m1", PSID, DEMO_PAGE_ID, due_at=now),
            scheduled("messenger", "read", "m1", PSID, DEMO_PAGE_ID, due_at=now + timedelta(seconds=0.05)),
        ]
    )

    assert dispatcher.wait_until_idle(timeout=10)
    assert poster.sent() == ["/m1/delivered", "/m1/delivered", "/m1/read"]
    assert [(r["report"], r["attempt"], r["response_status"]) for r in reports_log.records()] == [
        ("delivered", 1, 500),
        ("delivered", 2, 200),
        ("read", 1, 200),
    ]


def test_a_report_is_retried_a_few_times_then_given_up_and_the_next_one_sent(
    dispatcher_parts, reports_log: JsonLinesLog
) -> None:
    dispatcher, poster = dispatcher_parts(answers=[503, OSError("connection refused"), 500], retry_delays=(0.01, 0.01))
    now = datetime.now(timezone.utc)

    dispatcher.submit(
        [
            scheduled("viber", "delivered", "m1", MSISDN, DEMO_VIBER_SERVICE_ID, due_at=now),
            scheduled("viber", "read", "m1", MSISDN, DEMO_VIBER_SERVICE_ID, due_at=now),
        ]
    )

    assert dispatcher.wait_until_idle(timeout=10)
    assert poster.sent() == ["/m1/delivered"] * 3 + ["/m1/read"]
    records = reports_log.records()
    assert [(r["attempt"], r["response_status"]) for r in records] == [(1, 503), (2, None), (3, 500), (1, 200)]
    assert records[1]["error"] == "OSError: connection refused"


def test_one_messages_retries_do_not_hold_back_another_messages_reports(dispatcher_parts) -> None:
    dispatcher, poster = dispatcher_parts(answers=[500], retry_delays=(1.0,))
    now = datetime.now(timezone.utc)

    dispatcher.submit([scheduled("sms", "delivered", "m1", MSISDN, "Acme", due_at=now)])
    dispatcher.submit([scheduled("sms", "delivered", "m2", MSISDN, "Acme", due_at=now + timedelta(seconds=0.05))])

    assert dispatcher.wait_until_idle(timeout=10)
    assert poster.sent() == ["/m1/delivered", "/m2/delivered", "/m1/delivered"]


def test_a_report_the_provider_does_not_send_is_logged_as_skipped(dispatcher_parts, reports_log: JsonLinesLog) -> None:
    def no_read_receipts(report: ScheduledReport) -> ProviderWebhook | None:
        return None if report.status == "read" else fake_webhook(report)

    dispatcher, poster = dispatcher_parts(build=no_read_receipts)
    now = datetime.now(timezone.utc)

    dispatcher.submit(
        [
            scheduled("sms", "delivered", "m1", MSISDN, "Acme", due_at=now),
            scheduled("sms", "read", "m1", MSISDN, "Acme", due_at=now),
        ]
    )

    assert dispatcher.wait_until_idle(timeout=10)
    assert poster.sent() == ["/m1/delivered"]
    skipped = reports_log.records()[-1]
    assert (skipped["report"], skipped["skipped"]) == ("read", "the provider sends no webhook for this report")
    assert "response_status" not in skipped


def test_stop_returns_the_reports_not_sent_yet_per_message_in_order(dispatcher_parts) -> None:
    dispatcher, poster = dispatcher_parts()
    later = [
        scheduled("viber", "delivered", "m1", MSISDN, DEMO_VIBER_SERVICE_ID, due_at=due_in(60)),
        scheduled("viber", "read", "m1", MSISDN, DEMO_VIBER_SERVICE_ID, due_at=due_in(61)),
    ]
    dispatcher.submit(later)
    dispatcher.submit([scheduled("sms", "delivered", "m2", MSISDN, "Acme", due_at=due_in(90))])

    started = time.monotonic()
    unsent = dispatcher.stop()

    assert time.monotonic() - started < 5
    assert poster.calls == []
    assert unsent == [later, [scheduled("sms", "delivered", "m2", MSISDN, "Acme", due_at=unsent[1][0].due_at)]]
    assert dispatcher.unfinished() == 2


def test_stop_finishes_a_report_being_sent_and_returns_the_next_one(dispatcher_parts) -> None:
    sending, release = threading.Event(), threading.Event()

    def slow_build(report: ScheduledReport) -> ProviderWebhook | None:
        sending.set()
        release.wait(5)
        return fake_webhook(report)

    dispatcher, poster = dispatcher_parts(build=slow_build)
    now = datetime.now(timezone.utc)
    read = scheduled("messenger", "read", "m1", PSID, DEMO_PAGE_ID, due_at=now)
    dispatcher.submit([scheduled("messenger", "delivered", "m1", PSID, DEMO_PAGE_ID, due_at=now), read])
    assert sending.wait(5)

    stopping = threading.Thread(target=lambda: result.append(dispatcher.stop()))
    result: list[list[list[ScheduledReport]]] = []
    stopping.start()
    time.sleep(0.1)
    release.set()
    stopping.join(5)

    assert poster.sent() == ["/m1/delivered"]
    assert result == [[[read]]]


def test_simulators_keep_the_reports_of_sends_after_reports_stopped_and_resend_them(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenarios, "DELIVERED_AFTER", timedelta(0))
    sims = ProviderSimulators(tmp_path)
    sims.start()
    try:
        sims.send_reports_to("http://127.0.0.1:3000", post=RecordingPoster())
        sims.stop_sending_reports()
        secret = sims.channels_secret()
        message_id = post_messenger(secret, messenger_body(with_suffix(PSID, "0004"))).json()["message_id"]
        unsent = sims.unsent_reports()
    finally:
        sims.stop()
    assert [[(r.message_id, r.status) for r in reports] for reports in unsent] == [[(message_id, "delivered")]]

    again = ProviderSimulators(tmp_path, saved_channels=secret)
    again.start()
    poster = RecordingPoster()
    try:
        again.send_reports_to("http://127.0.0.1:3000", post=poster)
        again.resend(unsent)
        assert again.report_dispatcher is not None and again.report_dispatcher.wait_until_idle(timeout=10)
    finally:
        again.stop()
    (event,) = [json.loads(webhook.body)["entry"][0]["messaging"][0] for _, webhook in poster.calls]
    assert event["delivery"]["mids"] == [message_id]


def test_simulators_restarted_from_a_saved_secret_keep_its_credentials(tmp_path) -> None:
    first = ProviderSimulators(tmp_path)
    first.start()
    saved = first.channels_secret()
    first.stop()

    again = ProviderSimulators(tmp_path, saved_channels=saved)
    again.start()
    try:
        secret = again.channels_secret()
        for section, keys in {
            "messenger": ("app_secret", "verify_token", "pages"),
            "viber": ("callback_secret", "service_ids"),
            "sms": ("api_key", "api_secret", "signature_secret"),
        }.items():
            assert {k: secret[section][k] for k in keys} == {k: saved[section][k] for k in keys}
        assert again.report_secrets() == first.report_secrets()
        assert post_messenger(secret, messenger_body()).status_code == 200  # the saved page token works
    finally:
        again.stop()


def test_a_page_or_service_added_to_the_channels_secret_is_served_once_looked_up(simulators, secret) -> None:
    added = json.loads(json.dumps(secret))
    added["messenger"]["pages"]["555000111222333"] = "EAA-added-page-token"
    added["viber"]["service_ids"].append("55501")

    refused = post_messenger(secret, messenger_body(), token="EAA-added-page-token")
    assert refused.json()["error"]["code"] == 190
    assert post_viber(secret, viber_body(service_id=55501)).json()["status"] == 2  # SRVC_BAD_SERVICE_ID

    simulators.follow_channels_secret(lambda: added)

    assert post_messenger(secret, messenger_body(), token="EAA-added-page-token").status_code == 200
    assert post_viber(secret, viber_body(service_id=55501)).json()["status"] == 0
    assert post_messenger(secret, messenger_body(), token="EAA-unknown").json()["error"]["code"] == 190


def test_the_simulators_send_each_accepted_messages_reports_once_told_where(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scenarios, "DELIVERED_AFTER", timedelta(0))
    monkeypatch.setattr(scenarios, "READ_AFTER", timedelta(milliseconds=20))
    sims = ProviderSimulators(tmp_path)
    sims.start()
    poster = RecordingPoster()
    try:
        secret = sims.channels_secret()
        before = post_sms(secret, sms_form(secret, to=with_suffix(MSISDN, "0007")))  # not sent: nobody told yet
        sims.send_reports_to("http://127.0.0.1:3000", post=poster)
        with pytest.raises(RuntimeError):
            sims.send_reports_to("http://127.0.0.1:3000", post=poster)
        default = post_messenger(secret, messenger_body(with_suffix(PSID, "0007"))).json()["message_id"]
        never_read = post_viber(secret, viber_body(with_suffix(MSISDN, "0004"))).json()["message_token"]
        post_viber(secret, viber_body(with_suffix(MSISDN, "0003"), seq=3))
        sms_id = sms_entry(post_sms(secret, sms_form(secret, to=with_suffix(MSISDN, "0009"))))["message-id"]

        dispatcher = sims.report_dispatcher
        assert dispatcher is not None
        assert dispatcher.wait_until_idle(timeout=10)
    finally:
        sims.stop()

    assert sims.report_dispatcher is None
    def sent_to(path: str) -> list[dict[str, Any]]:
        return [json.loads(webhook.body) for _, webhook in poster.calls if webhook.path == path]

    messenger_events = [body["entry"][0]["messaging"][0] for body in sent_to("/webhooks/messenger")]
    assert [("delivery" in event, "read" in event) for event in messenger_events] == [(True, False), (False, True)]
    assert messenger_events[0]["delivery"]["mids"] == [default]
    viber = [(body["message_token"], body["message_status"]) for body in sent_to("/webhooks/viber")]
    assert viber == [(never_read, 0)]
    dlrs = [sms_params(webhook) for _, webhook in poster.calls if webhook.path == "/webhooks/sms/dlr"]
    assert [(p["messageId"], p["status"]) for p in dlrs] == [(sms_id, "delivered")]
    assert sms_entry(before)["message-id"] not in {p["messageId"] for p in dlrs}
    assert sims.reports_log_path == tmp_path / "provider-reports.jsonl"
    assert [(r["provider"], r["report"]) for r in sims.sent_reports if r["provider"] == "messenger"] == [
        ("messenger", "delivered"),
        ("messenger", "read"),
    ]


def test_http_poster_returns_the_status_and_raises_oserror_when_nobody_answers() -> None:
    received: list[HttpRequest] = []

    def handle(request: HttpRequest) -> HttpResponse:
        received.append(request)
        return HttpResponse.text(403, "forbidden")

    server = BackgroundHttpServer(handle)
    server.start()
    try:
        poster = HttpPoster(f"http://127.0.0.1:{server.port}")
        headers = {"Content-Type": "application/json", "X-Test": "1"}
        webhook = ProviderWebhook("POST", "/webhooks/viber?x=1", headers, b"{}")
        assert poster(webhook) == 403
    finally:
        server.stop()

    (request,) = received
    assert (request.method, request.target, request.body) == ("POST", "/webhooks/viber?x=1", b"{}")
    assert request.header("X-Test") == "1"
    with pytest.raises(OSError):
        HttpPoster(f"http://127.0.0.1:{server.port}", timeout=2)(webhook)
    with pytest.raises(ValueError):
        HttpPoster("https://example.com")
