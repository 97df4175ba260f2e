"""Channels configuration from Secrets Manager, the adapter registry and the sender-configuration check."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities import parameters

from tests.support.stores import channels_config
from switchboard.adapters.providers.messenger_api import MessengerAdapter
from switchboard.adapters.providers.registry import adapter_for, unconfigured_sender
from switchboard.adapters.providers.sms_api import SmsAdapter
from switchboard.adapters.providers.viber_api import ViberAdapter
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage

CONFIG = {
    "messenger": {
        "api_base": "https://graph.facebook.com",
        "api_version": "v18.0",
        "app_secret": "app-secret",
        "verify_token": "verify-token",
        "pages": {"1234": "page-token"},
    },
    "viber": {"api_base": "https://services.viber.com/vibersrvc/1", "callback_secret": "cb", "service_ids": [16273, "555"]},
    "sms": {
        "api_base": "https://rest.nexmo.com",
        "api_key": "abcd1234",
        "api_secret": "secret",
        "signature_secret": "sig",
        "signature_method": "md5hash",
    },
}


@pytest.fixture
def secret(aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The deployment's channels secret id; the Powertools cache is empty before and after the test."""
    parameters.clear_caches()
    yield aws.env["CHANNELS_SECRET_ID"]
    parameters.clear_caches()


def put(aws, secret_id: str, value: dict) -> None:
    aws.client("secretsmanager").put_secret_value(SecretId=secret_id, SecretString=json.dumps(value))


def test_the_template_default_secret_parses(secret: str) -> None:
    config = channels_config()

    assert config["messenger"]["pages"] == {}
    assert config["viber"]["service_ids"] == []
    assert config["sms"]["api_base"] == "https://rest.nexmo.com"


def test_reads_the_current_secret_value(aws, secret: str) -> None:
    put(aws, secret, CONFIG)

    assert channels_config() == CONFIG


def test_a_second_call_within_max_age_makes_no_secrets_manager_call(aws, secret: str) -> None:
    put(aws, secret, CONFIG)
    first = channels_config()
    put(aws, secret, {**CONFIG, "sms": {}})

    second = channels_config()

    assert second == first == CONFIG
    parameters.clear_caches()
    assert channels_config()["sms"] == {}


def test_max_age_comes_from_the_settings(aws, secret: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECRETS_MAX_AGE_SECONDS", "0")  # 0 disables the cache
    put(aws, secret, CONFIG)
    channels_config()
    put(aws, secret, {**CONFIG, "sms": {}})

    assert channels_config()["sms"] == {}


@pytest.mark.parametrize(
    "channel, adapter_type",
    [(Channel.MESSENGER, MessengerAdapter), (Channel.VIBER, ViberAdapter), (Channel.SMS, SmsAdapter)],
)
def test_adapter_for_each_channel(channel: Channel, adapter_type: type) -> None:
    adapter = adapter_for(channel)

    assert isinstance(adapter, adapter_type)
    assert adapter.channel is channel
    assert adapter_for(channel) is adapter


def test_adapter_for_an_unknown_channel_raises() -> None:
    with pytest.raises(ValueError):
        adapter_for("mms")  # type: ignore[arg-type]


def message(channel: Channel, sender: Endpoint) -> OutboundMessage:
    return OutboundMessage(
        channel=channel,
        sender=sender,
        recipient=Endpoint(type=channel.value, number="447700900000"),
        content=Content(type="text", text="Hi"),
        api_version=ApiVersion.V0_1,
    )


@pytest.mark.parametrize(
    "channel, sender, config, expected",
    [
        (Channel.MESSENGER, "1234", CONFIG, None),
        (Channel.MESSENGER, "9999", CONFIG, "page 9999 is not configured for this deployment"),
        (Channel.MESSENGER, "1234", {"messenger": {"pages": {"1234": ""}}}, "page 1234 is not configured for this deployment"),
        (Channel.MESSENGER, "1234", {}, "page 1234 is not configured for this deployment"),
        (Channel.VIBER, "16273", CONFIG, None),
        (Channel.VIBER, "555", CONFIG, None),
        (Channel.VIBER, "777", CONFIG, "Viber service 777 is not configured for this deployment"),
        (Channel.VIBER, "16273", {"viber": {}}, "Viber service 16273 is not configured for this deployment"),
        (Channel.SMS, "Acme", CONFIG, None),
        (Channel.SMS, "447700900001", CONFIG, None),
        (Channel.SMS, "Acme", {"sms": {"api_key": ""}}, "the SMS channel is not configured for this deployment"),
        (Channel.SMS, "Acme", {}, "the SMS channel is not configured for this deployment"),
    ],
)
def test_unconfigured_sender(channel: Channel, sender: str, config: dict, expected: str | None) -> None:
    if channel is Channel.SMS:
        endpoint = Endpoint(type=channel.value, number=sender)
    else:
        endpoint = Endpoint(type=channel.value, id=sender)

    assert unconfigured_sender(message(channel, endpoint), config) == expected


def test_every_sender_is_unconfigured_with_the_template_default_secret(secret: str) -> None:
    config = channels_config()

    assert unconfigured_sender(message(Channel.MESSENGER, Endpoint(type="messenger", id="1234")), config)
    assert unconfigured_sender(message(Channel.VIBER, Endpoint(type="viber_service_msg", id="16273")), config)
    assert unconfigured_sender(message(Channel.SMS, Endpoint(type="sms", number="Acme")), config)
