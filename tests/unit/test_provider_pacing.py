"""Provider pacing: a token bucket per provider credential, and a 429 that slows the sender down."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
import responses

from switchboard.adapters.providers import transport
from switchboard.adapters.providers.pacing import PROVIDER_SEND_LIMITS, ProviderPacer
from switchboard.adapters.providers.sms_api import SmsAdapter
from switchboard.adapters.providers.whatsapp_api import WhatsAppAdapter
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage
from switchboard.domain.sending import SendOutcome


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def pacer(clock: FakeClock, containers: int = 1, max_wait: float = 5.0) -> ProviderPacer:
    return ProviderPacer({"sms": 30.0}, containers=containers, clock=clock, sleep=clock.sleep, max_wait_seconds=max_wait)


def test_a_container_keeps_its_share_of_the_limit() -> None:
    clock = FakeClock()
    sms = pacer(clock, containers=3)  # 30/s per API key over 3 containers: 10/s here
    for _ in range(10):  # a full bucket: one second's worth goes at once
        assert sms.acquire("sms", "key-a")
    assert clock.slept == []
    for _ in range(5):
        assert sms.acquire("sms", "key-a")
    assert clock.slept == [0.1] * 5  # then one every 1/10 s
    assert sms.rate("sms") == 10.0


def test_each_credential_has_its_own_bucket_and_unpaced_providers_pass() -> None:
    clock = FakeClock()
    sms = pacer(clock, containers=30)  # 1/s each
    assert sms.acquire("sms", "key-a")
    assert sms.acquire("sms", "key-b")
    assert sms.acquire("whatsapp", "anything")
    assert clock.slept == []
    assert sms.acquire("sms", "key-a")
    assert clock.slept == [1.0]


def test_a_pause_holds_every_send_on_that_credential_until_retry_after() -> None:
    clock = FakeClock()
    sms = pacer(clock)
    sms.pause("sms", "key-a", 2.5)
    assert sms.acquire("sms", "key-a")
    assert clock.slept == [2.5]
    assert sms.acquire("sms", "key-b")  # another API key is not paused
    assert clock.slept == [2.5]


def test_a_send_that_would_wait_too_long_is_refused_instead() -> None:
    clock = FakeClock()
    sms = pacer(clock, max_wait=1.0)
    sms.pause("sms", "key-a", 30)
    assert sms.acquire("sms", "key-a") is False
    assert clock.slept == []


def test_published_limits() -> None:
    assert PROVIDER_SEND_LIMITS["sms"] == 30.0  # Vonage: 30 API requests per second per API key
    assert PROVIDER_SEND_LIMITS["messenger"] == 300.0  # Meta: Send API, 300 calls/s per Page (text)
    assert PROVIDER_SEND_LIMITS["whatsapp"] == 80.0  # Meta: Cloud API, 80 messages/s per business number


@pytest.mark.parametrize(
    "header, seconds",
    [(None, None), ("7", 7.0), ("0.5", 0.5), ("-3", 0.0), ("soon", None), ("100000", 900.0),
     ("Wed, 21 Oct 2026 07:28:10 GMT", 10.0)],
)
def test_retry_after_is_read_as_seconds_or_a_date(header: str | None, seconds: float | None) -> None:
    now = 1792567680.0  # 2026-10-21T07:28:00Z
    read = transport.retry_after_seconds(header, now=now)
    assert read == (pytest.approx(seconds) if seconds is not None else None)


SMS_CONFIG = {"sms": {"api_key": "key-a", "api_secret": "s3cret", "api_base": "https://rest.example"}}


def sms(to: str = "447700900000") -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint(type="sms", number="Acme"),
        recipient=Endpoint(type="sms", number=to),
        content=Content(type="text", text="Hello"),
        api_version=ApiVersion.V1,
    )


@pytest.fixture
def paced() -> Iterator[FakeClock]:
    transport.configure(transport.ProviderHttp(pool_size=2, connect_timeout=2, read_timeout=5))
    clock = FakeClock()
    transport._pacer = ProviderPacer(clock=clock, sleep=clock.sleep)  # noqa: SLF001 - a clock the test drives
    yield clock
    transport.reset_sessions()


@responses.activate
def test_a_429_pauses_the_api_key_and_says_how_long_to_wait(paced: FakeClock) -> None:
    responses.post("https://rest.example/sms/json", status=429, headers={"Retry-After": "4"})
    result = SmsAdapter().send(sms(), "m-1", SMS_CONFIG)
    assert result.outcome is SendOutcome.RETRY and result.error_code == 1000
    assert result.retry_after_seconds == 4.0

    responses.replace(responses.POST, "https://rest.example/sms/json", json={"messages": [{"status": "0", "message-id": "x"}]})
    SmsAdapter().send(sms(), "m-2", SMS_CONFIG)
    assert paced.slept == [4.0]  # the next send on that key waited out the provider's Retry-After
    assert len(responses.calls) == 2


@responses.activate
def test_a_429_without_retry_after_backs_off_that_message_only(paced: FakeClock) -> None:
    responses.post("https://rest.example/sms/json", status=429)
    result = SmsAdapter().send(sms(), "m-1", SMS_CONFIG)
    assert result.outcome is SendOutcome.RETRY and result.retry_after_seconds is None
    responses.replace(responses.POST, "https://rest.example/sms/json", json={"messages": [{"status": "0", "message-id": "x"}]})
    SmsAdapter().send(sms(), "m-2", SMS_CONFIG)
    assert paced.slept == []  # the pacer's own rate keeps within the limit; nothing to wait out


WHATSAPP_SEND_URL = "https://graph.example.test/v21.0/106540352242922/messages"
WHATSAPP_CONFIG = {"whatsapp": {"api_base": "https://graph.example.test", "api_version": "v21.0", "numbers": {
    "447700900100": {"phone_number_id": "106540352242922", "access_token": "token-a"},
    "447700900200": {"phone_number_id": "106540352242999", "access_token": "token-b"},
}}}


def whatsapp(business: str) -> OutboundMessage:
    return OutboundMessage(
        channel=Channel.WHATSAPP,
        sender=Endpoint(type="whatsapp", number=business),
        recipient=Endpoint(type="whatsapp", number="447700900123"),
        content=Content(type="text", text="Hello"),
        api_version=ApiVersion.V1,
    )


@responses.activate
def test_a_whatsapp_429_pauses_that_business_number_only(paced: FakeClock) -> None:
    responses.post(WHATSAPP_SEND_URL, status=429, headers={"Retry-After": "3"})
    other_number = WHATSAPP_SEND_URL.replace("106540352242922", "106540352242999")
    responses.post(other_number, json={"messages": [{"id": "wamid.B"}]})

    result = WhatsAppAdapter().send(whatsapp("447700900100"), "m-1", WHATSAPP_CONFIG)
    WhatsAppAdapter().send(whatsapp("447700900200"), "m-2", WHATSAPP_CONFIG)

    assert result.outcome is SendOutcome.RETRY and result.retry_after_seconds == 3.0
    assert paced.slept == []  # another business number is its own credential: not paused
    responses.replace(responses.POST, WHATSAPP_SEND_URL, json={"messages": [{"id": "wamid.A"}]})
    WhatsAppAdapter().send(whatsapp("447700900100"), "m-3", WHATSAPP_CONFIG)
    assert paced.slept == [3.0]  # the paused number waited out Retry-After


@responses.activate
def test_a_sender_configured_without_pacing_never_waits_for_a_token() -> None:
    transport.configure(transport.ProviderHttp(pool_size=2, connect_timeout=2, read_timeout=5, containers=30, pacing=False))
    try:
        responses.post("https://rest.example/sms/json", json={"messages": [{"status": "0", "message-id": "x"}]})
        results = [SmsAdapter().send(sms(), f"m-{i}", SMS_CONFIG) for i in range(5)]  # 1/s each if paced
        assert [r.outcome for r in results] == [SendOutcome.ACCEPTED] * 5
        assert transport._pacer is None  # noqa: SLF001 - nothing paces this process's sends
    finally:
        transport.reset_sessions()
