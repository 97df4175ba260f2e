"""The notifier: target resolution, signed delivery, the retry schedule to 24 hours and the DLQ, batches."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import responses
from vonage_jwt.verify_jwt import verify_signature

from switchboard import clock
from switchboard.auth.authenticator import Authenticator
from switchboard.domain.message import ApiVersion, Channel, Content, Endpoint, OutboundMessage, Principal
from switchboard.composition import notifier_function
from switchboard.composition.notifier_function import NotifierServices, notifier_runner
from switchboard.domain.notification import Notification
from switchboard.notifier.delivery import DeliveryOutcome, Notifier, RetrySchedule
from switchboard.notifier.delivery_handler import DeliveryHandler
from tests.support.stores import NotifyQueue as NotifyQueues
from switchboard.notifier.targets import WebhookTargets
from tests.support.stores import AccountStore
from switchboard.domain.tenancy import Account
from tests.support.stores import MessagesTable
from switchboard.adapters.webhook_http.webhook_poster import WebhookPoster
from tests.support.stores import wired_authenticator
from tests.support.stores import Notifications
from switchboard.adapters import aws_clients
from switchboard.notifier.outbox import Outbox, Republish

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.usefixtures("atomic_dynamodb")  # batches run on several threads

T0 = 1_790_000_000.0  # 2026-09-21T14:13:20Z
UUID = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab"
ACCOUNT_STATUS = "https://hooks.example.com/account/status"
ACCOUNT_INBOUND = "https://hooks.example.com/account/inbound"
APP_STATUS = "https://hooks.example.com/app/status"
APP_INBOUND = "https://hooks.example.com/app/inbound"
MESSAGE_URL = "https://hooks.example.com/message/status"


# ---------------------------------------------------------------------------- fixtures and fakes


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


class Owners:
    def __init__(self, account: Account, application_id: str) -> None:
        self.account = account
        self.api_key = account.api_key
        self.secret = account.signature_secret
        self.application_id = application_id


@pytest.fixture
def owners(aws) -> Owners:
    store = AccountStore()
    account, _ = store.create_account(inbound_url=ACCOUNT_INBOUND, status_url=ACCOUNT_STATUS)
    app = store.create_application(account.api_key, "app", "unused-pem", inbound_url=APP_INBOUND, status_url=APP_STATUS)
    return Owners(account, app.application_id)


class FakeQueues:
    def __init__(self, fail: bool = False) -> None:
        self.retries: list[tuple[Notification, int]] = []
        self.dead: list[Notification] = []
        self.fail = fail

    def retry(self, notification: Notification, delay_seconds: int) -> None:
        if self.fail:
            raise ConnectionError("NotifyQueue unreachable")
        self.retries.append((notification, delay_seconds))

    def dead_letter(self, notification: Notification) -> None:
        self.dead.append(notification)


def public_resolver(host: str, port: int, *args: object) -> list[tuple]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]


def private_resolver(host: str, port: int, *args: object) -> list[tuple]:
    return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", port))]


def make_notifier(queues: FakeQueues | None = None, resolve=public_resolver, allowed: tuple[str, ...] = ()) -> Notifier:
    return Notifier(
        targets=WebhookTargets(wired_authenticator(AccountStore())),
        poster=WebhookPoster(session=requests.Session(), allowed_private_hosts=allowed, resolve=resolve),
        queues=queues or FakeQueues(),
        attempts=MessagesTable(),
        leases=MessagesTable(),
    )


def create_record(owners: Owners, uuid: str = UUID, application: bool = False) -> str:
    message = OutboundMessage(
        channel=Channel.SMS,
        sender=Endpoint(type="sms", number="447700900001"),
        recipient=Endpoint(type="sms", number="447700900000"),
        content=Content(type="text", text="hello"),
        api_version=ApiVersion.V0_1,
    )
    principal = Principal(owners.api_key, owners.application_id if application else None, "jwt" if application else "basic")
    MessagesTable().create(uuid, message, principal)
    return uuid


def notification(
    owners: Owners,
    uuid: str = UUID,
    application: bool = False,
    webhook_url: str | None = None,
    kind: str = "status",
    attempt: int = 1,
    first_attempt_at: float = T0,
) -> Notification:
    target: dict[str, Any] = {"api_key": owners.api_key, "url_kind": kind}
    if application:
        target["application_id"] = owners.application_id
    if webhook_url:
        target["webhook_url"] = webhook_url
    if kind == "status":
        body = {
            "message_uuid": uuid,
            "to": {"type": "sms", "number": "447700900000"},
            "from": {"type": "sms", "number": "447700900001"},
            "timestamp": "2026-09-21T14:13:20.000Z",
            "status": "delivered",
        }
    else:
        body = {
            "message_uuid": uuid,
            "to": {"type": "messenger", "id": "page-1"},
            "from": {"type": "messenger", "id": "psid-1"},
            "timestamp": "2026-09-21T14:13:20.000Z",
            "message": {"content": {"type": "text", "text": "héllo"}},
            "direction": "inbound",
        }
    return Notification(
        kind=kind,
        message_uuid=uuid,
        notification="status:delivered" if kind == "status" else "inbound",
        body=body,
        target=target,
        attempt=attempt,
        first_attempt_at=first_attempt_at,
    )


def attempts(uuid: str = UUID) -> list[dict[str, Any]]:
    """The message's recorded webhook attempts (kept in their own item, next to the record)."""
    assert MessagesTable().get(uuid) is not None
    return MessagesTable().webhook_attempts(uuid)


