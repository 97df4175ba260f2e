"""Contract: every SMS, Messenger and Viber model of the official Vonage SDK against the local stack.

Each model is built with the SDK (vonage 4.9.1 / vonage-messages 1.8.1), with every option its
options classes can set used by at least one case, and sent through the SDK's own client once with
the demo application's JWT and once with the account's Basic credentials. A case either reaches the
provider simulator exactly once as the request written here (read back from the simulator's request
log), or is refused with the 422 docs/api.md documents and reaches no provider.

Two checks keep the suite whole: every message model the SDK has for the three channels is sent by
some case, and every field those models can set (options included) is set by some case.
"""

from __future__ import annotations

import inspect
import typing
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel
from vonage import Auth, HttpClientOptions, Vonage
from vonage_http_client.errors import HttpRequestError
from vonage_messages import models
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
from tests.support.webhook_checks import sink_base_url

AUTH_METHODS = ("jwt", "basic")
CHANNELS = ("sms", "messenger", "viber_service")
SMS_SENDER = "Acme"
SERVICE_ID = int(DEMO_VIBER_SERVICE_ID)
MESSENGER_PATH = f"/messenger/{MESSENGER_API_VERSION}/me/messages?access_token=***"
VIBER_PATH = "/viber/send_message"
SMS_PATH = "/sms/sms/json"
BYTES_PER_MB = 1024 * 1024
STATUS_PATH = "/contract/sdk-status"
RETIRED = "was retired by Facebook on 2020-03-04"


@dataclass(frozen=True)
class Context:
    """What the expected requests depend on: the stack's SMS API key and the sink's URL."""

    sms_api_key: str
    status_url: str


@dataclass(frozen=True)
class Case:
    """One SDK message and what must come of it: a provider request, or a refusal."""

    id: str
    message: BaseMessage
    provider: str
    recipient: str
    path: str = ""
    body: Callable[[str], dict[str, Any]] | None = None  # of the message uuid
    refusal: dict[str, str] = field(default_factory=dict)  # invalid_parameters: name -> reason


def sms_cases(context: Context) -> list[Case]:
    to, text = unique_msisdn(), unique_text("SDK SMS, every option")
    every_option = models.Sms(
        to=to,
        from_=SMS_SENDER,
        text=text,
        ttl=900,
        trusted_recipient=True,
        client_ref=f"sdk-{uuid.uuid4().hex[:8]}",
        webhook_url=context.status_url,
        webhook_version="v1",
        sms=models.SmsOptions(encoding_type="unicode", content_id="1107160000000001", entity_id="1201160000000001"),
    )
    pool_to, long_to = unique_msisdn(), unique_msisdn()
    with_pool = models.Sms(to=pool_to, from_=SMS_SENDER, text="pool", sms=models.SmsOptions(pool_id="pool-1"))
    return [
        Case(
            "sms",
            every_option,
            "sms",
            to,
            SMS_PATH,
            lambda message_uuid: {
                "api_key": context.sms_api_key,
                "api_secret": "***",
                "from": SMS_SENDER,
                "to": to,
                "text": text,
                "type": "unicode",
                "ttl": "900000",
                "content-id": "1107160000000001",
                "entity-id": "1201160000000001",
                "status-report-req": "1",
                "client-ref": message_uuid,
            },
        ),
        Case(
            "sms-over-1000-characters",
            models.Sms(to=long_to, from_=SMS_SENDER, text="x" * 1001),  # the SDK allows 3200
            "sms",
            long_to,
            refusal={"text": "must be at most 1000 characters for sms"},
        ),
        Case(
            "sms-pool-id",
            with_pool,
            "sms",
            pool_to,
            refusal={
                "sms.pool_id": "is not supported by this deployment (it has no number pools); "
                "send from a number of your own"
            },
        ),
    ]


