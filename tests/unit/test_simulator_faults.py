"""The simulators' fault scenarios (0021-0024): the provider accepts, then the answer is lost.

Each is checked from both sides: what the client gets (a read timeout, a reset, a gateway 502) and
what the provider did (its request log says accepted, its reports are scheduled). Only the first
attempt of a message is hit; Viber refuses a repeat of an accepted ``seq`` as already sent.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from local_stack.simulators import ProviderSimulators, scenarios
from local_stack.simulators.scenarios import Scenario
from tests.unit.test_simulators import (  # noqa: F401  (fixtures)
    MSISDN,
    PSID,
    messenger_body,
    post_messenger,
    post_sms,
    post_viber,
    report_statuses,
    secret,
    simulators,
    sms_form,
    viber_body,
    with_suffix,
)

STACK_SLOW_ANSWER = scenarios.SLOW_ANSWER_SECONDS
SLOW = 1.0  # the slow answer, shortened for the tests here
CLIENT_READ_TIMEOUT = 0.3


@pytest.fixture(autouse=True)
def short_slow_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scenarios, "SLOW_ANSWER_SECONDS", SLOW)


def send(provider: str, secret: dict[str, Any], suffix: str, seq: int = 77) -> Callable[[], requests.Response]:
    """A function that posts one message (always the same request) to ``provider`` with a short read timeout."""
    if provider == "sms":
        form = sms_form(secret, to=with_suffix(MSISDN, suffix))
        return lambda: requests.post(f"{secret['sms']['api_base']}/sms/json", data=form, timeout=(2, CLIENT_READ_TIMEOUT))
    if provider == "viber":
        body = viber_body(with_suffix(MSISDN, suffix), seq=seq)
        return lambda: requests.post(f"{secret['viber']['api_base']}/send_message", json=body, timeout=(2, CLIENT_READ_TIMEOUT))
    config = secret["messenger"]
    token = next(iter(config["pages"].values()))
    url = f"{config['api_base']}/{config['api_version']}/me/messages"
    body = messenger_body(with_suffix(PSID, suffix))
    return lambda: requests.post(url, params={"access_token": token}, json=body, timeout=(2, CLIENT_READ_TIMEOUT))


def logged(simulators: ProviderSimulators, provider: str) -> list[dict[str, Any]]:
    return [r for r in simulators.requests if r["provider"] == provider]


def test_the_fault_scenarios_are_chosen_by_the_last_four_digits() -> None:
    assert Scenario.for_recipient("447700900021") is Scenario.SLOW_ANSWER
    assert Scenario.for_recipient("447700900022") is Scenario.RESET_AFTER_ACCEPT
    assert Scenario.for_recipient("447700900023") is Scenario.SERVER_ERROR_AFTER_ACCEPT
    assert Scenario.for_recipient("447700900024") is Scenario.SLOW_ANSWER_NO_REPORT


def test_the_slow_answer_is_slower_than_the_local_stacks_read_timeout() -> None:
    from local_stack.stack import LOCAL_FUNCTION_ENVIRONMENT

    assert STACK_SLOW_ANSWER > float(LOCAL_FUNCTION_ENVIRONMENT["PROVIDER_READ_TIMEOUT"])


@pytest.mark.parametrize("provider", ["sms", "messenger", "viber"])
@pytest.mark.parametrize(
    "suffix, failure, fault",
    [
        ("0021", requests.exceptions.ReadTimeout, "slow_answer"),
        ("0022", requests.exceptions.ConnectionError, "reset_after_accept"),
        ("0024", requests.exceptions.ReadTimeout, "slow_answer"),
    ],
)
def test_accepted_then_the_answer_is_lost(simulators, secret, provider, suffix, failure, fault) -> None:
    post = send(provider, secret, suffix)

    with pytest.raises(failure):
        post()

    [entry] = logged(simulators, provider)
    assert (entry["accepted"], entry["fault"]) == (True, fault)
    expect_reports = suffix != "0024"
    assert bool(simulators.scheduled_reports) is expect_reports


@pytest.mark.parametrize("provider", ["sms", "messenger", "viber"])
def test_accepted_then_a_gateway_502(simulators, secret, provider) -> None:
    response = send(provider, secret, "0023")()

    assert response.status_code == 502
    [entry] = logged(simulators, provider)
    assert (entry["response_status"], entry["accepted"], entry["fault"]) == (502, True, "server_error_after_accept")
    assert simulators.scheduled_reports


@pytest.mark.parametrize("provider", ["sms", "messenger"])
def test_a_repeat_of_the_same_request_is_answered_normally_and_accepted_again(simulators, secret, provider) -> None:
    post = send(provider, secret, "0022")
    with pytest.raises(requests.exceptions.ConnectionError):
        post()

    assert post().status_code == 200

    entries = logged(simulators, provider)
    assert [(e["accepted"], e["fault"]) for e in entries] == [(True, "reset_after_accept"), (True, None)]


def test_viber_refuses_a_repeat_of_an_accepted_seq_as_already_sent(simulators, secret) -> None:
    post = send("viber", secret, "0022", seq=9001)
    with pytest.raises(requests.exceptions.ConnectionError):
        post()

    repeat = post()

    assert repeat.json() == {"status": 12, "status_message": "SRVC_ALREADY_SENT", "seq": 9001}
    assert [e["accepted"] for e in logged(simulators, "viber")] == [True, False]
    assert post_viber(secret, viber_body(seq=9002)).json()["status"] == 0  # another seq is a new message


def test_ordinary_answers_are_logged_as_accepted_or_not(simulators, secret) -> None:
    assert post_sms(secret, sms_form(secret)).status_code == 200
    post_sms(secret, sms_form(secret, to=with_suffix(MSISDN, "0001")))
    post_messenger(secret, messenger_body(with_suffix(PSID, "0005")))

    assert [(e["provider"], e["accepted"], e["fault"]) for e in simulators.requests] == [
        ("sms", True, None), ("sms", False, None), ("messenger", False, None)
    ]