# ---------------------------------------------------------------------------- copies of one webhook (the outbox)


def submitted_with_its_webhook_queued(owners: Owners) -> Notification:
    """A record the sender has just made ``submitted``, and the webhook copy its write queued."""
    store = MessagesTable()
    create_record(owners)
    store.claim(UUID, "token", int(T0) + 60)
    record = store.mark_submitted(UUID, "token", "0A1", "sms#0A1")
    Outbox(store, Notifications()).publish(record, "status:submitted")
    (copy,) = queued_notifications()
    return copy


def queued_notifications() -> list[Notification]:
    sqs, url = aws_clients.client("sqs"), os.environ["NOTIFY_QUEUE_URL"]
    found = []
    for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", []):
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        parsed = Notification.from_json(message["Body"])
        assert parsed is not None
        found.append(parsed)
    return found


def test_the_delivery_guard_outlasts_a_notifier_invocation_and_fits_in_a_lease() -> None:
    """A copy delivered without a lease write must be recorded before anyone may take its lease."""
    from bench.template_functions import function_specs
    from switchboard.domain.outbox_markers import DELIVERY_GUARD_SECONDS, NOTIFY_LEASE_SECONDS

    timeout = function_specs()["NotifierFunction"].config.timeout_seconds
    assert timeout + 5 <= DELIVERY_GUARD_SECONDS < NOTIFY_LEASE_SECONDS


def test_a_first_attempt_within_its_lease_is_delivered_without_writing_the_record(aws, now, owners, http) -> None:
    copy = submitted_with_its_webhook_queued(owners)
    http.post(ACCOUNT_STATUS, status=200)
    before = MessagesTable().get(UUID)
    now[0] = T0 + 24  # 24 s + the 35 s guard still end before the lease does

    assert copy.lease_until == int(T0) + 60
    assert make_notifier().deliver(copy) is DeliveryOutcome.DELIVERED

    assert MessagesTable().get(UUID) == before
    assert [a["outcome"] for a in attempts()] == ["delivered"]


def test_a_late_first_attempt_takes_its_lease_over_before_delivering(aws, now, owners, http) -> None:
    copy = submitted_with_its_webhook_queued(owners)
    http.post(ACCOUNT_STATUS, status=200)
    now[0] = T0 + 30  # the lease would run out during the delivery: a republisher could take it

    assert make_notifier().deliver(copy) is DeliveryOutcome.DELIVERED

    assert MessagesTable().get(UUID)["outbox_submitted"] == int(T0) + 30 + 60
    assert len(http.calls) == 1


