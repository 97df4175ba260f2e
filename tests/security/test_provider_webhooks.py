"""Forged, replayed and out-of-order provider webhooks, for Messenger, Viber and the SMS API.

The targets are real messages of the victim, sent to recipients the simulators never report on, so
only the webhooks these tests send can change them. Each forgery is checked twice: refused with no
status change and no customer webhook, then the same event signed with the stack's real secret (as
the provider would sign it) is accepted and does change the message, which shows the forgery aimed
at something live.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from local_stack.simulators.signing import (
    messenger_signature_headers,
    sms_signed_params,
    viber_signature_headers,
)
from tests.security.bodies import V1_MESSAGES, flat_messenger, flat_sms, flat_viber
from tests.security.effects import (
    PROVIDER_REFUSAL_STATUS,
    assert_no_effects,
    assert_problem,
    marker,
    record,
    unique_msisdn,
    unique_psid,
    wait_for_provider_id,
    webhook_statuses,
    webhooks_mentioning,
)
from tests.security.tenants import Tenant
from tests.support.stack import RunningStack

MESSENGER, VIBER = "/webhooks/messenger", "/webhooks/viber"
SMS_DLR, SMS_INBOUND = "/webhooks/sms/dlr", "/webhooks/sms/inbound"
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
VICTIM_STATUS_PATH = "/webhooks/status"
VICTIM_INBOUND_PATH = "/webhooks/inbound"
HOUR = 3600


@dataclass(frozen=True)
class ProviderRequest:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    query: str = ""

    def send(self, stack: RunningStack) -> requests.Response:
        target = self.path + (f"?{self.query}" if self.query else "")
        return stack.request(self.method, target, headers=self.headers, data=self.body or None)


@dataclass(frozen=True)
class Target:
    """A submitted message of the victim: what a receipt needs to find it."""

    channel: str
    message_uuid: str
    to: str
    provider_id: str


# -- the providers' events ------------------------------------------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def sms_dlr_params(target: Target, victim: Tenant, status: str = "delivered") -> dict[str, str]:
    return {
        "msisdn": target.to,
        "to": victim.sms_number,
        "network-code": "23410",
        "messageId": target.provider_id,
        "price": "0.03330000",
        "status": status,
        "scts": "2601011200",
        "err-code": "0" if status == "delivered" else "2",
        "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def messenger_body(page_id: str, psid: str, item: dict[str, Any]) -> bytes:
    event = {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": now_ms(), **item}
    return json.dumps({"object": "page", "entry": [{"id": page_id, "time": now_ms(), "messaging": [event]}]}).encode()


def messenger_delivery(target: Target, victim: Tenant) -> bytes:
    return messenger_body(str(victim.page_id), target.to, {"delivery": {"mids": [target.provider_id], "seq": 0}})


def messenger_read(target: Target, victim: Tenant) -> bytes:
    return messenger_body(str(victim.page_id), target.to, {"read": {"watermark": now_ms() + 1000, "seq": 0}})


def viber_callback(target: Target, victim: Tenant, status: int = 0) -> bytes:
    token: int | str = int(target.provider_id) if target.provider_id.isdigit() else target.provider_id
    return json.dumps(
        {
            "message_token": token,
            "message_status": status,
            "message_time": now_ms(),
            "phone_number": target.to,
            "service_id": int(str(victim.viber_service_id)),
        }
    ).encode()


# -- signing, genuinely or not ----------------------------------------------------------------------


def sms_form(params: dict[str, str], path: str = SMS_DLR) -> ProviderRequest:
    return ProviderRequest("POST", path, {"Content-Type": FORM}, urlencode(params).encode())


def sms_signed(params: dict[str, str], channels: dict[str, Any], **kwargs: Any) -> dict[str, str]:
    sms = channels["sms"]
    return sms_signed_params(params, sms["signature_secret"], sms["signature_method"], **kwargs)


def messenger_post(body: bytes, headers: dict[str, str]) -> ProviderRequest:
    return ProviderRequest("POST", MESSENGER, {"Content-Type": JSON, **headers}, body)


def messenger_signed(body: bytes, channels: dict[str, Any]) -> dict[str, str]:
    return messenger_signature_headers(body, channels["messenger"]["app_secret"])


def viber_post(body: bytes, headers: dict[str, str]) -> ProviderRequest:
    return ProviderRequest("POST", VIBER, {"Content-Type": JSON, **headers}, body)


def viber_signed(body: bytes, channels: dict[str, Any]) -> dict[str, str]:
    return viber_signature_headers(body, channels["viber"]["callback_secret"])


def garbage_hex(length: int = 64) -> str:
    return secrets.token_hex(length // 2)


def _sms_tampered(p: dict[str, str], c: dict[str, Any]) -> ProviderRequest:
    signed = sms_signed({**p, "status": "accepted"}, c)  # a receipt that changes nothing, genuinely signed
    return sms_form({**signed, "status": "delivered"})


def _sms_sig_in_query(p: dict[str, str], c: dict[str, Any]) -> ProviderRequest:
    signed = sms_signed(p, c)
    signature = {name: signed.pop(name) for name in ("sig", "timestamp", "nonce")}
    return replace(sms_form(signed), query=urlencode(signature))


SMS_FORGERIES: dict[str, Callable[[dict[str, str], dict[str, Any]], ProviderRequest]] = {
    "unsigned": lambda p, c: sms_form(p),
    "unsigned-get": lambda p, c: ProviderRequest("GET", SMS_DLR, query=urlencode(p)),
    "garbage-sig": lambda p, c: sms_form({**p, "timestamp": str(int(time.time())), "nonce": "n", "sig": garbage_hex(32)}),
    "signed-with-another-secret": lambda p, c: sms_form(
        sms_signed_params(p, "not-the-secret", c["sms"]["signature_method"])
    ),
    "signed-by-another-method": lambda p, c: sms_form(sms_signed_params(p, c["sms"]["signature_secret"], "sha256")),
    "changed-after-signing": _sms_tampered,
    "signed-an-hour-ago": lambda p, c: sms_form(sms_signed(p, c, now=time.time() - HOUR)),
    "signed-an-hour-ahead": lambda p, c: sms_form(sms_signed(p, c, now=time.time() + HOUR)),
    "signature-in-the-query-of-a-post": _sms_sig_in_query,
}

MESSENGER_FORGERIES: dict[str, Callable[[bytes, dict[str, Any]], ProviderRequest]] = {
    "unsigned": lambda b, c: messenger_post(b, {}),
    "garbage-signature": lambda b, c: messenger_post(b, {"X-Hub-Signature-256": "sha256=" + garbage_hex()}),
    "signed-with-another-secret": lambda b, c: messenger_post(b, messenger_signature_headers(b, "not-the-secret")),
    "signature-of-another-body": lambda b, c: messenger_post(b, messenger_signed(b + b" ", c)),
    "empty-signature": lambda b, c: messenger_post(b, {"X-Hub-Signature-256": "sha256="}),
    "right-digest-under-another-scheme": lambda b, c: messenger_post(
        b, {"X-Hub-Signature-256": messenger_signed(b, c)["X-Hub-Signature-256"].replace("sha256=", "sha1=")}
    ),
    "wrong-sha1-only": lambda b, c: messenger_post(b, {"X-Hub-Signature": "sha1=" + garbage_hex(40)}),
    "valid-sha1-beside-a-wrong-sha256": lambda b, c: messenger_post(
        b, {"X-Hub-Signature": messenger_signed(b, c)["X-Hub-Signature"], "X-Hub-Signature-256": "sha256=" + garbage_hex()}
    ),
}

VIBER_FORGERIES: dict[str, Callable[[bytes, dict[str, Any]], ProviderRequest]] = {
    "unsigned": lambda b, c: viber_post(b, {}),
    "garbage-signature": lambda b, c: viber_post(b, {"X-Viber-Content-Signature": garbage_hex()}),
    "signed-with-another-secret": lambda b, c: viber_post(b, viber_signature_headers(b, "not-the-secret")),
    "signature-of-another-body": lambda b, c: viber_post(b, viber_signed(b + b" ", c)),
    "empty-signature": lambda b, c: viber_post(b, {"X-Viber-Content-Signature": ""}),
    "prefixed-signature": lambda b, c: viber_post(
        b, {"X-Viber-Content-Signature": "sha256=" + viber_signed(b, c)["X-Viber-Content-Signature"]}
    ),
}


@dataclass(frozen=True)
class ReceiptForgery:
    """A forged "delivered" receipt for ``target`` and the genuine one it imitates."""

    channel: str
    forge: Callable[[Target, Tenant, dict[str, Any]], ProviderRequest]
    genuine: Callable[[Target, Tenant, dict[str, Any]], ProviderRequest]


def _genuine_sms(t: Target, v: Tenant, c: dict[str, Any]) -> ProviderRequest:
    return sms_form(sms_signed(sms_dlr_params(t, v), c))


def _genuine_messenger(t: Target, v: Tenant, c: dict[str, Any]) -> ProviderRequest:
    body = messenger_delivery(t, v)
    return messenger_post(body, messenger_signed(body, c))


def _genuine_viber(t: Target, v: Tenant, c: dict[str, Any]) -> ProviderRequest:
    body = viber_callback(t, v)
    return viber_post(body, viber_signed(body, c))


RECEIPT_FORGERIES: dict[str, ReceiptForgery] = {
    **{
        f"sms-{name}": ReceiptForgery("sms", lambda t, v, c, f=forge: f(sms_dlr_params(t, v), c), _genuine_sms)
        for name, forge in SMS_FORGERIES.items()
    },
    **{
        f"messenger-{name}": ReceiptForgery(
            "messenger", lambda t, v, c, f=forge: f(messenger_delivery(t, v), c), _genuine_messenger
        )
        for name, forge in MESSENGER_FORGERIES.items()
    },
    **{
        f"viber-{name}": ReceiptForgery("viber", lambda t, v, c, f=forge: f(viber_callback(t, v), c), _genuine_viber)
        for name, forge in VIBER_FORGERIES.items()
    },
}
REPLAYED = ("sms", "messenger", "viber")
OUT_OF_ORDER = ("sms", "messenger", "viber")


def send_to(stack: RunningStack, victim: Tenant, channel: str, text: str) -> tuple[str, str]:
    """A victim's message on ``channel`` to a recipient never reported on: (message_uuid, recipient)."""
    if channel == "sms":
        to = unique_msisdn()
        body = flat_sms(victim.sms_number, to, text)
    elif channel == "viber":
        to = unique_msisdn()
        body = flat_viber(str(victim.viber_service_id), to, text)
    else:
        to = unique_psid()
        body = flat_messenger(str(victim.page_id), to, text)
    response = stack.post(V1_MESSAGES, json=body, auth=victim.auth)
    assert response.status_code == 202, response.text
    return response.json()["message_uuid"], to


