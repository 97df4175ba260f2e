"""Viber adapter: the partner send_message request it makes and how it reads every status."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests
from urllib3.exceptions import MaxRetryError
import responses

from switchboard.adapters.providers import transport
from switchboard.domain.sending import SendOutcome, SendResult
from switchboard.adapters.providers.viber_api import ViberAdapter, seq_for
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage, ViberOptions

SERVICE_ID = "16273"
DEST = "447700900000"
MESSAGE_UUID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
SEND_URL = "https://viber.example.test/vibersrvc/1/send_message"
CONFIG = {
    "viber": {
        "api_base": "https://viber.example.test/vibersrvc/1/",
        "callback_secret": "cb-secret",
        "service_ids": [int(SERVICE_ID), "555"],
    }
}


@pytest.fixture(autouse=True)
def fresh_sessions() -> Iterator[None]:
    transport.configure(transport.ProviderHttp(pool_size=10, connect_timeout=2, read_timeout=6))
    yield
    transport.reset_sessions()


def message(
    content: Content, options: ViberOptions | None = None, service_id: str = SERVICE_ID
) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.VIBER,
        sender=Endpoint(type="viber_service_msg", id=service_id),
        recipient=Endpoint(type="viber_service_msg", number=DEST),
        content=content,
        api_version=ApiVersion.V0_1,
        viber=options,
    )


def send(msg: OutboundMessage, message_uuid: str = MESSAGE_UUID) -> SendResult:
    return ViberAdapter().send(msg, message_uuid, CONFIG)


def reply_with(body: object | None = None, status: int = 200, raw: str | None = None) -> None:
    if raw is not None:
        responses.add(responses.POST, SEND_URL, status=status, body=raw)
        return
    if body is None:
        body = {"status": 0, "seq": 1, "message_token": 5741311803571721087}
    responses.add(responses.POST, SEND_URL, status=status, json=body)


def sent_body() -> dict:
    assert len(responses.calls) == 1
    request = responses.calls[0].request
    assert request.url == SEND_URL
    assert request.headers["Content-Type"] == "application/json"
    return json.loads(request.body)


@responses.activate
def test_text_is_accepted_with_the_message_token_as_a_string() -> None:
    reply_with()

    result = send(message(Content(type="text", text="Your code is 1234")))

    assert result == SendResult(SendOutcome.ACCEPTED, provider_message_id="5741311803571721087")
    assert sent_body() == {
        "service_id": 16273,
        "dest": DEST,
        "seq": seq_for(MESSAGE_UUID),
        "type": 106,
        "message": {"#txt": "Your code is 1234"},
        "label": "transaction",
    }
    assert responses.calls[0].request.req_kwargs["timeout"] == (2.0, 6.0)


@responses.activate
def test_image_with_caption_is_image_and_text_without_a_button() -> None:
    reply_with()
    caption = "A caption well past thirty characters: Viber shows up to 1000"

    send(
        message(
            Content(type="image", url="https://example.com/a.jpg", caption=caption),
            ViberOptions(category="promotion", ttl=600),
        )
    )

    # "#caption" is Viber's button label; empty "#caption" and "#action" hide the button.
    assert sent_body() == {
        "service_id": 16273,
        "dest": DEST,
        "seq": seq_for(MESSAGE_UUID),
        "type": 108,
        "message": {"#img": "https://example.com/a.jpg", "#txt": caption, "#caption": "", "#action": ""},
        "ttl": 600,
        "label": "promotion",
    }


BUTTON = ViberOptions(action_url="https://example.com/offer", action_text="See the offer")
BUTTON_KEYS = {"#caption": "See the offer", "#action": "https://example.com/offer"}


@responses.activate
def test_text_with_an_action_button_is_text_and_button() -> None:
    reply_with()

    send(message(Content(type="text", text="Your order shipped"), BUTTON))

    body = sent_body()
    assert (body["type"], body["message"]) == (109, {"#txt": "Your order shipped", **BUTTON_KEYS})


@responses.activate
def test_image_with_an_action_button_and_no_caption() -> None:
    reply_with()

    send(message(Content(type="image", url="https://example.com/a.jpg"), BUTTON))

    body = sent_body()
    assert (body["type"], body["message"]) == (108, {"#img": "https://example.com/a.jpg", **BUTTON_KEYS})


VIDEO = Content(type="video", url="https://example.com/v.mp4", thumb_url="https://example.com/t.jpg")
VIDEO_OPTIONS = ViberOptions(duration=45, file_size=12)


@pytest.mark.parametrize(
    ("content", "options", "message_type", "fields"),
    [
        (VIDEO, VIDEO_OPTIONS, 230, {"#action": "https://example.com/v.mp4"}),
        (
            Content(type="video", url=VIDEO.url, thumb_url=VIDEO.thumb_url, caption="Watch this"),
            VIDEO_OPTIONS,
            231,
            {"#action": "https://example.com/v.mp4", "#txt": "Watch this"},
        ),
        (
            VIDEO,
            ViberOptions(duration=45, file_size=12, action_url=BUTTON.action_url, action_text=BUTTON.action_text),
            233,
            {"#media": "https://example.com/v.mp4", **BUTTON_KEYS},
        ),
    ],
    ids=["video", "video-and-caption", "video-and-button"],
)
@responses.activate
def test_video_carries_thumbnail_duration_size_in_bytes_and_tracking_data(
    content: Content, options: ViberOptions, message_type: int, fields: dict[str, str]
) -> None:
    reply_with()

    send(message(content, options))

    body = sent_body()
    assert body["type"] == message_type
    assert body["message"] == {"#thumbnail": "https://example.com/t.jpg", "#tracking_data": MESSAGE_UUID, **fields}
    assert (body["duration"], body["file_size"]) == (45, 12 * 1024 * 1024)


@pytest.mark.parametrize(
    ("content", "name", "file_type"),
    [
        (Content(type="file", url="https://example.com/docs/Invoice%2042.PDF"), "Invoice 42.PDF", "pdf"),
        (Content(type="file", url="https://example.com/download?id=7", name="report.xlsx"), "report.xlsx", "xlsx"),
    ],
    ids=["name-from-url", "name-given"],
)
@responses.activate
def test_file_carries_its_name_and_type(content: Content, name: str, file_type: str) -> None:
    reply_with()

    send(message(content))

    body = sent_body()
    assert (body["type"], body["file_type"]) == (222, file_type)
    assert body["message"] == {"#action": content.url, "#fileName": name}


@responses.activate
def test_file_without_an_extension_is_rejected_unsent() -> None:
    result = send(message(Content(type="file", url="https://example.com/download")))

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1020)
    assert len(responses.calls) == 0


@responses.activate
def test_image_without_caption_sends_no_caption_key() -> None:
    reply_with()

    send(message(Content(type="image", url="https://example.com/a.jpg"), ViberOptions(category="transaction")))

    assert sent_body()["message"] == {"#img": "https://example.com/a.jpg"}


def test_seq_is_stable_per_message_and_fits_a_signed_64_bit_long() -> None:
    uuids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(200)]
    seqs = [seq_for(each) for each in uuids]

    assert seqs == [seq_for(each) for each in uuids]
    assert len(set(seqs)) == len(seqs)
    assert all(0 <= seq < 2**63 for seq in seqs)


@responses.activate
def test_a_resend_of_the_same_message_carries_the_same_seq() -> None:
    reply_with()
    reply_with()
    msg = message(Content(type="text", text="Hi"))

    send(msg)
    send(msg)

    first, second = (json.loads(call.request.body)["seq"] for call in responses.calls)
    assert first == second


@pytest.mark.parametrize("service_id", ["999", "abc"])
@responses.activate
def test_unconfigured_service_is_rejected_without_calling_viber(service_id: str) -> None:
    result = send(message(Content(type="text", text="Hi"), service_id=service_id))

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1120)
    assert len(responses.calls) == 0


@responses.activate
def test_configured_but_non_numeric_service_id_is_rejected() -> None:
    config = {"viber": {"service_ids": ["abc"]}}

    result = ViberAdapter().send(message(Content(type="text", text="Hi"), service_id="abc"), MESSAGE_UUID, config)

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1120)
    assert len(responses.calls) == 0


@pytest.mark.parametrize("media", ["audio", "video"])  # a video without its thumbnail cannot be sent
@responses.activate
def test_content_viber_cannot_carry_is_rejected(media: str) -> None:
    result = send(message(Content(type=media, url="https://example.com/x")))

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1040)
    assert len(responses.calls) == 0


@pytest.mark.parametrize(
    "status, outcome, code",
    [
        (1, SendOutcome.RETRY, 1100),
        (2, SendOutcome.REJECTED, 1120),
        (3, SendOutcome.REJECTED, 1040),
        (4, SendOutcome.REJECTED, 1140),
        (5, SendOutcome.REJECTED, 1040),
        (6, SendOutcome.REJECTED, 1020),
        (7, SendOutcome.RETRY, 1100),
        (8, SendOutcome.REJECTED, 1050),
        (9, SendOutcome.REJECTED, 1300),
        (10, SendOutcome.REJECTED, 1310),
        (11, SendOutcome.REJECTED, 1140),
        (12, SendOutcome.REJECTED, 1320),
        (13, SendOutcome.REJECTED, 1140),
        (14, SendOutcome.REJECTED, 1290),
        (17, SendOutcome.REJECTED, 1070),
        (18, SendOutcome.REJECTED, 1020),
        (20, SendOutcome.REJECTED, 1130),
        (21, SendOutcome.REJECTED, 1340),
        (27, SendOutcome.REJECTED, 1240),
        (28, SendOutcome.REJECTED, 1040),
        (29, SendOutcome.REJECTED, 1020),
        (30, SendOutcome.REJECTED, 1020),
        (31, SendOutcome.REJECTED, 1020),
        (32, SendOutcome.REJECTED, 1020),
        (99, SendOutcome.REJECTED, 1030),
        ("9", SendOutcome.REJECTED, 1300),
    ],
)
@responses.activate
def test_viber_statuses_map_to_nexmo_codes(status: int | str, outcome: SendOutcome, code: int) -> None:
    reply_with({"status": status, "seq": seq_for(MESSAGE_UUID)})

    result = send(message(Content(type="text", text="Hi")))

    assert (result.outcome, result.error_code) == (outcome, code)
    assert result.provider_message_id is None
    assert result.error_reason


@responses.activate
def test_not_a_viber_user_reason_names_the_viber_status() -> None:
    reply_with({"status": 9, "seq": 1})

    result = send(message(Content(type="text", text="Hi")))

    assert result.error_reason == "Not part of the provider network: SRVC_NOT_VIBER_USER"


@responses.activate
def test_unauthorized_ip_answered_with_http_401_still_maps_the_status() -> None:
    reply_with({"status": 11, "seq": 1}, status=401)

    result = send(message(Content(type="text", text="Hi")))

    assert (result.outcome, result.error_code) == (SendOutcome.REJECTED, 1140)


@pytest.mark.parametrize(
    "http_status, kwargs, outcome, code",
    [
        (429, {"raw": "Too Many Requests"}, SendOutcome.RETRY, 1000),
        (500, {"raw": "<html>error</html>"}, SendOutcome.UNKNOWN, 1100),
        (504, {"body": {"status": 0, "message_token": 1}}, SendOutcome.UNKNOWN, 1100),
        (503, {"body": {"status": 0, "message_token": 1}}, SendOutcome.RETRY, 1100),
        (503, {"body": {"status": 99}}, SendOutcome.RETRY, 1100),
        (502, {"body": {"status": 9}}, SendOutcome.REJECTED, 1300),
        (200, {"raw": "not json"}, SendOutcome.REJECTED, 1030),
        (200, {"body": {"seq": 1}}, SendOutcome.REJECTED, 1030),
        (200, {"body": ["status", 0]}, SendOutcome.REJECTED, 1030),
    ],
)
@responses.activate
def test_throttling_server_errors_and_unparsable_answers(
    http_status: int, kwargs: dict, outcome: SendOutcome, code: int
) -> None:
    reply_with(status=http_status, **kwargs)

    result = send(message(Content(type="text", text="Hi")))

    assert (result.outcome, result.error_code) == (outcome, code)


@pytest.mark.parametrize(
    "failure, outcome",
    [
        (requests.exceptions.ReadTimeout("read timed out"), SendOutcome.UNKNOWN),
        (requests.exceptions.ConnectionError(MaxRetryError(None, "/send_message", OSError("refused"))), SendOutcome.RETRY),
    ],
)
@responses.activate
def test_failures_before_sending_are_retried_and_after_it_are_unknown(failure: Exception, outcome: SendOutcome) -> None:
    responses.add(responses.POST, SEND_URL, body=failure)

    result = send(message(Content(type="text", text="Hi")))

    assert (result.outcome, result.error_code) == (outcome, 1100)