@pytest.mark.parametrize("republished_first", [True, False])
def test_of_a_copy_and_its_republished_copy_exactly_one_is_delivered(
    aws, now, owners, http, republished_first: bool
) -> None:
    """The notifier was behind: the lease ran out with no attempt recorded, and a redelivery or a
    provider's repeat queued the webhook again. Whatever order the two copies arrive in, the
    customer gets it once."""
    original = submitted_with_its_webhook_queued(owners)
    now[0] = T0 + 61
    outbox = Outbox(MessagesTable(), Notifications())
    assert outbox.republish(MessagesTable().get(UUID), "status:submitted") is Republish.QUEUED
    (republished,) = queued_notifications()
    assert (original.lease_until, republished.lease_until) == (int(T0) + 60, int(T0) + 61 + 60)
    http.post(ACCOUNT_STATUS, status=200)
    notifier = make_notifier()

    first, second = (republished, original) if republished_first else (original, republished)
    outcomes = [notifier.deliver(first), notifier.deliver(second)]

    delivered = DeliveryOutcome.DELIVERED
    superseded = DeliveryOutcome.SUPERSEDED
    assert outcomes == ([delivered, superseded] if republished_first else [superseded, delivered])
    assert len(http.calls) == 1
    assert [a["outcome"] for a in attempts()] == ["delivered"]
    assert outbox.republish(MessagesTable().get(UUID), "status:submitted") is Republish.NOT_PENDING


def test_a_republished_copy_is_not_queued_while_the_first_is_being_delivered(aws, now, owners, http) -> None:
    copy = submitted_with_its_webhook_queued(owners)
    outbox = Outbox(MessagesTable(), Notifications())

    assert outbox.republish(MessagesTable().get(UUID), "status:submitted") is Republish.HELD
    http.post(ACCOUNT_STATUS, status=200)
    make_notifier().deliver(copy)
    now[0] = T0 + 3600
    assert outbox.republish(MessagesTable().get(UUID), "status:submitted") is Republish.NOT_PENDING
    assert queued_notifications() == []


# ---------------------------------------------------------------------------- a delivery


def test_the_exact_body_is_posted_signed_for_the_account(aws, now, owners, http) -> None:
    create_record(owners, application=True)
    http.post(APP_STATUS, status=200)
    note = notification(owners, application=True)

    assert make_notifier().deliver(note) is DeliveryOutcome.DELIVERED

    (call,) = http.calls
    assert call.request.body == note.body_bytes()
    assert json.loads(call.request.body) == note.body
    assert call.request.headers["Content-Type"] == "application/json"
    scheme, token = call.request.headers["Authorization"].split(" ", 1)
    assert scheme == "Bearer"
    assert verify_signature(token, owners.secret) is True
    claims = jwt.decode(token, owners.secret, algorithms=["HS256"])
    assert claims["payload_hash"] == hashlib.sha256(call.request.body).hexdigest()
    assert claims["api_key"] == owners.api_key
    assert claims["application_id"] == owners.application_id
    assert claims["iss"] == "Vonage"
    assert claims["iat"] == int(T0)
    assert attempts() == [
        {
            "webhook": "status:delivered",
            "kind": "status",
            "status": "delivered",
            "attempt": 1,
            "at": "2026-09-21T14:13:20.000Z",
            "outcome": "delivered",
            "target": "application",
            "http_status": 200,
        }
    ]


def test_non_ascii_bodies_are_posted_as_utf8_and_hashed_as_sent(aws, now, owners, http) -> None:
    create_record(owners)
    http.post(ACCOUNT_INBOUND, status=204)
    note = notification(owners, kind="inbound")

    assert make_notifier().deliver(note) is DeliveryOutcome.DELIVERED

    (call,) = http.calls
    assert "héllo".encode() in call.request.body
    token = call.request.headers["Authorization"].split(" ", 1)[1]
    claims = jwt.decode(token, owners.secret, algorithms=["HS256"])
    assert claims["payload_hash"] == hashlib.sha256(call.request.body).hexdigest()
    assert "application_id" not in claims