@pytest.fixture(scope="module")
def targets(stack: RunningStack, victim: Tenant) -> dict[str, Target]:
    """One submitted message per test below, all sent first so the sender handles them together."""
    wanted = {name: forgery.channel for name, forgery in RECEIPT_FORGERIES.items()}
    wanted |= {f"replayed-{channel}": channel for channel in REPLAYED}
    wanted |= {f"out-of-order-{channel}": channel for channel in OUT_OF_ORDER}
    wanted |= {f"refused-status-{channel}": channel for channel in ("sms", "messenger", "viber")}
    sent = {name: (channel, *send_to(stack, victim, channel, marker(name))) for name, channel in wanted.items()}
    return {
        name: Target(channel, message_uuid, to, wait_for_provider_id(stack, message_uuid))
        for name, (channel, message_uuid, to) in sent.items()
    }


def delivered_receipts(stack: RunningStack, message_uuid: str) -> list[dict[str, Any]]:
    return [entry for entry in record(stack, message_uuid).get("history") or [] if entry.get("status") == "delivered"]


def wait_for_status_webhook(stack: RunningStack, message_uuid: str, status: str) -> list[str]:
    return stack.wait_for(
        lambda: (found if status in (found := webhook_statuses(stack, message_uuid, VICTIM_STATUS_PATH)) else None),
        timeout=60,
        what=f"a {status} webhook of {message_uuid}",
    )