def messenger_cases() -> list[Case]:
    cases = []
    text_to, text = unique_psid(), unique_text("SDK Messenger text")
    cases.append(
        Case(
            "messenger-text",
            models.MessengerText(
                to=text_to,
                from_=DEMO_PAGE_ID,
                text=text,
                messenger=models.MessengerOptions(category="message_tag", tag="CUSTOMER_FEEDBACK"),
            ),
            "messenger",
            text_to,
            MESSENGER_PATH,
            lambda _uuid: {
                "messaging_type": "MESSAGE_TAG",
                "recipient": {"id": text_to},
                "message": {"text": text},
                "tag": "CUSTOMER_FEEDBACK",
            },
        )
    )
    media = {
        "image": (models.MessengerImage, models.MessengerOptions(category="response"), "RESPONSE"),
        "audio": (models.MessengerAudio, models.MessengerOptions(category="update"), "UPDATE"),
        "video": (models.MessengerVideo, models.MessengerOptions(category="message_tag", tag="human_agent"), None),
        "file": (models.MessengerFile, None, "RESPONSE"),
    }
    for kind, (model, options, messaging_type) in media.items():
        to, url = unique_psid(), f"https://media.example.com/{uuid.uuid4().hex}/sdk.{kind}"
        expected: dict[str, Any] = {
            "messaging_type": messaging_type or "MESSAGE_TAG",
            "recipient": {"id": to},
            "message": {"attachment": {"type": kind, "payload": {"url": url, "is_reusable": True}}},
        }
        if messaging_type is None:
            expected["tag"] = "HUMAN_AGENT"
        message = model(to=to, from_=DEMO_PAGE_ID, messenger=options, **{kind: models.MessengerResource(url=url)})
        cases.append(Case(f"messenger-{kind}", message, "messenger", to, MESSENGER_PATH, lambda _u, e=expected: e))
    retired_to = unique_psid()
    cases.append(
        Case(
            "messenger-retired-tag",
            models.MessengerText(
                to=retired_to,
                from_=DEMO_PAGE_ID,
                text="retired",
                messenger=models.MessengerOptions(category="message_tag", tag="ticket_update"),
            ),
            "messenger",
            retired_to,
            refusal={"messenger.tag": f"TICKET_UPDATE {RETIRED}; use CONFIRMED_EVENT_UPDATE"},
        )
    )
    return cases


def viber_body(to: str, message_type: int, message: dict[str, Any], **top_level: Any) -> dict[str, Any]:
    """The send_message body without its ``seq`` (derived from the message uuid, checked apart)."""
    return {
        "service_id": SERVICE_ID,
        "dest": to,
        "type": message_type,
        "message": message,
        **top_level,
        "label": "transaction",
    }