@pytest.mark.parametrize("status", [200, 201, 202, 204, 205, 299])
def test_any_2xx_is_a_delivery(aws, now, owners, http, status: int) -> None:
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=status)
    queues = FakeQueues()

    assert make_notifier(queues).deliver(notification(owners)) is DeliveryOutcome.DELIVERED

    assert queues.retries == [] and queues.dead == []
    assert attempts()[-1]["http_status"] == status


@pytest.mark.parametrize("status", [304, 400, 401, 404, 410, 429, 500, 502, 503])
def test_other_statuses_schedule_a_retry(aws, now, owners, http, status: int) -> None:
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=status)
    queues = FakeQueues()
    note = notification(owners)

    assert make_notifier(queues).deliver(note) is DeliveryOutcome.RETRY_SCHEDULED

    assert queues.retries == [(note.next_attempt(), 5)]
    assert queues.retries[0][0].attempt == 2
    assert queues.retries[0][0].first_attempt_at == T0
    assert {k: v for k, v in attempts()[-1].items() if k != "at"} == {
        "webhook": "status:delivered",
        "kind": "status",
        "status": "delivered",
        "attempt": 1,
        "outcome": "failed",
        "target": "account",
        "http_status": status,
        "error": f"http {status}",
        "next_retry_in": 5,
    }


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_failures_and_are_not_followed(aws, now, owners, http, status: int) -> None:
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=status, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    internal = http.post("http://169.254.169.254/latest/meta-data/", status=200)
    queues = FakeQueues()

    assert make_notifier(queues).deliver(notification(owners)) is DeliveryOutcome.RETRY_SCHEDULED

    assert len(http.calls) == 1
    assert internal.call_count == 0
    assert attempts()[-1]["error"] == "redirect not followed"
    assert attempts()[-1]["http_status"] == status


@pytest.mark.parametrize(
    "failure, error",
    [
        (requests.exceptions.ConnectTimeout("connect"), "timeout"),
        (requests.exceptions.ReadTimeout("read"), "timeout"),
        (requests.exceptions.ConnectionError("refused"), "connection error"),
        (requests.exceptions.SSLError("bad certificate"), "connection error"),
        (requests.exceptions.ChunkedEncodingError("broken"), "request failed (ChunkedEncodingError)"),
    ],
)
def test_timeouts_and_connection_errors_schedule_a_retry(aws, now, owners, http, failure, error: str) -> None:
    create_record(owners)
    http.post(ACCOUNT_STATUS, body=failure)
    queues = FakeQueues()

    assert make_notifier(queues).deliver(notification(owners)) is DeliveryOutcome.RETRY_SCHEDULED

    assert [delay for _, delay in queues.retries] == [5]
    assert attempts()[-1]["error"] == error
    assert "http_status" not in attempts()[-1]


def test_the_poster_uses_the_webhook_timeouts_and_no_redirects(aws, now, owners) -> None:
    create_record(owners)
    seen: dict[str, Any] = {}

    class SpySession(requests.Session):
        def send(self, request, **kwargs):  # type: ignore[override]
            seen.update(kwargs, request=request)
            raise requests.exceptions.ConnectTimeout("no")

    poster = WebhookPoster(session=SpySession(), resolve=public_resolver)

    assert poster.post(ACCOUNT_STATUS, b"{}", "Bearer x").error == "timeout"
    assert seen["timeout"] == (3.0, 15.0)
    assert seen["allow_redirects"] is False
    assert seen["request"].body == b"{}"
    assert seen["request"].url == ACCOUNT_STATUS
    assert seen["request"].target.addresses == ("93.184.216.34",)  # the address the guard checked


def test_a_url_that_now_resolves_to_a_private_address_is_a_failed_attempt(aws, now, owners, http) -> None:
    create_record(owners)
    posted = http.post(ACCOUNT_STATUS, status=200)
    queues = FakeQueues()

    assert make_notifier(queues, resolve=private_resolver).deliver(notification(owners)) is DeliveryOutcome.RETRY_SCHEDULED

    assert posted.call_count == 0
    assert attempts()[-1]["error"].startswith("unsafe url: webhook host hooks.example.com resolves to 10.0.0.7")
    assert [delay for _, delay in queues.retries] == [5]


