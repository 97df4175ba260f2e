"""Customer webhook receivers misbehaving, through the notifier's ports, on an injected clock.

Each receiver is a real HTTP server on 127.0.0.1 that the test scripts (down, slow, 4xx, 5xx,
redirecting); the real ``WebhookPoster`` calls it. Retries are due on the injected clock
(``ClockedQueue``), so the whole 24-hour schedule runs in moments: every attempt's time, delay and
outcome is checked against the documented schedule (``docs/webhooks.md``), and the receiver's own
log shows that an event it answered 2xx (and we read that answer) is never sent to it again.
"""
from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchboard import clock
from switchboard.adapters.webhook_http.pinned_connection import webhook_session
from switchboard.adapters.webhook_http.webhook_poster import ATTEMPT_SECONDS, WebhookPoster
from switchboard.composition.notifier_function import notifier_runner
from switchboard.domain.notification import Notification
from switchboard.domain.tenancy import Account
from switchboard.notifier.delivery import DeliveryOutcome, Notifier
from switchboard.notifier.delivery_handler import DeliveryHandler
from switchboard.notifier.targets import WebhookTargets
from tests.support.clock import T0
from tests.support.webhook_receiver import Answer, Script, WebhookReceiver

ROOT = Path(__file__).resolve().parents[2]
DAY = 24 * 3600
SIGNATURE_SECRET = "sig-secret-0123456789-abcdefghijklmnopqrstuvwxyz"
DOCUMENTED_DELAYS = [5, 10, 20, 40, 80, 160, 320, 640] + [900] * 94  # docs/webhooks.md: 103 attempts
FAST_READ_TIMEOUT = 0.3  # the tests' read timeout (15 s deployed): a "slow" receiver waits past it


@pytest.fixture
def receivers() -> Iterator[list[WebhookReceiver]]:
    started: list[WebhookReceiver] = []
    yield started
    for receiver in started:
        receiver.stop()


def receiver(receivers: list[WebhookReceiver], script: Script = lambda n, body: Answer()) -> WebhookReceiver:
    started = WebhookReceiver(script).start()
    receivers.append(started)
    return started


# ---------------------------------------------------------------------------- the notifier's ports


class FixedAccount:
    def __init__(self, status_url: str) -> None:
        self._account = Account("abcd1234", "salt", "hash", SIGNATURE_SECRET, None, status_url)

    def account(self, api_key: str) -> Account | None:
        return self._account if api_key == self._account.api_key else None

    def application(self, application_id: str) -> None:
        return None


class ClockedQueue:
    """The NotifyQueue and its DLQ: a retry becomes due ``delay`` seconds later on the injected clock."""

    def __init__(self) -> None:
        self.due: list[tuple[float, int, Notification]] = []
        self.dead: list[Notification] = []
        self._order = itertools.count()

    def retry(self, notification: Notification, delay_seconds: int) -> None:
        heapq.heappush(self.due, (clock.now() + delay_seconds, next(self._order), notification))

    def dead_letter(self, notification: Notification) -> None:
        self.dead.append(notification)

    def next_due(self) -> Notification:
        due_at, _, notification = heapq.heappop(self.due)
        clock.set_clock(lambda t=max(clock.now(), due_at): t)
        return notification


class History:
    """The message record's ``webhook_attempts`` and history notes."""

    def __init__(self) -> None:
        self.attempts: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []

    def record_webhook_attempt(self, message_uuid: str, attempt: dict, history_note: dict | None = None) -> bool:
        self.attempts.append(attempt)
        if history_note is not None:
            self.notes.append(history_note)
        return True


@dataclass
class Wiring:
    notifier: Notifier
    queue: ClockedQueue
    history: History


def wire(status_url: str, read_timeout: float = FAST_READ_TIMEOUT) -> Wiring:
    queue, history = ClockedQueue(), History()
    poster = WebhookPoster(
        session=webhook_session(pool_connections=2, pool_maxsize=2),
        allowed_private_hosts=("127.0.0.1",),  # as the local stack's allowance
        connect_timeout=1.0,
        read_timeout=read_timeout,
    )
    notifier = Notifier(WebhookTargets(FixedAccount(status_url)), poster, queue, history)
    return Wiring(notifier, queue, history)


def status_event(status: str = "delivered", uuid: str = "aaaaaaaa-bbbb-cccc-dddd-0123456789ab") -> Notification:
    body = {
        "message_uuid": uuid,
        "to": {"type": "sms", "number": "447700900000"},
        "from": {"type": "sms", "number": "447700900001"},
        "timestamp": "2026-09-21T14:13:20.000Z",
        "status": status,
    }
    return Notification("status", uuid, f"status:{status}", body, {"api_key": "abcd1234", "url_kind": "status"}, 1, T0)


