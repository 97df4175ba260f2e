"""What a simulator does with a message, chosen by the last four digits of its recipient.

    0001  rejected at send time (the provider's "not a user / barred" answer)
    0002  accepted; the delivery report says failed (where the provider reports failures: not Messenger)
    0003  accepted; no report follows
    0004  accepted; delivered, never read
    0005  HTTP 500 on the first two attempts, then accepted
    0006  HTTP 429 on the first attempt, then accepted
    0007  WhatsApp: the customer service window is closed (anything but a template is refused with
          code 131047); other providers: as for "other"
    0021  accepted, but the answer comes only after ``SLOW_ANSWER_SECONDS`` (longer than the local
          stack's provider read timeout) on the first attempt; reports as for "other"
    0022  accepted, then the connection is reset instead of answered, on the first attempt; reports
          as for "other"
    0023  accepted, then answered HTTP 502 (a gateway's, without the provider's body) on the first
          attempt; reports as for "other"
    0024  like 0021, and no report follows (an unknown outcome nothing settles)
    other accepted; delivered about 1 s later and, where the provider has read receipts, read 1 s after
          that (Messenger and Viber; the SMS API has none, so an SMS is delivered only)

The faults of 0021-0024 hit the first attempt of a message only (counted like 0005's), so a
provider that de-duplicates (Viber, by ``seq``) answers a resend normally. Connection refused and
DNS failures cannot be chosen per recipient (the connection exists before the recipient is read);
``tests/unit/test_transport_faults.py`` produces them against real sockets.

Attempts are counted per distinct request: provider + recipient + the request body without
credentials. A retry of the same message sends the same body, so it counts as the next attempt;
a different message to the same recipient starts again at attempt 1. Counts live in memory only.

Every accepted message's reports are recorded (``scheduled_reports``) and, when a listener is set
(``set_report_listener``: the simulators' ``ReportDispatcher``), handed to it to be sent.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from enum import Enum
from typing import Any, Literal

from local_stack.simulators.http_server import HttpResponse

# As the outbound issue specifies: delivered about 1 s after the send, read about 1 s after that.
DELIVERED_AFTER = timedelta(seconds=1)
READ_AFTER = timedelta(seconds=2)

ReportStatus = Literal["sent", "delivered", "read", "failed"]
# WhatsApp reports "sent" (its servers took the message) before anything else.
SENT_AFTER = timedelta(milliseconds=500)


# Longer than the provider read timeout the local stack gives its functions (local_stack.stack).
SLOW_ANSWER_SECONDS = 5.0


class Scenario(Enum):
    NOT_ON_NETWORK = "0001"
    DELIVERY_FAILS = "0002"
    NO_REPORT = "0003"
    NEVER_READ = "0004"
    SERVER_ERROR_TWICE = "0005"
    THROTTLED_ONCE = "0006"
    WINDOW_CLOSED = "0007"
    SLOW_ANSWER = "0021"
    RESET_AFTER_ACCEPT = "0022"
    SERVER_ERROR_AFTER_ACCEPT = "0023"
    SLOW_ANSWER_NO_REPORT = "0024"
    DELIVERED_AND_READ = "other"

    @classmethod
    def for_recipient(cls, recipient: str) -> Scenario:
        suffix = recipient[-4:]
        return next((s for s in cls if s.value == suffix), cls.DELIVERED_AND_READ)


class Outcome(Enum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    SERVER_ERROR = "server_error"
    THROTTLED = "throttled"
    # Accepted (the message goes out and its reports follow), but the answer is lost:
    ACCEPTED_SLOW_ANSWER = "accepted_slow_answer"
    ACCEPTED_RESET = "accepted_reset"
    ACCEPTED_SERVER_ERROR = "accepted_server_error"


_FAULTS = {
    Scenario.SLOW_ANSWER: Outcome.ACCEPTED_SLOW_ANSWER,
    Scenario.SLOW_ANSWER_NO_REPORT: Outcome.ACCEPTED_SLOW_ANSWER,
    Scenario.RESET_AFTER_ACCEPT: Outcome.ACCEPTED_RESET,
    Scenario.SERVER_ERROR_AFTER_ACCEPT: Outcome.ACCEPTED_SERVER_ERROR,
}


def answer(outcome: Outcome, accepted: HttpResponse) -> HttpResponse:
    """The answer to a message the simulator accepted (``accepted``), with ``outcome``'s fault applied.

    Every accepted answer is marked ``accepted`` (and its fault named) for the request log, which
    records what the provider did whatever the client got to see.
    """
    marked = replace(accepted, accepted=True)
    if outcome is Outcome.ACCEPTED_SLOW_ANSWER:
        return replace(marked, delay_seconds=SLOW_ANSWER_SECONDS, fault="slow_answer")
    if outcome is Outcome.ACCEPTED_RESET:
        return replace(marked, reset=True, fault="reset_after_accept")
    if outcome is Outcome.ACCEPTED_SERVER_ERROR:
        gateway = HttpResponse.text(502, "Bad Gateway")
        return replace(gateway, accepted=True, fault="server_error_after_accept")
    return marked


@dataclass(frozen=True)
class ScheduledReport:
    """A delivery or read report the provider would send for an accepted message.

    ``sender`` is the side that sent the message: the page id (Messenger), the service id
    (Viber) or the ``from`` address (SMS). ``reports.py`` turns each into the provider's webhook.
    """

    provider: str
    status: ReportStatus
    due_at: datetime
    message_id: str
    recipient: str
    sender: str
    client_ref: str | None = None
    # The provider's own id of the sender when it is not its address (WhatsApp's phone number id).
    sender_id: str | None = None


ReportListener = Callable[[list[ScheduledReport]], None]


def _report_plan(
    scenario: Scenario, has_read_receipts: bool, has_failure_reports: bool, has_sent_reports: bool = False
) -> list[tuple[ReportStatus, timedelta]]:
    plan = _delivery_plan(scenario, has_read_receipts, has_failure_reports)
    if has_sent_reports and scenario is not Scenario.SLOW_ANSWER_NO_REPORT and scenario is not Scenario.NO_REPORT:
        return [("sent", SENT_AFTER), *plan]
    return plan


def _delivery_plan(
    scenario: Scenario, has_read_receipts: bool, has_failure_reports: bool
) -> list[tuple[ReportStatus, timedelta]]:
    if scenario is Scenario.DELIVERY_FAILS:
        return [("failed", DELIVERED_AFTER)] if has_failure_reports else []
    if scenario in (Scenario.NO_REPORT, Scenario.SLOW_ANSWER_NO_REPORT):
        return []
    if scenario is Scenario.NEVER_READ or not has_read_receipts:
        return [("delivered", DELIVERED_AFTER)]
    return [("delivered", DELIVERED_AFTER), ("read", READ_AFTER)]


class RecipientBehaviour:
    """Shared by the three simulators: decides each send's outcome and records scheduled reports."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: dict[tuple[str, str, str], int] = {}
        self._reports: list[ScheduledReport] = []
        self._listener: ReportListener | None = None

    def set_report_listener(self, listener: ReportListener | None) -> None:
        """``listener`` gets each accepted message's reports (in order, possibly none) as they are scheduled."""
        with self._lock:
            self._listener = listener

    def outcome(
        self, provider: str, recipient: str, request_without_credentials: Mapping[str, Any]
    ) -> Outcome:
        scenario = Scenario.for_recipient(recipient)
        if scenario is Scenario.NOT_ON_NETWORK:
            return Outcome.REJECTED
        if scenario is Scenario.SERVER_ERROR_TWICE:
            attempt = self._next_attempt(provider, recipient, request_without_credentials)
            return Outcome.SERVER_ERROR if attempt <= 2 else Outcome.ACCEPTED
        if scenario is Scenario.THROTTLED_ONCE:
            attempt = self._next_attempt(provider, recipient, request_without_credentials)
            return Outcome.THROTTLED if attempt == 1 else Outcome.ACCEPTED
        if scenario in _FAULTS:
            attempt = self._next_attempt(provider, recipient, request_without_credentials)
            return _FAULTS[scenario] if attempt == 1 else Outcome.ACCEPTED
        return Outcome.ACCEPTED

    def schedule_reports(
        self,
        provider: str,
        message_id: str,
        recipient: str,
        sender: str,
        *,
        has_read_receipts: bool,
        has_failure_reports: bool = True,
        client_ref: str | None = None,
        sender_id: str | None = None,
        has_sent_reports: bool = False,
    ) -> list[ScheduledReport]:
        """The reports the provider sends about an accepted message, in the order it sends them."""
        accepted_at = datetime.now(timezone.utc)
        plan = _report_plan(Scenario.for_recipient(recipient), has_read_receipts, has_failure_reports, has_sent_reports)
        reports = [
            ScheduledReport(provider, status, accepted_at + delay, message_id, recipient, sender, client_ref, sender_id)
            for status, delay in plan
        ]
        with self._lock:
            self._reports.extend(reports)
            listener = self._listener
        if listener is not None and reports:
            listener(reports)
        return reports

    def scheduled_reports(self) -> list[ScheduledReport]:
        with self._lock:
            return list(self._reports)

    def _next_attempt(self, provider: str, recipient: str, request: Mapping[str, Any]) -> int:
        key = (provider, recipient, json.dumps(request, sort_keys=True, default=str))
        with self._lock:
            self._attempts[key] = self._attempts.get(key, 0) + 1
            return self._attempts[key]