def test_an_unresolvable_host_at_delivery_is_a_failed_attempt(aws, now, owners, http) -> None:
    create_record(owners)

    def unresolvable(host: str, port: int, *args: object) -> list[tuple]:
        raise socket.gaierror(socket.EAI_NONAME, "unknown")

    queues = FakeQueues()
    assert make_notifier(queues, resolve=unresolvable).deliver(notification(owners)) is DeliveryOutcome.RETRY_SCHEDULED
    assert "does not resolve" in attempts()[-1]["error"]


def test_an_allowed_private_host_is_delivered_to(aws, now, owners, http) -> None:
    create_record(owners)
    sink = "http://127.0.0.1:4010/webhooks/status"
    http.post(sink, status=200)

    outcome = make_notifier(resolve=socket.getaddrinfo, allowed=("127.0.0.1:4010",)).deliver(
        notification(owners, webhook_url=sink)
    )

    assert outcome is DeliveryOutcome.DELIVERED


# ---------------------------------------------------------------------------- where it goes


@pytest.mark.parametrize(
    "application, webhook_url, expected_url, source",
    [
        (True, MESSAGE_URL, MESSAGE_URL, "webhook_url"),
        (False, MESSAGE_URL, MESSAGE_URL, "webhook_url"),
        (True, None, APP_STATUS, "application"),
        (False, None, ACCOUNT_STATUS, "account"),
    ],
)
def test_status_webhooks_go_to_the_message_url_then_the_application_then_the_account(
    aws, now, owners, http, application: bool, webhook_url: str | None, expected_url: str, source: str
) -> None:
    create_record(owners, application=application)
    for url in (MESSAGE_URL, APP_STATUS, ACCOUNT_STATUS):
        http.post(url, status=200)

    make_notifier().deliver(notification(owners, application=application, webhook_url=webhook_url))

    assert [c.request.url for c in http.calls] == [expected_url]
    assert attempts()[-1]["target"] == source


def test_inbound_webhooks_go_to_the_inbound_urls(aws, now, owners, http) -> None:
    create_record(owners)
    for url in (APP_INBOUND, ACCOUNT_INBOUND):
        http.post(url, status=200)

    make_notifier().deliver(notification(owners, kind="inbound", application=True))
    make_notifier().deliver(notification(owners, kind="inbound"))

    assert [c.request.url for c in http.calls] == [APP_INBOUND, ACCOUNT_INBOUND]


def test_an_application_without_a_status_url_falls_back_to_the_account(aws, now, owners, http) -> None:
    store = AccountStore()
    bare = store.create_application(owners.api_key, "bare", "unused-pem")
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=200)
    note = notification(owners)
    note = Notification(**{**note.__dict__, "target": {**note.target, "application_id": bare.application_id}})

    assert make_notifier().deliver(note) is DeliveryOutcome.DELIVERED
    assert attempts()[-1]["target"] == "account"


def test_an_application_of_another_account_is_ignored(aws, now, owners, http) -> None:
    store = AccountStore()
    other, _ = store.create_account()
    foreign = store.create_application(other.api_key, "foreign", "pem", status_url="https://evil.example.com/s")
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=200)
    note = notification(owners)
    note = Notification(**{**note.__dict__, "target": {**note.target, "application_id": foreign.application_id}})

    assert make_notifier().deliver(note) is DeliveryOutcome.DELIVERED
    assert [c.request.url for c in http.calls] == [ACCOUNT_STATUS]


def test_no_url_configured_is_recorded_and_dropped(aws, now, http) -> None:
    account, _ = AccountStore().create_account()
    owners = Owners(account, "none")
    create_record(owners)
    queues = FakeQueues()

    assert make_notifier(queues).deliver(notification(owners)) is DeliveryOutcome.DROPPED

    assert len(http.calls) == 0
    assert queues.retries == [] and queues.dead == []
    assert {k: v for k, v in attempts()[-1].items() if k != "at"} == {
        "webhook": "status:delivered",
        "kind": "status",
        "status": "delivered",
        "attempt": 1,
        "outcome": "dropped",
        "reason": "no webhook URL configured",
    }


