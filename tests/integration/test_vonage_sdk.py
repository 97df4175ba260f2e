"""The official Vonage Python SDK against the local stack: what its users send must work unchanged.

The SDK only speaks HTTPS (``https://{api_host}/v1/messages``) and verifies certificates against
``REQUESTS_CA_BUNDLE``, so every client here is built while that points at the stack's certificate.
Each message goes out once with the demo application's JWT and once with the account's Basic
credentials; the provider simulator must receive each exactly once, in its own format.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from vonage import Auth, HttpClientOptions, Vonage
from vonage_http_client.errors import AuthenticationError, HttpRequestError
from vonage_messages import (
    MessengerImage,
    MessengerOptions,
    MessengerResource,
    MessengerText,
    Sms,
    SmsOptions,
    ViberText,
    ViberTextOptions,
)
from vonage_messages.models import BaseMessage

from local_stack.simulators import DEMO_PAGE_ID, DEMO_VIBER_SERVICE_ID, MESSENGER_API_VERSION
from tests.support.stack import RunningStack
from tests.support.stack_requests import (
    SUBMITTED,
    channels_secret,
    history_statuses,
    lookup,
    provider_requests_to,
    unique_msisdn,
    unique_psid,
    unique_text,
    wait_until_settled,
)

pytestmark = pytest.mark.integration

AUTH_METHODS = ("jwt", "basic")
SMS_SENDER = "Acme"
VIBER_TEXT_TYPE = 106


def sdk_client(stack: RunningStack, auth_method: str, api_secret: str | None = None) -> Vonage:
    """A client as an SDK user builds one, aimed at the stack (``REQUESTS_CA_BUNDLE`` must trust its cert)."""
    if auth_method == "jwt":
        auth = Auth(application_id=stack.application_id, private_key=stack.private_key_path)
    else:
        auth = Auth(api_key=stack.api_key, api_secret=api_secret or stack.api_secret)
    return Vonage(auth, HttpClientOptions(api_host=stack.https_api_host))


@pytest.fixture
def trusts_the_stack(stack: RunningStack, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", stack.tls_cert_path)


@dataclass(frozen=True)
class SdkMessage:
    """A message built with the SDK's own model and the provider request it must become."""

    id: str
    auth_method: str
    message: BaseMessage
    provider: str
    recipient: str
    expected_path: str
    expected_body: Callable[[str], dict[str, Any]]  # of the message uuid


def sms_message(auth_method: str, sms_api_key: str) -> SdkMessage:
    to, text = unique_msisdn(), unique_text(f"SDK SMS with {auth_method}")
    reference = f"sdk-{auth_method}-{uuid.uuid4().hex[:8]}"
    message = Sms(
        to=to, from_=SMS_SENDER, text=text, ttl=900, client_ref=reference, sms=SmsOptions(encoding_type="text")
    )
    return SdkMessage(
        f"sms-{auth_method}",
        auth_method,
        message,
        "sms",
        to,
        "/sms/sms/json",
        lambda message_uuid: {
            "api_key": sms_api_key,
            "api_secret": "***",
            "from": SMS_SENDER,
            "to": to,
            "text": text,
            "type": "text",
            "ttl": "900000",
            "status-report-req": "1",
            "client-ref": message_uuid,
        },
    )


def messenger_image_message(auth_method: str) -> SdkMessage:
    psid, url = unique_psid(), f"https://media.example.com/{uuid.uuid4().hex}/sdk.jpg"
    message = MessengerImage(
        to=psid,
        from_=DEMO_PAGE_ID,
        image=MessengerResource(url=url),
        messenger=MessengerOptions(category="message_tag", tag="account_update"),
    )
    return SdkMessage(
        f"messenger-image-{auth_method}",
        auth_method,
        message,
        "messenger",
        psid,
        f"/messenger/{MESSENGER_API_VERSION}/me/messages?access_token=***",
        lambda _message_uuid: {
            "messaging_type": "MESSAGE_TAG",
            "recipient": {"id": psid},
            "message": {"attachment": {"type": "image", "payload": {"url": url, "is_reusable": True}}},
            "tag": "ACCOUNT_UPDATE",
        },
    )


