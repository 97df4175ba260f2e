"""Provider faults end to end on the shared local stack, judged by the provider's own request log.

The simulators accept a message and then lose the answer (0021 slow past the functions' read
timeout, 0022 connection reset, 0023 a gateway's 502, 0024 slow with no report ever). For every
channel: at most one accepted provider request per message where the provider cannot
de-duplicate (exactly one here, since each was accepted), nothing left in ``accepted``/``sending``,
and a final status matching what the provider did and reported:

- SMS: the delivery receipt carries our ``client-ref`` and settles the message (submitted, then
  delivered); with no receipt (0024) it is rejected 1030 "outcome unknown" when its window ends;
- Messenger: nothing can settle it: rejected 1030 "outcome unknown" at once, never resent;
- Viber: resent with the same ``seq``; the provider refuses the repeat as already sent, so the
  message is submitted after exactly one accepted request.

Every message is sent up front (module scope) so the waits overlap; each test checks its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from local_stack.simulators import DEMO_PAGE_ID, DEMO_VIBER_SERVICE_ID
from tests.support.stack import RunningStack
from tests.support.stack_requests import (
    SendRequest,
    history_statuses,
    lookup,
    post_messages,
    provider_requests_to,
    unique_msisdn,
    unique_psid,
    unique_text,
)
from tests.support.webhook_checks import provider_reports_to, statuses, wait_for_status

SLOW_ANSWER, RESET, GATEWAY_502, SLOW_NO_REPORT = "0021", "0022", "0023", "0024"
# The local stack: 3 s read timeout, 10 s window for an unknown SMS outcome, plus the SQS round trips.
FINAL_TIMEOUT_SECONDS = 90.0
OUTCOME_UNKNOWN_PREFIX = "Internal error: outcome unknown"
SMS_SENDER = "447700900001"
PROVIDER_OF = {"sms": "sms", "messenger": "messenger", "viber_service": "viber"}


@dataclass(frozen=True)
class FaultCase:
    channel: str  # as in the v1 API
    suffix: str
    recipient: str
    text: str

    @property
    def provider(self) -> str:
        return PROVIDER_OF[self.channel]

    def request(self) -> SendRequest:
        body: dict[str, Any] = {"to": self.recipient, "channel": self.channel, "message_type": "text", "text": self.text}
        body["from"] = {"sms": SMS_SENDER, "messenger": DEMO_PAGE_ID, "viber_service": DEMO_VIBER_SERVICE_ID}[self.channel]
        return SendRequest("/v1/messages", body)


CASES = [
    (channel, suffix)
    for channel in ("sms", "messenger", "viber_service")
    for suffix in (SLOW_ANSWER, RESET, GATEWAY_502)
] + [("sms", SLOW_NO_REPORT)]


@pytest.fixture(scope="module")
def sent(stack: RunningStack) -> dict[tuple[str, str], tuple[FaultCase, str]]:
    """Every case's message, sent once for the module: (channel, suffix) -> (case, message uuid)."""
    cases = []
    for channel, suffix in CASES:
        recipient = unique_psid(suffix) if channel == "messenger" else unique_msisdn(suffix)
        cases.append(FaultCase(channel, suffix, recipient, unique_text(f"fault {channel} {suffix}")))
    uuids = post_messages(stack, [case.request() for case in cases])
    return {(case.channel, case.suffix): (case, uuid) for case, uuid in zip(cases, uuids)}


def final_view(stack: RunningStack, message_uuid: str, expected: str) -> dict[str, Any]:
    """The lookup view once the message shows ``expected`` (public statuses only, so never internal)."""
    return stack.wait_for(
        lambda: (view if (view := lookup(stack, message_uuid))["status"] == expected else None),
        timeout=FINAL_TIMEOUT_SECONDS,
        interval=0.25,
        what=f"message {message_uuid} to be {expected}",
    )


def accepted_requests(stack: RunningStack, case: FaultCase) -> list[dict[str, Any]]:
    return [r for r in provider_requests_to(stack, case.provider, case.recipient) if r["accepted"]]