def test_an_unknown_account_is_dropped(aws, now, owners, http) -> None:
    create_record(owners)
    note = notification(owners)
    note = Notification(**{**note.__dict__, "target": {"api_key": "gone0000", "url_kind": "status"}})

    assert make_notifier().deliver(note) is DeliveryOutcome.DROPPED
    assert attempts()[-1]["reason"] == "account not found"


# ---------------------------------------------------------------------------- retries to 24 hours


class AttemptList:
    """Keeps attempts in memory: the 103-attempt schedule below need not go through moto."""

    def __init__(self) -> None:
        self.attempts: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []

    def record_webhook_attempt(self, message_uuid: str, attempt: dict, history_note: dict | None = None) -> bool:
        self.attempts.append(attempt)
        if history_note is not None:
            self.notes.append(history_note)
        return True


def test_retries_back_off_from_5_s_to_15_min_for_24_hours_then_the_dlq(now, http) -> None:
    account = Account("abcd1234", "salt", "hash", "sig-secret-0123456789-abcdefghijklmnopqrstuvwxyz", None, ACCOUNT_STATUS)
    http.post(ACCOUNT_STATUS, status=503)
    queues, log = FakeQueues(), AttemptList()
    notifier = Notifier(
        targets=WebhookTargets(FixedAccounts(account)),
        poster=WebhookPoster(session=requests.Session(), resolve=public_resolver),
        queues=queues,
        attempts=log,
    )
    current = notification(Owners(account, "none"))

    delays: list[int] = []
    while not queues.dead:
        outcome = notifier.deliver(current)
        if outcome is DeliveryOutcome.RETRY_SCHEDULED:
            current, delay = queues.retries[-1]
            delays.append(delay)
            now[0] += delay

    assert delays[:10] == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert set(delays[8:]) == {900}
    assert sum(delays) <= 24 * 3600 < sum(delays) + 900
    assert len(delays) == 8 + 94
    (dead,) = queues.dead
    assert dead.attempt == len(delays) + 1 == 103
    assert dead.first_attempt_at == T0
    assert [a["attempt"] for a in log.attempts] == list(range(1, 104))
    assert [a.get("next_retry_in") for a in log.attempts[:-1]] == delays
    assert log.attempts[-1]["outcome"] == "gave_up" and "next_retry_in" not in log.attempts[-1]
    assert log.notes == [
        {"timestamp": clock.iso(), "event": "webhook_undeliverable", "webhook": "status:delivered", "attempts": 103}
    ]
    assert len(http.calls) == 103


def test_giving_up_goes_to_the_dlq_and_into_the_message_history(aws, now, owners, http) -> None:
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=500)
    queues = FakeQueues()
    now[0] = T0 + 24 * 3600 - 100  # a 900 s wait would end past the 24 hours

    assert make_notifier(queues).deliver(notification(owners, attempt=40)) is DeliveryOutcome.GAVE_UP

    assert queues.retries == [] and [n.attempt for n in queues.dead] == [40]
    saved = MessagesTable().get(UUID)
    assert saved["history"][-1] == {
        "timestamp": "2026-09-22T14:11:40.000Z",
        "event": "webhook_undeliverable",
        "webhook": "status:delivered",
        "attempts": 40,
    }
    assert attempts()[-1]["outcome"] == "gave_up"
    assert attempts()[-1]["error"] == "http 500"


def test_a_success_late_in_the_window_still_counts(aws, now, owners, http) -> None:
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=200)
    queues = FakeQueues()
    now[0] = T0 + 24 * 3600 - 1

    assert make_notifier(queues).deliver(notification(owners, attempt=100)) is DeliveryOutcome.DELIVERED
    assert queues.dead == []