# -- forged receipts ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", list(RECEIPT_FORGERIES), ids=list(RECEIPT_FORGERIES))
def test_a_forged_receipt_is_refused_and_changes_nothing(
    stack: RunningStack, victim: Tenant, channels: dict[str, Any], targets: dict[str, Target], case: str
) -> None:
    forgery, target = RECEIPT_FORGERIES[case], targets[case]

    response = forgery.forge(target, victim, channels).send(stack)

    assert_problem(response, PROVIDER_REFUSAL_STATUS)
    current = record(stack, target.message_uuid)
    assert current["status"] == "submitted"
    assert "delivered" not in (current.get("seen_statuses") or set())
    assert "delivered" not in webhook_statuses(stack, target.message_uuid)

    genuine = forgery.genuine(target, victim, channels).send(stack)
    assert genuine.status_code == 200, genuine.text
    assert record(stack, target.message_uuid)["status"] == "delivered"
    assert wait_for_status_webhook(stack, target.message_uuid, "delivered").count("delivered") == 1


def test_every_provider_refuses_an_unsigned_webhook_with_the_same_problem(
    stack: RunningStack, victim: Tenant, channels: dict[str, Any], targets: dict[str, Target]
) -> None:
    """SMS refuses exactly as Messenger and Viber do: one status, one problem type, nothing changed."""
    refusals = {}
    for channel in ("sms", "messenger", "viber"):
        target = targets[f"refused-status-{channel}"]
        response = RECEIPT_FORGERIES[f"{channel}-unsigned"].forge(target, victim, channels).send(stack)
        problem = assert_problem(response, PROVIDER_REFUSAL_STATUS)
        refusals[channel] = (problem["type"], problem["title"])
        assert record(stack, target.message_uuid)["status"] == "submitted"

    assert len(set(refusals.values())) == 1, refusals


