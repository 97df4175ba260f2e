"""SMS adapter: the /sms/json form it posts, GSM/unicode detection, and how it reads every status."""
from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
import requests
from urllib3.exceptions import MaxRetryError
import responses

from switchboard.adapters.providers import transport
from switchboard.domain.sending import SendOutcome, SendResult
from switchboard.adapters.providers.gsm import is_gsm
from switchboard.adapters.providers.sms_api import SmsAdapter
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage, SmsOptions

API_KEY = "abcd1234"
API_SECRET = "SmsApiSecret0001"
MESSAGE_UUID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SEND_URL = "https://sms.example.test/sms/json"
CONFIG = {
    "sms": {
        "api_base": "https://sms.example.test",
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "signature_secret": "sig-secret",
        "signature_method": "md5hash",
    }
}


@pytest.fixture(autouse=True)
def fresh_sessions() -> Iterator[None]:
    transport.configure(transport.ProviderHttp(pool_size=10, connect_timeout=2, read_timeout=5))
    yield
    transport.reset_sessions()


def message(text: str = "Hello", options: SmsOptions | None = None, to: str = "447700900000") -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint(type="sms", number="Acme"),
        recipient=Endpoint(type="sms", number=to),
        content=Content(type="text", text=text),
        api_version=ApiVersion.V1,
        sms=options,
    )


def send(msg: OutboundMessage) -> SendResult:
    return SmsAdapter().send(msg, MESSAGE_UUID, CONFIG)


def ok_body(*message_ids: str) -> dict:
    ids = message_ids or ("0A0000000123ABCD1",)
    return {
        "message-count": str(len(ids)),
        "messages": [
            {
                "to": "447700900000",
                "message-id": each,
                "status": "0",
                "remaining-balance": "3.14",
                "message-price": "0.03",
                "network": "12345",
            }
            for each in ids
        ],
    }


def reply_with(body: object | None = None, status: int = 200, raw: str | None = None) -> None:
    if raw is not None:
        responses.add(responses.POST, SEND_URL, status=status, body=raw)
    else:
        responses.add(responses.POST, SEND_URL, status=status, json=ok_body() if body is None else body)


def sent_form() -> dict[str, str]:
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    assert request.url == SEND_URL
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = parse_qs(request.body, keep_blank_values=True, strict_parsing=True)
    assert all(len(values) == 1 for values in form.values())
    return {key: values[0] for key, values in form.items()}


@responses.activate
def test_text_is_posted_as_a_form_and_accepted_with_the_message_id() -> None:
    reply_with()

    result = send(message("Hello"))

    assert result == SendResult(SendOutcome.ACCEPTED, provider_message_id="0A0000000123ABCD1", network_code="12345")
    assert sent_form() == {
        "api_key": API_KEY,
        "api_secret": API_SECRET,
        "from": "Acme",
        "to": "447700900000",
        "text": "Hello",
        "type": "text",
        "status-report-req": "1",
        "client-ref": MESSAGE_UUID,
    }
    assert responses.calls[0].request.req_kwargs["timeout"] == (2.0, 5.0)


@responses.activate
def test_ttl_is_sent_in_milliseconds_when_given() -> None:
    reply_with()

    send(message("Hello", SmsOptions(ttl=90000)))

    assert sent_form()["ttl"] == "90000"


@responses.activate
def test_regulatory_ids_are_passed_through() -> None:
    reply_with()

    send(message("Hello", SmsOptions(content_id="1107", entity_id="1201")))

    form = sent_form()
    assert (form["content-id"], form["entity-id"]) == ("1107", "1201")


@responses.activate
def test_multipart_text_is_identified_by_its_first_part_and_keeps_every_parts_id() -> None:
    reply_with(ok_body("0A01", "0A02", "0A03"))

    result = send(message("x" * 400))

    assert result == SendResult(
        SendOutcome.ACCEPTED, provider_message_id="0A01", part_count=3, part_message_ids=("0A02", "0A03"),
        network_code="12345",
    )


@responses.activate
def test_a_later_part_the_provider_refused_is_counted_but_not_indexed() -> None:
    body = ok_body("0A01", "0A02", "0A03")
    body["messages"][2] = {"status": "9", "error-text": "Partner quota exceeded"}
    reply_with(body)

    result = send(message("x" * 400))

    assert (result.provider_message_id, result.part_count, result.part_message_ids) == ("0A01", 3, ("0A02",))


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hello, world! 100% @home", "text"),
        ("Price: 5€ [sale] {now} ~ ^ | \\", "text"),
        ("Ünïcödé? no: ÄÖÑÜäöñüàèéùìòÇØøÅåÆæßÉ¡¿§£¥¤", "unicode"),
        ("Grüße aus Köln", "text"),
        ("Hi 👋", "unicode"),
        ("Привет", "unicode"),
        ("ΔΦΓΛΩΠΨΣΘΞ", "text"),
        ("smart ‘quotes’", "unicode"),
        ("line\nbreak\r", "text"),
        ("", "text"),
    ],
)
@responses.activate
def test_type_is_detected_from_the_gsm_alphabet(text: str, expected: str) -> None:
    reply_with()

    send(message(text))

    assert sent_form()["type"] == expected


def test_extension_table_characters_are_gsm() -> None:
    assert is_gsm("€[]{}~^|\\\f")
    assert not is_gsm("`")
    assert not is_gsm("ç")  # only the capital Ç is in the GSM alphabet


