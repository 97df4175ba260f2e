"""Messenger adapter: the Graph Send API request it makes and how it reads every answer."""
from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from urllib3.exceptions import MaxRetryError
import responses

from switchboard.adapters.providers import transport
from switchboard.domain.sending import SendOutcome, SendResult
from switchboard.adapters.providers.messenger_api import MessengerAdapter
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, MessengerOptions, OutboundMessage

PAGE_ID = "107083064136738"
PAGE_TOKEN = "EAAGpagetokenSECRET"
PSID = "3523523523520000"
MESSAGE_UUID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SEND_URL = "https://graph.example.test/v3.1/me/messages"
CONFIG = {
    "messenger": {
        "api_base": "https://graph.example.test/",
        "api_version": "v3.1",
        "app_secret": "app-secret",
        "verify_token": "verify",
        "pages": {PAGE_ID: PAGE_TOKEN},
    }
}


@pytest.fixture(autouse=True)
def fresh_sessions() -> Iterator[None]:
    transport.configure(transport.ProviderHttp(pool_size=7, connect_timeout=1.5, read_timeout=4))
    yield
    transport.reset_sessions()


def message(content: Content, options: MessengerOptions | None = None, page_id: str = PAGE_ID) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.MESSENGER,
        sender=Endpoint(type="messenger", id=page_id),
        recipient=Endpoint(type="messenger", id=PSID),
        content=content,
        api_version=ApiVersion.V0_1,
        messenger=options,
    )


def send(msg: OutboundMessage) -> SendResult:
    return MessengerAdapter().send(msg, MESSAGE_UUID, CONFIG)


def reply_with(status: int = 200, body: object | None = None, **kwargs: object) -> None:
    if body is None and "body" not in kwargs:
        body = {"recipient_id": PSID, "message_id": "mid.$cAAJsujCd2ORj_1qmrFdzhVa-4cvO"}
    if "body" in kwargs:
        responses.add(responses.POST, SEND_URL, status=status, body=kwargs["body"])
    else:
        responses.add(responses.POST, SEND_URL, status=status, json=body)


def sent_request() -> tuple[dict[str, list[str]], dict, requests.PreparedRequest]:
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    return parse_qs(urlsplit(request.url).query), json.loads(request.body), request


@responses.activate
def test_text_response_is_accepted_with_the_message_id() -> None:
    reply_with()

    result = send(message(Content(type="text", text="Hello")))

    assert result == SendResult(SendOutcome.ACCEPTED, provider_message_id="mid.$cAAJsujCd2ORj_1qmrFdzhVa-4cvO")
    query, body, request = sent_request()
    assert request.url.split("?")[0] == SEND_URL
    assert query == {"access_token": [PAGE_TOKEN]}
    assert request.headers["Content-Type"] == "application/json"
    assert body == {"messaging_type": "RESPONSE", "recipient": {"id": PSID}, "message": {"text": "Hello"}}


@pytest.mark.parametrize("media", ["image", "audio", "video", "file"])
@responses.activate
def test_media_is_sent_as_a_reusable_attachment(media: str) -> None:
    reply_with()

    send(message(Content(type=media, url=f"https://example.com/a.{media}"), MessengerOptions(category="update")))

    _, body, _ = sent_request()
    assert body == {
        "messaging_type": "UPDATE",
        "recipient": {"id": PSID},
        "message": {"attachment": {"type": media, "payload": {"url": f"https://example.com/a.{media}", "is_reusable": True}}},
    }


@responses.activate
def test_message_tag_category_sends_the_tag_in_upper_case() -> None:
    reply_with()

    send(message(Content(type="text", text="Your ticket"), MessengerOptions(category="message_tag", tag="ticket_update")))

    _, body, _ = sent_request()
    assert body == {
        "messaging_type": "MESSAGE_TAG",
        "recipient": {"id": PSID},
        "message": {"text": "Your ticket"},
        "tag": "TICKET_UPDATE",
    }


@pytest.mark.parametrize("category, messaging_type", [("response", "RESPONSE"), ("update", "UPDATE")])
@responses.activate
def test_tag_is_only_sent_for_message_tag(category: str, messaging_type: str) -> None:
    reply_with()

    send(message(Content(type="text", text="Hi"), MessengerOptions(category=category, tag="SHIPPING_UPDATE")))

    _, body, _ = sent_request()
    assert body["messaging_type"] == messaging_type
    assert "tag" not in body