def run_schedule(wiring: Wiring, event: Notification, before_attempt: Callable[[float], None] = lambda at: None) -> list[float]:
    """Deliver ``event`` and every retry as it falls due; the injected clock's time of each attempt."""
    wiring.queue.retry(event, 0)
    times: list[float] = []
    while wiring.queue.due:
        notification = wiring.queue.next_due()
        before_attempt(clock.now())
        times.append(clock.now())
        wiring.notifier.deliver(notification)
    return times


def offsets(times: list[float]) -> list[float]:
    return [t - T0 for t in times]


def delays(times: list[float]) -> list[float]:
    return [b - a for a, b in zip(times, times[1:])]


# ---------------------------------------------------------------------------- the scenarios


def test_a_receiver_down_for_several_rounds_gets_the_event_once_when_it_is_back(now, receivers) -> None:
    endpoint = receiver(receivers)
    endpoint.stop()  # connection refused
    wiring = wire(endpoint.url())

    def back_after_a_minute(at: float) -> None:
        if at - T0 >= 60 and not endpoint.running:
            endpoint.start()

    times = run_schedule(wiring, status_event(), back_after_a_minute)

    assert offsets(times) == [0, 5, 15, 35, 75]  # four failed rounds, back before the fifth
    outcomes = [(a["attempt"], a["outcome"], a.get("error"), a.get("next_retry_in")) for a in wiring.history.attempts]
    assert outcomes == [
        (1, "failed", "connection error", 5),
        (2, "failed", "connection error", 10),
        (3, "failed", "connection error", 20),
        (4, "failed", "connection error", 40),
        (5, "delivered", None, None),
    ]
    assert [r.number for r in endpoint.answered_2xx()] == [1]  # the one request it saw, answered once
    assert wiring.queue.due == [] and wiring.queue.dead == []


def test_a_receiver_answering_5xx_then_2xx_is_not_called_again(now, receivers) -> None:
    endpoint = receiver(receivers, lambda n, body: Answer(503 if n <= 3 else 200))
    wiring = wire(endpoint.url())

    times = run_schedule(wiring, status_event())

    assert offsets(times) == [0, 5, 15, 35]
    assert [r.status for r in endpoint.received] == [503, 503, 503, 200]
    assert len({r.body for r in endpoint.received}) == 1  # the same bytes every time
    assert wiring.history.attempts[-1]["outcome"] == "delivered" and wiring.queue.dead == []


@pytest.mark.parametrize("status", [400, 404, 410, 429, 500, 503])
def test_4xx_and_5xx_follow_the_same_schedule_for_24_hours_then_the_dlq_and_the_history(now, receivers, status) -> None:
    endpoint = receiver(receivers, lambda n, body: Answer(status))
    wiring = wire(endpoint.url())

    times = run_schedule(wiring, status_event())

    assert delays(times) == DOCUMENTED_DELAYS
    assert len(times) == len(endpoint.received) == 103
    assert times[-1] - T0 <= DAY < times[-1] - T0 + 900  # the last attempt that still fits the 24 hours
    (dead,) = wiring.queue.dead
    assert (dead.attempt, dead.first_attempt_at, dead.body) == (103, T0, status_event().body)
    assert [a["outcome"] for a in wiring.history.attempts] == ["failed"] * 102 + ["gave_up"]
    assert {a["error"] for a in wiring.history.attempts} == {f"http {status}"}
    assert wiring.history.notes == [
        {"timestamp": clock.iso(times[-1]), "event": "webhook_undeliverable", "webhook": "status:delivered", "attempts": 103}
    ]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_never_followed_and_counts_as_a_failure(now, receivers, status) -> None:
    internal = receiver(receivers)  # what the redirect points at: a host the SSRF guard never checked
    endpoint = receiver(receivers, lambda n, body: Answer(status, location=internal.url()) if n <= 2 else Answer(200))
    wiring = wire(endpoint.url())

    times = run_schedule(wiring, status_event())

    assert internal.received == []
    assert offsets(times) == [0, 5, 15]
    assert [(a["outcome"], a.get("http_status"), a.get("error")) for a in wiring.history.attempts] == [
        ("failed", status, "redirect not followed"),
        ("failed", status, "redirect not followed"),
        ("delivered", 200, None),
    ]
    assert [r.number for r in endpoint.answered_2xx()] == [3]