# -- forged inbound messages ----------------------------------------------------------------------


def sms_inbound_params(victim: Tenant, text: str) -> dict[str, str]:
    return {
        "msisdn": unique_msisdn("0000"),
        "to": victim.sms_number,
        "messageId": "0B0000" + secrets.token_hex(6).upper(),
        "text": text,
        "type": "text",
        "keyword": text.split()[0].upper(),
        "message-timestamp": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
    }


def messenger_inbound(victim: Tenant, text: str) -> bytes:
    message = {"message": {"mid": "m_" + secrets.token_hex(12), "text": text}}
    return messenger_body(str(victim.page_id), unique_psid("0000"), message)


INBOUND_FORGERIES: dict[str, tuple[Callable[..., ProviderRequest], Callable[..., ProviderRequest]]] = {
    # name: (forged request, genuine request), each built from (victim, channels, text)
    "sms-unsigned": (
        lambda v, c, t: sms_form(sms_inbound_params(v, t), SMS_INBOUND),
        lambda v, c, t: sms_form(sms_signed(sms_inbound_params(v, t), c), SMS_INBOUND),
    ),
    "sms-unsigned-get": (
        lambda v, c, t: ProviderRequest("GET", SMS_INBOUND, query=urlencode(sms_inbound_params(v, t))),
        lambda v, c, t: ProviderRequest("GET", SMS_INBOUND, query=urlencode(sms_signed(sms_inbound_params(v, t), c))),
    ),
    "sms-signed-with-another-secret": (
        lambda v, c, t: sms_form(sms_signed_params(sms_inbound_params(v, t), "not-the-secret"), SMS_INBOUND),
        lambda v, c, t: sms_form(sms_signed(sms_inbound_params(v, t), c), SMS_INBOUND),
    ),
    "messenger-unsigned": (
        lambda v, c, t: messenger_post(messenger_inbound(v, t), {}),
        lambda v, c, t: (lambda b: messenger_post(b, messenger_signed(b, c)))(messenger_inbound(v, t)),
    ),
    "messenger-signed-with-another-secret": (
        lambda v, c, t: (lambda b: messenger_post(b, messenger_signature_headers(b, "not-the-secret")))(
            messenger_inbound(v, t)
        ),
        lambda v, c, t: (lambda b: messenger_post(b, messenger_signed(b, c)))(messenger_inbound(v, t)),
    ),
}