@responses.activate
def test_message_tag_without_tag_is_rejected_without_calling_facebook() -> None:
    result = send(message(Content(type="text", text="Hi"), MessengerOptions(category="message_tag")))

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1021)
    assert len(responses.calls) == 0


@responses.activate
def test_unconfigured_page_is_rejected_without_calling_facebook() -> None:
    result = send(message(Content(type="text", text="Hi"), page_id="999"))

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1120)
    assert "page 999 is not configured" in (result.error_reason or "")
    assert len(responses.calls) == 0


@responses.activate
def test_every_call_uses_the_configured_timeouts_and_one_pooled_session() -> None:
    reply_with()
    reply_with()

    send(message(Content(type="text", text="one")))
    send(message(Content(type="text", text="two")))

    assert [call.request.req_kwargs["timeout"] for call in responses.calls] == [(1.5, 4.0), (1.5, 4.0)]
    session = transport.session("messenger")
    assert transport.session("messenger") is session
    adapter = session.get_adapter(SEND_URL)
    assert adapter._pool_maxsize == 7
    assert adapter.max_retries.total == 0


def fb_error(code: int, message: str, subcode: int | None = None) -> dict:
    error: dict = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "AbCdEf"}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": error}


@pytest.mark.parametrize(
    "http_status, body, outcome, code",
    [
        (400, fb_error(190, "Error validating access token: Session has expired", 463), SendOutcome.REJECTED, 1370),
        (400, fb_error(10, "(#10) This message is sent outside of allowed window.", 2018278), SendOutcome.REJECTED, 1340),
        (400, fb_error(551, "(#551) This person isn't available right now.", 1545041), SendOutcome.REJECTED, 1260),
        (400, fb_error(200, "(#200) This person isn't available right now.", 1545041), SendOutcome.REJECTED, 1260),
        (400, fb_error(100, "(#100) No matching user found", 2018001), SendOutcome.REJECTED, 1300),
        (400, fb_error(100, "(#100) No matching user found"), SendOutcome.REJECTED, 1300),
        (400, fb_error(100, "(#100) Param recipient[id] must be a valid ID string"), SendOutcome.REJECTED, 1020),
        (400, fb_error(4, "(#4) Application request limit reached"), SendOutcome.RETRY, 1000),
        (400, fb_error(613, "(#613) Calls to this api have exceeded the rate limit."), SendOutcome.RETRY, 1000),
        (400, fb_error(32, "(#32) Page request limit reached"), SendOutcome.RETRY, 1000),
        (400, fb_error(17, "(#17) User request limit reached"), SendOutcome.RETRY, 1000),
        (400, fb_error(4, "(#4) Too many send requests to phone numbers"), SendOutcome.REJECTED, 1241),
        (403, fb_error(200, "(#200) The page is not allowed to send messages"), SendOutcome.REJECTED, 1140),
        (403, fb_error(230, "(#230) Requires pages_messaging permission"), SendOutcome.REJECTED, 1140),
        (400, fb_error(10, "(#10) Application does not have permission for this action"), SendOutcome.REJECTED, 1140),
        (500, fb_error(2, "An unexpected error has occurred. Please retry your request later."), SendOutcome.RETRY, 1100),
        (500, fb_error(1, "An unknown error occurred"), SendOutcome.UNKNOWN, 1100),  # may follow an acceptance
        (400, fb_error(1, "An unknown error occurred"), SendOutcome.RETRY, 1100),
        (400, fb_error(2, "Service temporarily unavailable"), SendOutcome.RETRY, 1100),
        (400, fb_error(100, "(#100) Requires phone matching access fee to be paid by this Page"), SendOutcome.REJECTED, 1350),
        (400, fb_error(1200, "(#1200) Temporary send message failure"), SendOutcome.REJECTED, 1030),
        (500, fb_error(1200, "(#1200) Temporary send message failure"), SendOutcome.UNKNOWN, 1100),
        (500, fb_error(100, "(#100) No matching user found", 2018001), SendOutcome.REJECTED, 1300),
    ],
)
@responses.activate
def test_facebook_errors_map_to_nexmo_codes(http_status: int, body: dict, outcome: SendOutcome, code: int) -> None:
    reply_with(http_status, body)

    result = send(message(Content(type="text", text="Hi")))

    assert (result.outcome, result.error_code) == (outcome, code)
    assert result.provider_message_id is None
    assert result.error_reason and body["error"]["message"] in result.error_reason


