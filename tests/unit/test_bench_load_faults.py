"""The fault bench's arithmetic: its scenario mix and how it judges messages against the provider's log."""
from __future__ import annotations

from collections import Counter

from bench.load_faults import RESET_AFTER_ACCEPT, SLOW_ACCEPT, FinalState, acceptances, fault_plan, judge, scenario_for
from bench.load_run import Answer


def test_the_mix_is_5_percent_slow_accept_and_2_percent_reset_spread_over_the_channels() -> None:
    mix = Counter(scenario_for(i) for i in range(300))
    assert (mix[SLOW_ACCEPT], mix[RESET_AFTER_ACCEPT]) == (15, 6)
    plan = fault_plan(300)
    slow_channels = {m.body["channel"] for m in plan if m.body["to"].endswith(SLOW_ACCEPT)}
    assert slow_channels == {"sms", "messenger", "viber_service"}
    assert len({m.body["text"] for m in plan}) == 300


def state(status: str, index: int, code: int | None = None, reason: str = "") -> FinalState:
    return FinalState(status, index, code, reason)


def test_judging_against_the_providers_log() -> None:
    answers = [Answer(i, 202, 1.0, f"m-{i}") for i in range(7)] + [Answer(7, 503, 1.0, None)]
    states = {
        "m-0": state("delivered", 0),  # accepted once: fine
        "m-1": state("submitted", 1),  # never accepted: falsely final
        "m-2": state("rejected", 2, 1030, "Internal error: outcome unknown (no answer)"),  # documented
        "m-3": state("rejected", 3, 1000, "Throttled"),  # accepted, yet rejected: falsely final
        "m-4": state("read", 4),  # accepted twice: one duplicate
        "m-5": state("sending", 5),  # never settled: lost
        # m-6 is missing altogether: lost
    }
    provider = Counter({0: 1, 2: 1, 3: 1, 4: 2, 5: 1, 7: 1})  # 7: refused by the API, sent anyway

    verdict = judge(answers, states, provider)

    assert verdict.lost == ["m-5", "m-6"]
    assert verdict.falsely_final == ["m-1", "m-3"]
    assert verdict.duplicated == 1
    assert verdict.outcome_unknown == 1
    assert verdict.refused_but_sent == [7]


def test_acceptances_count_what_the_provider_accepted_whatever_the_caller_saw() -> None:
    log = [
        {"accepted": True, "body": {"text": "bench load 00004"}, "response_status": None},  # reset after accept
        {"accepted": False, "body": {"text": "bench load 00004"}, "response_status": 200},  # Viber "already sent"
        {"accepted": True, "body": {"message": {"text": "bench load 00009"}}},
        {"accepted": True, "body": {"text": "someone else"}},
    ]
    assert acceptances(log) == Counter({4: 1, 9: 1})