def viber_cases() -> list[Case]:
    action = models.ViberAction(url="https://shop.example.com/offer", text="See the offer")
    button = {"#caption": "See the offer", "#action": "https://shop.example.com/offer"}
    cases = []

    to, text = unique_msisdn(), unique_text("SDK Viber text with a button")
    options = models.ViberTextOptions(category="transaction", ttl=3600, type="string", action=action)
    cases.append(
        Case(
            "viber-text",
            models.ViberText(to=to, from_=DEMO_VIBER_SERVICE_ID, text=text, viber_service=options),
            "viber",
            to,
            VIBER_PATH,
            lambda _u, to=to, text=text: viber_body(to, 109, {"#txt": text, **button}, ttl=3600),
        )
    )

    to, url = unique_msisdn(), f"https://media.example.com/{uuid.uuid4().hex}/a.jpg"
    caption = unique_text("An image caption longer than Viber's 30-character button label")
    image = models.ViberImageResource(url=url, caption=caption)
    cases.append(
        Case(
            "viber-image",
            models.ViberImage(
                to=to,
                from_=DEMO_VIBER_SERVICE_ID,
                image=image,
                viber_service=models.ViberImageOptions(category="transaction", ttl=600, type="string", action=action),
            ),
            "viber",
            to,
            VIBER_PATH,
            lambda _u, to=to, url=url, caption=caption: viber_body(
                to, 108, {"#img": url, "#txt": caption, **button}, ttl=600
            ),
        )
    )

    to, url = unique_msisdn(), f"https://media.example.com/{uuid.uuid4().hex}/b.jpg"
    hidden_button = {"#caption": "", "#action": ""}
    captioned = models.ViberImageResource(url=url, caption="Hi")
    cases.append(
        Case(
            "viber-image-caption-only",
            models.ViberImage(to=to, from_=DEMO_VIBER_SERVICE_ID, image=captioned),
            "viber",
            to,
            VIBER_PATH,
            lambda _u, to=to, url=url: viber_body(to, 108, {"#img": url, "#txt": "Hi", **hidden_button}),
        )
    )

    for with_caption in (True, False):
        to, url = unique_msisdn(), f"https://media.example.com/{uuid.uuid4().hex}/v.mp4"
        thumb = f"https://media.example.com/{uuid.uuid4().hex}/t.jpg"
        video_caption = unique_text("Watch") if with_caption else None
        video = models.ViberVideoResource(url=url, thumb_url=thumb, caption=video_caption)
        options = models.ViberVideoOptions(
            duration="45", file_size="12", category="transaction", ttl=600, type="string"
        )

        def expected(
            message_uuid: str, to: str = to, url: str = url, thumb: str = thumb, cap: str | None = video_caption
        ) -> dict[str, Any]:
            fields = {"#action": url, "#thumbnail": thumb, "#tracking_data": message_uuid}
            if cap:
                fields["#txt"] = cap
            return viber_body(to, 231 if cap else 230, fields, duration=45, file_size=12 * BYTES_PER_MB, ttl=600)

        cases.append(
            Case(
                "viber-video" + ("-caption" if with_caption else ""),
                models.ViberVideo(to=to, from_=DEMO_VIBER_SERVICE_ID, video=video, viber_service=options),
                "viber",
                to,
                VIBER_PATH,
                expected,
            )
        )

    to, url = unique_msisdn(), f"https://media.example.com/{uuid.uuid4().hex}/download"
    resource = models.ViberFileResource(url=url, name="Invoice 42.pdf")
    options = models.ViberFileOptions(category="transaction", ttl=600, type="string")
    cases.append(
        Case(
            "viber-file",
            models.ViberFile(to=to, from_=DEMO_VIBER_SERVICE_ID, file=resource, viber_service=options),
            "viber",
            to,
            VIBER_PATH,
            lambda _u, to=to, url=url: viber_body(
                to, 222, {"#action": url, "#fileName": "Invoice 42.pdf"}, file_type="pdf", ttl=600
            ),
        )
    )

    to = unique_msisdn()
    cases.append(
        Case(
            "viber-template-type",
            models.ViberText(
                to=to, from_=DEMO_VIBER_SERVICE_ID, text="t", viber_service=models.ViberTextOptions(type="template")
            ),
            "viber",
            to,
            refusal={"viber_service.type": "template is not supported by this deployment (it has no Viber templates)"},
        )
    )
    return cases


def all_cases(context: Context) -> list[Case]:
    return [*sms_cases(context), *messenger_cases(), *viber_cases()]


CASE_IDS = [case.id for case in all_cases(Context("key", "https://example.com"))]


def sdk_client(stack: RunningStack, auth_method: str) -> Vonage:
    if auth_method == "jwt":
        auth = Auth(application_id=stack.application_id, private_key=stack.private_key_path)
    else:
        auth = Auth(api_key=stack.api_key, api_secret=stack.api_secret)
    return Vonage(auth, HttpClientOptions(api_host=stack.https_api_host))


@dataclass(frozen=True)
class Sent:
    case: Case
    message_uuid: str | None  # None when refused
    refusal: Any = None  # the refused request's response


@pytest.fixture(scope="module")
def sent(stack: RunningStack) -> Iterator[dict[str, Sent]]:
    """Every case sent once per auth method, up front, so the sender's work overlaps: by ``<case>-<auth>``."""
    context = Context(channels_secret(stack)["sms"]["api_key"], sink_base_url(stack) + STATUS_PATH)
    results: dict[str, Sent] = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REQUESTS_CA_BUNDLE", stack.tls_cert_path)  # the SDK speaks HTTPS only
        for method in AUTH_METHODS:
            client = sdk_client(stack, method)
            for case in all_cases(context):
                try:
                    response = client.messages.send(case.message)
                except HttpRequestError as refused:
                    results[f"{case.id}-{method}"] = Sent(case, None, refused.response)
                else:
                    results[f"{case.id}-{method}"] = Sent(case, response.message_uuid)
    yield results


SENT_IDS = [f"{case_id}-{method}" for case_id in CASE_IDS for method in AUTH_METHODS]