def assert_not_resent(stack: RunningStack, case: FaultCase, fault: str) -> None:
    requests = provider_requests_to(stack, case.provider, case.recipient)
    assert [(r["accepted"], r["fault"]) for r in requests] == [(True, fault)], requests


FAULT_OF = {SLOW_ANSWER: "slow_answer", RESET: "reset_after_accept", GATEWAY_502: "server_error_after_accept",
            SLOW_NO_REPORT: "slow_answer"}


@pytest.mark.parametrize("suffix", [SLOW_ANSWER, RESET, GATEWAY_502])
def test_sms_is_sent_once_and_settled_by_its_delivery_receipt(stack: RunningStack, sent, suffix: str) -> None:
    case, message_uuid = sent[("sms", suffix)]

    view = final_view(stack, message_uuid, "delivered")

    assert_not_resent(stack, case, FAULT_OF[suffix])
    assert history_statuses(view)[:4] == ["accepted", "sending", "outcome_unknown", "submitted"]
    assert [h.get("event") for h in view["history"] if h["status"] == "submitted"] == ["outcome_reconciled"]
    assert "error" not in view
    webhooks = wait_for_status(stack, message_uuid, "delivered")
    assert statuses(webhooks) == ["submitted", "delivered"]


def test_sms_with_no_receipt_is_rejected_as_outcome_unknown_when_its_window_ends(stack: RunningStack, sent) -> None:
    case, message_uuid = sent[("sms", SLOW_NO_REPORT)]

    view = final_view(stack, message_uuid, "rejected")

    assert_not_resent(stack, case, "slow_answer")
    assert view["error"]["code"] == 1030
    assert view["error"]["reason"].startswith(OUTCOME_UNKNOWN_PREFIX)
    assert history_statuses(view) == ["accepted", "sending", "outcome_unknown", "rejected"]
    assert statuses(wait_for_status(stack, message_uuid, "rejected")) == ["rejected"]


@pytest.mark.parametrize("suffix", [SLOW_ANSWER, RESET, GATEWAY_502])
def test_messenger_is_never_resent_and_rejected_as_outcome_unknown(stack: RunningStack, sent, suffix: str) -> None:
    case, message_uuid = sent[("messenger", suffix)]

    view = final_view(stack, message_uuid, "rejected")

    assert view["error"]["code"] == 1030
    assert view["error"]["reason"].startswith(OUTCOME_UNKNOWN_PREFIX)
    assert history_statuses(view) == ["accepted", "sending", "rejected"]
    # Facebook's delivery and read webhooks for it (the simulator sends them) find nothing to settle.
    stack.wait_for(
        lambda: len(provider_reports_to(stack, case.recipient)) >= 2,
        timeout=FINAL_TIMEOUT_SECONDS,
        what=f"the simulator's delivery and read reports to {case.recipient}",
    )
    assert lookup(stack, message_uuid)["status"] == "rejected"
    assert_not_resent(stack, case, FAULT_OF[suffix])
    assert statuses(wait_for_status(stack, message_uuid, "rejected")) == ["rejected"]


@pytest.mark.parametrize("suffix", [SLOW_ANSWER, RESET, GATEWAY_502])
def test_viber_is_resent_with_its_seq_and_submitted_after_one_accepted_request(
    stack: RunningStack, sent, suffix: str
) -> None:
    case, message_uuid = sent[("viber_service", suffix)]

    view = final_view(stack, message_uuid, "submitted")

    requests = provider_requests_to(stack, "viber", case.recipient)
    assert [(r["accepted"], r["fault"]) for r in requests] == [(True, FAULT_OF[suffix]), (False, None)]
    assert requests[1]["response_body"]["status"] == 12  # refused: already sent
    assert requests[0]["body"]["seq"] == requests[1]["body"]["seq"]
    assert len(accepted_requests(stack, case)) == 1
    assert history_statuses(view) == ["accepted", "sending", "accepted", "sending", "submitted"]