def test_a_receiver_slower_than_the_read_timeout_gets_the_event_again(now, receivers) -> None:
    """The documented at-least-once case: a 2xx we never read is a failed attempt.

    The receiver processed every copy, and each is the same bytes with the same ``message_uuid``
    and ``status``: the key a receiver de-duplicates on (docs/webhooks.md).
    """
    endpoint = receiver(receivers, lambda n, body: Answer(200, delay=FAST_READ_TIMEOUT + 0.5 if n <= 2 else 0.0))
    wiring = wire(endpoint.url())

    times = run_schedule(wiring, status_event())

    assert offsets(times) == [0, 5, 15]
    assert [a.get("error") for a in wiring.history.attempts] == ["timeout", "timeout", None]
    assert wiring.history.attempts[-1]["outcome"] == "delivered"
    assert [r.status for r in endpoint.received] == [200, 200, 200]
    assert len({r.body for r in endpoint.received}) == 1
    keys = {(json.loads(r.body)["message_uuid"], json.loads(r.body)["status"]) for r in endpoint.received}
    assert len(keys) == 1


def test_a_receiver_that_never_answers_in_time_ends_in_the_dlq_after_24_hours(now, receivers) -> None:
    endpoint = receiver(receivers, lambda n, body: Answer(200, delay=FAST_READ_TIMEOUT + 0.2))
    wiring = wire(endpoint.url(), read_timeout=0.05)
    wiring.notifier.schedule = dataclasses.replace(wiring.notifier.schedule, window=3600)  # 1 h: fewer real waits

    times = run_schedule(wiring, status_event())

    assert delays(times) == [5, 10, 20, 40, 80, 160, 320, 640, 900, 900]  # the next would end past the hour
    assert [a["outcome"] for a in wiring.history.attempts][-1] == "gave_up"
    assert len(wiring.queue.dead) == 1 and wiring.history.notes[0]["event"] == "webhook_undeliverable"


# ---------------------------------------------------------------------------- the invocation's timeout


@dataclass
class ClockedContext:
    """A Lambda context on the injected clock: the function is killed at ``deadline``."""

    deadline: float

    def get_remaining_time_in_millis(self) -> int:
        return int((self.deadline - clock.now()) * 1000)


class SlowPoster:
    """The real poster, taking ``seconds`` of the injected clock per POST (a receiver slow but in time)."""

    def __init__(self, poster: WebhookPoster, seconds: float) -> None:
        self._poster = poster
        self._seconds = seconds

    def post(self, url: str, body: bytes, authorization: str) -> Any:
        result = self._poster.post(url, body, authorization)
        clock.set_clock(lambda t=clock.now() + self._seconds: t)
        return result


def notifier_timeout() -> float:
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=_CfnLoader)
    return float(template["Resources"]["NotifierFunction"]["Properties"]["Timeout"])


class _CfnLoader(yaml.SafeLoader):
    pass


_CfnLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def sqs_event(notifications: list[Notification]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": f"sqs-{i}-{n.notification}",
                "receiptHandle": f"receipt-{i}",
                "body": n.to_json(),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for i, n in enumerate(notifications)
        ]
    }


def test_webhooks_a_receiver_answered_2xx_are_not_sent_again_when_the_invocation_runs_out_of_time(now, receivers) -> None:
    """Three statuses of one message in one batch go one after another; each POST takes 12 s.

    Run to the end, the batch would outlive the 30 s timeout: Lambda kills the function and SQS
    delivers the whole batch again, so the receiver would get the statuses it already answered 2xx
    again. The handler starts no POST with less than ``ATTEMPT_SECONDS`` left: it queues the rest
    again unchanged, for the next invocation.
    """
    timeout = notifier_timeout()
    assert timeout >= ATTEMPT_SECONDS + 5  # else every webhook would be postponed forever
    endpoint = receiver(receivers)
    wiring = wire(endpoint.url())
    wiring.notifier.poster = SlowPoster(wiring.notifier.poster, seconds=12)
    handler = DeliveryHandler(wiring.notifier, ATTEMPT_SECONDS)  # without it: each status 10 times
    pending = [status_event(s) for s in ("submitted", "delivered", "read")]

    invocations = 0
    while pending and invocations < 10:
        invocations += 1
        context = ClockedContext(deadline=clock.now() + timeout)
        answer = handler.run(notifier_runner(), sqs_event(pending), context)
        assert answer == {"batchItemFailures": []}
        killed = clock.now() > context.deadline
        # Killed: SQS delivers the whole batch again. Otherwise: the postponed ones, requeued.
        pending = pending if killed else [wiring.queue.next_due() for _ in list(wiring.queue.due)]

    statuses = [json.loads(r.body)["status"] for r in endpoint.answered_2xx()]
    assert statuses == ["submitted", "delivered", "read"]  # each once, in order
    assert all(a["attempt"] == 1 and a["outcome"] == "delivered" for a in wiring.history.attempts)


def test_the_deployed_notifier_postpones_with_the_posters_attempt_time(aws) -> None:
    from switchboard.composition import notifier_function

    notifier_function.services.cache_clear()
    notifier_function.settings.cache_clear()
    try:
        assert notifier_function.services().handler.attempt_seconds == ATTEMPT_SECONDS
    finally:
        notifier_function.services.cache_clear()
        notifier_function.settings.cache_clear()