@pytest.mark.parametrize("sent_id", SENT_IDS)
def test_each_sdk_message_reaches_the_provider_as_written_or_is_refused_as_documented(
    stack: RunningStack, sent: dict[str, Sent], sent_id: str
) -> None:
    result = sent[sent_id]
    case = result.case
    if case.refusal:
        assert result.message_uuid is None, f"{case.id} was accepted"
        assert result.refusal.status_code == 422
        assert result.refusal.headers["content-type"].startswith("application/problem+json")
        problem = result.refusal.json()
        assert {p["name"]: p["reason"] for p in problem["invalid_parameters"]} == case.refusal
        assert provider_requests_to(stack, case.provider, case.recipient) == []
        return

    assert result.message_uuid is not None, f"{case.id} was refused: {result.refusal.text}"
    view = wait_until_settled(stack, result.message_uuid)
    assert view["status"] == SUBMITTED, view
    assert history_statuses(view) == ["accepted", "sending", "submitted"]
    requests_made = provider_requests_to(stack, case.provider, case.recipient)
    assert len(requests_made) == 1, requests_made
    request = requests_made[0]
    assert (request["method"], request["path"], request["response_status"]) == ("POST", case.path, 200)
    body = dict(request["body"])
    if case.provider == "viber":
        assert isinstance(body.pop("seq"), int)
        assert request["response_body"]["status"] == 0, request["response_body"]
    assert case.body is not None
    assert body == case.body(result.message_uuid)


@pytest.mark.parametrize("auth_method", AUTH_METHODS)
def test_the_sdks_client_ref_and_webhook_url_are_kept(
    stack: RunningStack, sent: dict[str, Sent], auth_method: str
) -> None:
    result = sent[f"sms-{auth_method}"]
    assert result.message_uuid is not None
    view = lookup(stack, result.message_uuid)
    assert view["client_ref"] == result.case.message.client_ref
    assert view["webhook_url"] == result.case.message.webhook_url


# --- the suite covers the whole SDK ----------------------------------------------------------------


def sdk_message_models() -> set[type[BaseMessage]]:
    """Every message model of the SDK whose channel is SMS, Messenger or Viber."""
    found = set()
    for _, model in inspect.getmembers(models, inspect.isclass):
        if issubclass(model, BaseMessage) and "message_type" in model.model_fields:
            channel = model.model_fields["channel"].default
            if getattr(channel, "value", channel) in CHANNELS:
                found.add(model)
    return found


def field_paths(model: type[BaseModel], prefix: str = "") -> set[str]:
    """Every settable field of ``model``, nested models' fields as dotted paths (``sms.pool_id``)."""
    paths = set()
    for name, info in model.model_fields.items():
        if name in ("channel", "message_type"):
            continue
        path = prefix + name
        nested = [arg for arg in (info.annotation, *typing.get_args(info.annotation)) if _is_model(arg)]
        if nested:
            paths |= field_paths(nested[0], path + ".")
        else:
            paths.add(path)
    return paths


def _is_model(value: Any) -> bool:
    return inspect.isclass(value) and issubclass(value, BaseModel)


def set_paths(value: Any, prefix: str = "") -> set[str]:
    if not isinstance(value, BaseModel):
        return {prefix.rstrip(".")}
    paths = set()
    for name in value.model_fields_set:
        if name not in ("channel", "message_type") and getattr(value, name) is not None:
            paths |= set_paths(getattr(value, name), prefix + name + ".")
    return paths


def test_every_sdk_message_model_of_the_three_channels_is_sent() -> None:
    cases = all_cases(Context("key", "https://example.com"))
    models_sent = {type(case.message) for case in cases}
    assert sdk_message_models() == models_sent
    assert len(models_sent) == 10  # Sms, 5 Messenger, 4 Viber (vonage-messages 1.8.1)


def test_every_field_and_option_the_models_have_is_set_by_some_case() -> None:
    """A field path (``viber_service.action.text``) counts as covered when any case sets it."""
    cases = all_cases(Context("key", "https://example.com"))
    used = set().union(*(set_paths(case.message) for case in cases))
    for model in sdk_message_models():
        assert field_paths(model) - used == set(), model.__name__