@pytest.mark.parametrize("case", list(INBOUND_FORGERIES), ids=list(INBOUND_FORGERIES))
def test_a_forged_inbound_message_is_refused_and_reaches_no_one(
    stack: RunningStack, victim: Tenant, channels: dict[str, Any], case: str
) -> None:
    forge, genuine = INBOUND_FORGERIES[case]
    forged_text, genuine_text = marker("FORGED inbound"), marker("GENUINE inbound")

    response = forge(victim, channels, forged_text).send(stack)

    assert_problem(response, PROVIDER_REFUSAL_STATUS)
    assert_no_effects(stack, forged_text)
    accepted = genuine(victim, channels, genuine_text).send(stack)
    assert accepted.status_code == 200, accepted.text
    arrived = stack.wait_for(
        lambda: webhooks_mentioning(stack, genuine_text), timeout=60, what="the genuine inbound message's webhook"
    )
    assert [r["path"] for r in arrived] == [VICTIM_INBOUND_PATH]
    assert_no_effects(stack, forged_text)


# -- replayed and out-of-order receipts -----------------------------------------------------------------


@pytest.mark.parametrize("channel", REPLAYED)
def test_a_replayed_receipt_changes_nothing_the_second_time(
    stack: RunningStack, victim: Tenant, channels: dict[str, Any], targets: dict[str, Target], channel: str
) -> None:
    target = targets[f"replayed-{channel}"]
    genuine = RECEIPT_FORGERIES[f"{channel}-unsigned"].genuine(target, victim, channels)

    first = genuine.send(stack)
    replayed = [genuine.send(stack) for _ in range(2)]  # byte for byte, signature and all

    assert first.status_code == 200, first.text
    for response in replayed:
        assert response.status_code in (200, PROVIDER_REFUSAL_STATUS), response.text
    assert len(delivered_receipts(stack, target.message_uuid)) == 1
    assert wait_for_status_webhook(stack, target.message_uuid, "delivered").count("delivered") == 1


@dataclass(frozen=True)
class OutOfOrder:
    """Two genuine receipts sent in the wrong order: ``later`` first, then ``earlier``."""

    later: Callable[[Target, Tenant, dict[str, Any]], ProviderRequest]
    earlier: Callable[[Target, Tenant, dict[str, Any]], ProviderRequest]
    final_status: str
    late_status: str


def _messenger_read(t: Target, v: Tenant, c: dict[str, Any]) -> ProviderRequest:
    body = messenger_read(t, v)
    return messenger_post(body, messenger_signed(body, c))


def _viber_seen(t: Target, v: Tenant, c: dict[str, Any]) -> ProviderRequest:
    body = viber_callback(t, v, status=1)
    return viber_post(body, viber_signed(body, c))


OUT_OF_ORDER_CASES = {
    "sms": OutOfOrder(
        lambda t, v, c: sms_form(sms_signed(sms_dlr_params(t, v, status="failed"), c)),
        _genuine_sms,
        final_status="undeliverable",
        late_status="delivered",
    ),
    "messenger": OutOfOrder(_messenger_read, _genuine_messenger, final_status="read", late_status="delivered"),
    "viber": OutOfOrder(_viber_seen, _genuine_viber, final_status="read", late_status="delivered"),
}


@pytest.mark.parametrize("channel", OUT_OF_ORDER)
def test_a_receipt_arriving_after_a_later_status_never_moves_the_message_back(
    stack: RunningStack, victim: Tenant, channels: dict[str, Any], targets: dict[str, Target], channel: str
) -> None:
    case, target = OUT_OF_ORDER_CASES[channel], targets[f"out-of-order-{channel}"]

    later = case.later(target, victim, channels).send(stack)
    earlier = case.earlier(target, victim, channels).send(stack)

    assert (later.status_code, earlier.status_code) == (200, 200), (later.text, earlier.text)
    current = record(stack, target.message_uuid)
    assert current["status"] == case.final_status
    late = [e for e in current["history"] if e.get("status") == case.late_status]
    assert [e.get("late") for e in late] == [True]
    webhooks = wait_for_status_webhook(stack, target.message_uuid, case.final_status)
    assert case.late_status not in webhooks
    assert f"outbox_{case.late_status}" not in current  # a late status decides no webhook