def test_the_schedule() -> None:
    schedule = RetrySchedule()
    assert [schedule.delay_after(n) for n in range(1, 12)] == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900, 900]
    assert schedule.delay_after(10_000) == 900
    assert not schedule.gives_up(T0, T0 + 86400 - 900, 900)
    assert schedule.gives_up(T0, T0 + 86400 - 899, 900)


def test_retries_and_give_ups_use_the_real_queues(aws, now, owners) -> None:
    sqs = aws.client("sqs")
    queues = NotifyQueues()
    note = notification(owners)

    queues.retry(note.next_attempt(), 900)
    assert sqs.receive_message(QueueUrl=queues.queue_url).get("Messages", []) == []  # delayed
    queues.send(note)
    (received,) = sqs.receive_message(QueueUrl=queues.queue_url).get("Messages", [])
    assert Notification.from_json(received["Body"]) == note
    queues.dead_letter(note.next_attempt())
    (dead,) = sqs.receive_message(QueueUrl=queues.dead_letter_url).get("Messages", [])
    parked = json.loads(dead["Body"])
    assert parked["gave_up_at"] == "2026-09-21T14:13:20.000Z"
    assert Notification.from_json(dead["Body"]) == note.next_attempt()

    assert queues.queue_url == aws.env["NOTIFY_QUEUE_URL"]
    assert queues.dead_letter_url == aws.env["NOTIFY_DLQ_URL"]
    sqs.purge_queue(QueueUrl=queues.queue_url)
    sqs.purge_queue(QueueUrl=queues.dead_letter_url)


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[]",
        '{"kind": "status"}',
        '{"kind": "other", "message_uuid": "u", "body": {}, "target": {"api_key": "k"}, "attempt": 1, "first_attempt_at": 1}',
        '{"kind": "status", "message_uuid": "u", "body": {}, "target": {}, "attempt": 1, "first_attempt_at": 1}',
        '{"kind": "status", "message_uuid": "u", "body": {}, "target": {"api_key": "k"}, "attempt": 0, "first_attempt_at": 1}',
        '{"kind": "status", "message_uuid": "u", "body": {}, "target": {"api_key": "k"}, "attempt": 1, "first_attempt_at": "x"}',
    ],
)
def test_bodies_that_are_not_notifications_are_recognised(body: str) -> None:
    assert Notification.from_json(body) is None


# ---------------------------------------------------------------------------- batches and the handler


def sqs_record(body: str, message_id: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "receiptHandle": f"receipt-{message_id}",
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1790000000000"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:NotifyQueue",
        "awsRegion": "us-east-1",
    }


def test_a_blocking_endpoint_does_not_hold_up_the_rest_of_the_batch(aws, now, owners, http) -> None:
    slow_url, fast_urls = "https://slow.example.com/hook", ["https://a.example.com/hook", "https://b.example.com/hook"]
    uuids = [create_record(owners, f"m-{i}") for i in range(3)]
    others_done = threading.Event()
    fast_calls: list[str] = []
    lock = threading.Lock()

    def slow(request):
        # Answers only once both other deliveries happened: a sequential batch would never get there.
        return (200 if others_done.wait(timeout=30) else 500), {}, ""

    def fast(request):
        with lock:
            fast_calls.append(request.url)
            if len(fast_calls) == len(fast_urls):
                others_done.set()
        return 200, {}, ""

    http.add_callback(responses.POST, slow_url, callback=slow)
    for url in fast_urls:
        http.add_callback(responses.POST, url, callback=fast)
    records = [
        sqs_record(notification(owners, uuid, webhook_url=url).to_json(), f"sqs-{i}")
        for i, (uuid, url) in enumerate(zip(uuids, [slow_url, *fast_urls]))
    ]

    response = process_batch({"Records": records}, make_notifier())

    assert response == {"batchItemFailures": []}
    assert others_done.is_set()
    assert [attempts(u)[-1]["outcome"] for u in uuids] == ["delivered"] * 3