@responses.activate
def test_unmapped_error_keeps_the_facebook_message_but_never_the_token() -> None:
    reply_with(400, fb_error(12345, f"Weird failure for token {PAGE_TOKEN}"))

    result = send(message(Content(type="text", text="Hi")))

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1030)
    assert result.error_reason is not None
    assert result.error_reason.startswith("Internal error: facebook error 12345")
    assert "Weird failure" in result.error_reason
    assert PAGE_TOKEN not in result.error_reason


@pytest.mark.parametrize(
    "http_status, kwargs, outcome, code",
    [
        (429, {"body": "slow down"}, SendOutcome.RETRY, 1000),
        (429, {"body": json.dumps(fb_error(100, "No matching user found"))}, SendOutcome.RETRY, 1000),
        (500, {"body": "<html>oops</html>"}, SendOutcome.UNKNOWN, 1100),
        (502, {"body": ""}, SendOutcome.UNKNOWN, 1100),
        (504, {"body": json.dumps({"recipient_id": PSID, "message_id": "mid.1"})}, SendOutcome.UNKNOWN, 1100),
        (503, {"body": json.dumps({"recipient_id": PSID, "message_id": "mid.1"})}, SendOutcome.RETRY, 1100),
        (200, {"body": "not json"}, SendOutcome.REJECTED, 1030),
        (200, {"body": json.dumps({"recipient_id": PSID})}, SendOutcome.REJECTED, 1030),
        (404, {"body": "Not Found"}, SendOutcome.REJECTED, 1030),
    ],
)
@responses.activate
def test_throttling_server_errors_and_unparsable_answers(
    http_status: int, kwargs: dict, outcome: SendOutcome, code: int
) -> None:
    reply_with(http_status, **kwargs)

    result = send(message(Content(type="text", text="Hi")))

    assert (result.outcome, result.error_code) == (outcome, code)


@pytest.mark.parametrize(
    "failure, outcome",
    [
        (requests.exceptions.ConnectTimeout("connect timed out"), SendOutcome.RETRY),
        (
            requests.exceptions.ConnectionError(
                MaxRetryError(None, f"/v3.1/me/messages?access_token={PAGE_TOKEN}", OSError("refused"))
            ),
            SendOutcome.RETRY,
        ),
        (requests.exceptions.ReadTimeout("read timed out"), SendOutcome.UNKNOWN),
        (
            requests.exceptions.ConnectionError(f"Connection aborted: /v3.1/me/messages?access_token={PAGE_TOKEN}"),
            SendOutcome.UNKNOWN,
        ),
        (requests.exceptions.ChunkedEncodingError("connection broken"), SendOutcome.UNKNOWN),
    ],
)
@responses.activate
def test_transport_failures_are_classified_without_leaking_the_url(failure: Exception, outcome: SendOutcome) -> None:
    responses.add(responses.POST, SEND_URL, body=failure)

    result = send(message(Content(type="text", text="Hi")))

    assert (result.outcome, result.error_code) == (outcome, 1100)
    assert result.error_reason is not None
    assert result.error_reason.startswith("Communication Failed")
    assert PAGE_TOKEN not in result.error_reason


def test_a_malformed_api_base_is_an_internal_error() -> None:
    config = {"messenger": {**CONFIG["messenger"], "api_base": "graph.example.test"}}

    result = MessengerAdapter().send(message(Content(type="text", text="Hi")), MESSAGE_UUID, config)

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1030)


@responses.activate
def test_defaults_to_the_public_graph_api_when_the_config_omits_the_base() -> None:
    responses.add(
        responses.POST,
        "https://graph.facebook.com/v18.0/me/messages",
        json={"recipient_id": PSID, "message_id": "mid.2"},
    )

    result = MessengerAdapter().send(
        message(Content(type="text", text="Hi")), MESSAGE_UUID, {"messenger": {"pages": {PAGE_ID: PAGE_TOKEN}}}
    )

    assert result.provider_message_id == "mid.2"