def viber_text_message(auth_method: str) -> SdkMessage:
    to, text = unique_msisdn(), unique_text(f"SDK Viber with {auth_method}")
    message = ViberText(
        to=to,
        from_=DEMO_VIBER_SERVICE_ID,
        text=text,
        viber_service=ViberTextOptions(category="transaction", ttl=3600, type="string"),
    )
    return SdkMessage(
        f"viber-text-{auth_method}",
        auth_method,
        message,
        "viber",
        to,
        "/viber/send_message",
        lambda _message_uuid: {
            "service_id": int(DEMO_VIBER_SERVICE_ID),
            "dest": to,
            "type": VIBER_TEXT_TYPE,
            "message": {"#txt": text},
            "ttl": 3600,
            "label": "transaction",
        },
    )


SDK_MESSAGE_IDS = [f"{kind}-{method}" for kind in ("sms", "messenger-image", "viber-text") for method in AUTH_METHODS]


@pytest.fixture(scope="module")
def sdk_sent(stack: RunningStack) -> Iterator[dict[str, tuple[SdkMessage, str]]]:
    """Every SDK message sent once, up front: (message, message_uuid) by id."""
    sms_api_key = channels_secret(stack)["sms"]["api_key"]
    messages = [
        build
        for method in AUTH_METHODS
        for build in (sms_message(method, sms_api_key), messenger_image_message(method), viber_text_message(method))
    ]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUESTS_CA_BUNDLE", stack.tls_cert_path)
        clients = {method: sdk_client(stack, method) for method in AUTH_METHODS}
        sent = {}
        for each in messages:
            response = clients[each.auth_method].messages.send(each.message)
            sent[each.id] = (each, response.message_uuid)
    yield sent


@pytest.mark.parametrize("message_id", SDK_MESSAGE_IDS)
def test_the_sdk_sends_each_channel_and_the_provider_receives_it_once(
    stack: RunningStack, sdk_sent: dict[str, tuple[SdkMessage, str]], message_id: str
) -> None:
    message, message_uuid = sdk_sent[message_id]
    assert str(uuid.UUID(message_uuid)) == message_uuid

    view = wait_until_settled(stack, message_uuid)
    assert view["status"] == SUBMITTED, view
    assert history_statuses(view) == ["accepted", "sending", "submitted"]
    sent = provider_requests_to(stack, message.provider, message.recipient)
    assert len(sent) == 1, sent
    request = sent[0]
    assert (request["method"], request["path"], request["response_status"]) == ("POST", message.expected_path, 200)
    body = dict(request["body"])
    if message.provider == "viber":
        assert isinstance(body.pop("seq"), int)
    assert body == message.expected_body(message_uuid)


def test_the_sdks_client_ref_is_kept_on_the_message(
    stack: RunningStack, sdk_sent: dict[str, tuple[SdkMessage, str]]
) -> None:
    message, message_uuid = sdk_sent["sms-basic"]
    view = lookup(stack, message_uuid)
    assert view["client_ref"] == message.message.client_ref
    assert (view["channel"], view["to"], view["from"]) == ("sms", message.recipient, SMS_SENDER)


@pytest.mark.usefixtures("trusts_the_stack")
@pytest.mark.parametrize("auth_method", AUTH_METHODS)
def test_a_request_the_api_refuses_surfaces_as_the_sdks_http_error_with_status_422(
    stack: RunningStack, auth_method: str
) -> None:
    psid = unique_psid()
    # The SDK accepts any tag; the API knows Facebook's list.
    invalid = MessengerText(
        to=psid,
        from_=DEMO_PAGE_ID,
        text=unique_text("SDK invalid tag"),
        messenger=MessengerOptions(category="message_tag", tag="not_a_real_tag"),
    )

    with pytest.raises(HttpRequestError) as raised:
        sdk_client(stack, auth_method).messages.send(invalid)

    error = raised.value
    assert type(error) is HttpRequestError  # not one of its status-specific subclasses
    assert error.response.status_code == 422
    assert error.response.headers["content-type"].startswith("application/problem+json")
    assert error.response.headers["x-nexmo-trace-id"]
    problem = error.response.json()
    assert problem["title"] == "Invalid params"
    assert [parameter["name"] for parameter in problem["invalid_parameters"]] == ["messenger.tag"]
    assert provider_requests_to(stack, "messenger", psid) == []


@pytest.mark.usefixtures("trusts_the_stack")
def test_wrong_credentials_surface_as_the_sdks_authentication_error(stack: RunningStack) -> None:
    message = Sms(to=unique_msisdn(), from_=SMS_SENDER, text=unique_text("SDK wrong secret"))

    with pytest.raises(AuthenticationError) as raised:
        sdk_client(stack, "basic", api_secret="NotTheSecret123").messages.send(message)

    assert raised.value.response.status_code == 401
    assert raised.value.response.headers["content-type"].startswith("application/problem+json")