def test_statuses_of_one_message_in_one_batch_are_delivered_in_status_order(aws, now, owners, http) -> None:
    import dataclasses

    uuid = create_record(owners, "m-ordered")
    url = "https://ordered.example.com/hook"
    received: list[str] = []
    http.add_callback(responses.POST, url, callback=lambda request: (received.append(json.loads(request.body)["status"]), (200, {}, ""))[1])
    base = notification(owners, uuid, webhook_url=url)
    records = [
        sqs_record(dataclasses.replace(base, body={**base.body, "status": status}, notification=f"status:{status}").to_json(), f"sqs-{status}")
        for status in ("read", "submitted", "delivered")
    ]

    response = process_batch({"Records": records}, make_notifier())

    assert response == {"batchItemFailures": []}
    assert received == ["submitted", "delivered", "read"]


def test_a_record_whose_retry_cannot_be_queued_is_a_batch_item_failure(aws, now, owners, http) -> None:
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=500)
    records = [
        sqs_record(notification(owners).to_json(), "failing"),
        sqs_record("not a notification", "malformed"),
    ]

    response = process_batch({"Records": records}, make_notifier(FakeQueues(fail=True)))

    assert response == {"batchItemFailures": [{"itemIdentifier": "failing"}]}


def process_batch(event: dict, notifier: Notifier) -> dict:
    """One batch through the function's runner (concurrent, one message's webhooks in status order)."""
    return DeliveryHandler(notifier).run(notifier_runner(), event, None)


class FixedAccounts:
    def __init__(self, account: Account) -> None:
        self._account = account

    def account(self, api_key: str) -> Account | None:
        return self._account if api_key == self._account.api_key else None

    def application(self, application_id: str):
        return None


def test_handler_end_to_end_with_the_sample_event(aws, now, monkeypatch, http) -> None:
    from tests.support.lambdas import FakeLambdaContext, load_handler_module

    event = json.loads((ROOT / "events" / "notifier_status_batch.json").read_text())
    first = Notification.from_json(event["Records"][0]["body"])
    assert first is not None
    account = Account("abcd1234", "salt", "hash", "sig-secret-for-the-sample-event-0123456789", ACCOUNT_INBOUND, None)
    http.post(first.target["webhook_url"], status=200)
    http.post(ACCOUNT_INBOUND, status=500)
    queues = FakeQueues()
    notifier = Notifier(
        targets=WebhookTargets(FixedAccounts(account)),
        poster=WebhookPoster(session=requests.Session(), resolve=public_resolver),
        queues=queues,
        attempts=MessagesTable(),
    )
    monkeypatch.setattr(notifier_function, "services", lambda: NotifierServices(DeliveryHandler(notifier), notifier_runner()))
    app = load_handler_module("notifier")

    response = app.handler(event, FakeLambdaContext(function_name="NotifierFunction"))

    assert response == {"batchItemFailures": []}
    assert sorted(c.request.url for c in http.calls) == sorted([first.target["webhook_url"], ACCOUNT_INBOUND])
    assert [(n.message_uuid, n.attempt, delay) for n, delay in queues.retries] == [
        ("bbbbbbbb-cccc-dddd-eeee-0123456789ab", 4, 20)
    ]


def emf_documents(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if '"_aws"' in line]


def test_each_attempt_is_counted_by_kind_and_outcome_with_its_attempt_number(aws, now, owners, http, capsys) -> None:
    create_record(owners)
    http.post(ACCOUNT_STATUS, status=500)
    http.post(ACCOUNT_INBOUND, status=200)
    notifier = make_notifier()
    capsys.readouterr()

    notifier.deliver(notification(owners, attempt=3))
    notifier.deliver(notification(owners, kind="inbound"))

    docs = emf_documents(capsys.readouterr().out)
    assert [(d["kind"], d["outcome"], d["webhook_delivery"], d["webhook_attempt"]) for d in docs] == [
        ("status", "failed", [1.0], [3.0]),
        ("inbound", "delivered", [1.0], [1.0]),
    ]
    for doc in docs:
        (emf,) = doc["_aws"]["CloudWatchMetrics"]
        assert emf["Namespace"] == "Switchboard"
        assert sorted(emf["Dimensions"][0]) == ["kind", "outcome", "service"]