@pytest.mark.parametrize(
    "encoding, text, expected",
    [
        ("text", "Hi 👋", "text"),
        ("unicode", "plain", "unicode"),
        ("auto", "Hi 👋", "unicode"),
        ("auto", "plain €", "text"),
        (None, "Hi 👋", "unicode"),
    ],
)
@responses.activate
def test_an_explicit_encoding_type_is_honoured(encoding: str | None, text: str, expected: str) -> None:
    reply_with()

    send(message(text, SmsOptions(encoding_type=encoding)))

    assert sent_form()["type"] == expected


@responses.activate
def test_unconfigured_sms_is_rejected_without_calling_the_provider() -> None:
    result = SmsAdapter().send(message(), MESSAGE_UUID, {"sms": {"api_key": "", "api_secret": ""}})

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1030)
    assert len(responses.calls) == 0


@responses.activate
def test_non_text_content_is_rejected() -> None:
    msg = OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint(type="sms", number="Acme"),
        recipient=Endpoint(type="sms", number="447700900000"),
        content=Content(type="image", url="https://example.com/a.jpg"),
        api_version=ApiVersion.V1,
    )

    result = send(msg)

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1040)
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    "status, outcome, code",
    [
        ("1", SendOutcome.RETRY, 1000),
        ("5", SendOutcome.RETRY, 1100),
        ("10", SendOutcome.RETRY, 1000),
        ("2", SendOutcome.REJECTED, 1010),
        ("3", SendOutcome.REJECTED, 1020),
        ("4", SendOutcome.REJECTED, 1030),
        ("6", SendOutcome.REJECTED, 1040),
        ("7", SendOutcome.REJECTED, 1050),
        ("8", SendOutcome.REJECTED, 1060),
        ("9", SendOutcome.REJECTED, 1070),
        ("11", SendOutcome.REJECTED, 1080),
        ("12", SendOutcome.REJECTED, 1090),
        ("14", SendOutcome.REJECTED, 1110),
        ("15", SendOutcome.REJECTED, 1120),
        ("22", SendOutcome.REJECTED, 1250),
        ("23", SendOutcome.REJECTED, 1020),
        ("29", SendOutcome.REJECTED, 1160),
        ("32", SendOutcome.REJECTED, 1110),
        ("33", SendOutcome.REJECTED, 1240),
        ("42", SendOutcome.REJECTED, 1030),
        (7, SendOutcome.REJECTED, 1050),
    ],
)
@responses.activate
def test_sms_statuses_map_to_nexmo_codes(status: str | int, outcome: SendOutcome, code: int) -> None:
    reply_with({"message-count": "1", "messages": [{"status": status, "error-text": "Something"}]})

    result = send(message())

    assert (result.outcome, result.error_code) == (outcome, code)
    assert result.provider_message_id is None
    assert result.error_reason and "Something" in result.error_reason


@responses.activate
def test_number_barred_reason_says_number_barred_once_with_the_status() -> None:
    reply_with({"message-count": "1", "messages": [{"to": "447700900001", "status": "7", "error-text": "Number Barred"}]})

    result = send(message(to="447700900001"))

    assert result == SendResult(
        SendOutcome.REJECTED, error_code=1050, error_reason="Number barred: status 7"  # not "... status 7 Number Barred"
    )


@responses.activate
def test_error_text_never_echoes_the_credentials() -> None:
    reply_with({"messages": [{"status": "4", "error-text": f"Bad Credentials {API_KEY}/{API_SECRET}"}]})

    result = send(message())

    assert result.error_reason is not None
    assert API_KEY not in result.error_reason and API_SECRET not in result.error_reason


@pytest.mark.parametrize(
    "http_status, kwargs, outcome, code",
    [
        (429, {"raw": "Too Many Requests"}, SendOutcome.RETRY, 1000),
        (500, {"raw": "<html>error</html>"}, SendOutcome.UNKNOWN, 1100),
        (502, {"body": ok_body()}, SendOutcome.UNKNOWN, 1100),
        (500, {"body": {"messages": [{"status": "5", "error-text": "Internal Error"}]}}, SendOutcome.RETRY, 1100),
        (503, {"body": ok_body()}, SendOutcome.RETRY, 1100),
        (200, {"raw": "not json"}, SendOutcome.REJECTED, 1030),
        (200, {"body": {"message-count": "0", "messages": []}}, SendOutcome.REJECTED, 1030),
        (200, {"body": {"messages": [{"to": "447700900000"}]}}, SendOutcome.REJECTED, 1030),
        (401, {"raw": "Unauthorized"}, SendOutcome.REJECTED, 1030),
    ],
)
@responses.activate
def test_throttling_server_errors_and_unparsable_answers(
    http_status: int, kwargs: dict, outcome: SendOutcome, code: int
) -> None:
    reply_with(status=http_status, **kwargs)

    result = send(message())

    assert (result.outcome, result.error_code) == (outcome, code)


@pytest.mark.parametrize(
    "failure, outcome",
    [
        (requests.exceptions.ConnectTimeout("timed out"), SendOutcome.RETRY),
        (requests.exceptions.ConnectionError(MaxRetryError(None, "/sms/json", OSError("refused"))), SendOutcome.RETRY),
        (requests.exceptions.ConnectionError("reset by peer"), SendOutcome.UNKNOWN),
        (requests.exceptions.ReadTimeout("read timed out"), SendOutcome.UNKNOWN),
    ],
)
@responses.activate
def test_failures_before_sending_are_retried_and_after_it_are_unknown(failure: Exception, outcome: SendOutcome) -> None:
    responses.add(responses.POST, SEND_URL, body=failure)

    result = send(message())

    assert (result.outcome, result.error_code) == (outcome, 1100)
    assert API_SECRET not in (result.error_reason or "")
