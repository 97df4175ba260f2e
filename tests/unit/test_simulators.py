"""The provider simulators answer like Messenger, Viber and the Nexmo SMS API, by recipient suffix."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import requests

from local_stack.simulators import (
    DEMO_PAGE_ID,
    DEMO_VIBER_SERVICE_ID,
    MESSENGER_API_VERSION,
    ProviderSimulators,
    Scenario,
)

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
        "type": 206,
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


@pytest.mark.parametrize(
    ("suffix", "statuses"), [("0002", ["failed"]), ("0003", []), ("0004", ["delivered"])]
)
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
    body = viber_body(type=107, message={"#img": "https://example.com/a.jpg", "#caption": "A picture"})
    del body["ttl"]
    response = post_viber(secret, body)

    assert response.status_code == 200
    assert response.json()["status"] == 0


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
        {"message": {}},
        {"message": {"#txt": ""}},
        {"message": {"#txt": "x" * 1001}},
        {"message": {"#img": "not-a-url"}},
        {"message": {"#img": "https://e.x/a.jpg", "#caption": "c" * 31}},
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
