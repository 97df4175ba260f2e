"""Signature-secret rotation as a webhook receiver sees it: which secret signs each delivered webhook."""
from __future__ import annotations

from typing import Any

import pytest
from vonage_jwt.verify_jwt import verify_signature

from switchboard.auth.authenticator import Authenticator
from switchboard.domain.notification import Notification
from switchboard.notifier.delivery import DeliveryOutcome, Notifier
from switchboard.notifier.targets import WebhookTargets
from switchboard.provisioning import rotate_signature_secret
from tests.support.stores import AccountStore
from switchboard.adapters.webhook_http.webhook_poster import PostResult
from switchboard.notifier.webhook_signing import payload_hash
from tests.support.clock import T0
from tests.support.stores import wired_authenticator

STATUS_URL = "https://hooks.example.com/status"


class RecordingPoster:
    """A receiver that records each webhook's Authorization header and answers as told."""

    def __init__(self) -> None:
        self.tokens: list[str] = []
        self.bodies: list[bytes] = []
        self.answer = PostResult(delivered=True, http_status=200)

    def post(self, url: str, body: bytes, authorization: str) -> PostResult:
        assert authorization.startswith("Bearer ")
        self.tokens.append(authorization.removeprefix("Bearer "))
        self.bodies.append(body)
        return self.answer


class NoRetries:
    def __init__(self) -> None:
        self.retries: list[Notification] = []

    def retry(self, notification: Notification, delay_seconds: int) -> None:
        self.retries.append(notification)

    def dead_letter(self, notification: Notification) -> None:
        raise AssertionError("nothing gives up here")


class Attempts:
    def record_webhook_attempt(self, message_uuid: str, attempt: dict, history_note: dict | None = None) -> bool:
        return True


def status_webhook(api_key: str, attempt: int = 1) -> Notification:
    body: dict[str, Any] = {
        "message_uuid": "aaaaaaaa-bbbb-cccc-dddd-0123456789ab",
        "to": {"type": "sms", "number": "447700900000"},
        "from": {"type": "sms", "number": "447700900001"},
        "timestamp": "2026-09-21T14:13:20.000Z",
        "status": "delivered",
    }
    return Notification(
        kind="status",
        message_uuid=body["message_uuid"],
        notification="status:delivered",
        body=body,
        target={"api_key": api_key, "url_kind": "status"},
        attempt=attempt,
        first_attempt_at=T0,
    )


def notifier(poster: RecordingPoster, queues: NoRetries | None = None) -> Notifier:
    targets = WebhookTargets(wired_authenticator(AccountStore(), cache_ttl_seconds=60))
    return Notifier(targets=targets, poster=poster, queues=queues or NoRetries(), attempts=Attempts())


def signed_with(token: str, body: bytes, secrets: dict[str, str]) -> list[str]:
    """The names of the secrets ``token`` verifies with, as a receiver checks it (the official SDK)."""
    from jwt import decode

    names = [name for name, secret in secrets.items() if verify_signature(token, secret)]
    for name in names:
        assert decode(token, secrets[name], algorithms=["HS256"])["payload_hash"] == payload_hash(body)
    return names


@pytest.fixture
def account(aws) -> tuple[str, str]:
    created, _ = AccountStore().create_account(status_url=STATUS_URL)
    return created.api_key, created.signature_secret


def test_webhooks_are_signed_with_the_old_secret_before_the_effective_time_and_the_new_one_from_it(
    now: list[float], account: tuple[str, str]
) -> None:
    api_key, old = account
    new = rotate_signature_secret(AccountStore(), api_key, effective_at=T0 + 600)["signature_secret"]
    secrets = {"old": old, "new": new}
    poster = RecordingPoster()

    now[0] = T0 + 599
    notifier(poster).deliver(status_webhook(api_key))
    now[0] = T0 + 600
    notifier(poster).deliver(status_webhook(api_key))

    assert [signed_with(t, b, secrets) for t, b in zip(poster.tokens, poster.bodies)] == [["old"], ["new"]]


def test_a_warm_notifier_switches_at_the_effective_time_inside_its_cache_ttl(
    now: list[float], account: tuple[str, str]
) -> None:
    api_key, old = account
    new = rotate_signature_secret(AccountStore(), api_key, effective_at=T0 + 30)["signature_secret"]
    poster = RecordingPoster()
    warm = notifier(poster)

    warm.deliver(status_webhook(api_key))  # reads and caches the account at T0
    now[0] = T0 + 30
    warm.deliver(status_webhook(api_key))

    assert [signed_with(t, b, {"old": old, "new": new}) for t, b in zip(poster.tokens, poster.bodies)] == [
        ["old"], ["new"]
    ]


def test_a_retry_after_the_switch_is_signed_with_the_new_secret(now: list[float], account: tuple[str, str]) -> None:
    api_key, old = account
    new = rotate_signature_secret(AccountStore(), api_key, effective_at=T0 + 10)["signature_secret"]
    poster, queues = RecordingPoster(), NoRetries()
    poster.answer = PostResult(delivered=False, http_status=503, error="http 503")
    assert notifier(poster, queues).deliver(status_webhook(api_key)) is DeliveryOutcome.RETRY_SCHEDULED

    now[0] = T0 + 10
    poster.answer = PostResult(delivered=True, http_status=200)
    assert notifier(poster, queues).deliver(queues.retries[0]) is DeliveryOutcome.DELIVERED

    assert [signed_with(t, b, {"old": old, "new": new}) for t, b in zip(poster.tokens, poster.bodies)] == [
        ["old"], ["new"]
    ]
