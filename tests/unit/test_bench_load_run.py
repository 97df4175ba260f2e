"""The load run's plan and its accounting of lost, duplicate and crossed messages (no stack needed)."""
from __future__ import annotations

from collections import Counter

from bench.load_run import (
    Answer,
    Settling,
    StoredMessage,
    burst_plan,
    crossed_requests,
    duplicate_sends,
    load_measurements,
    provider_acceptances,
    text_index,
    unsettled,
)


def test_the_plan_spreads_channels_and_includes_the_retry_scenarios() -> None:
    plan = burst_plan(30)
    assert Counter(m.body["channel"] for m in plan) == {"sms": 10, "messenger": 10, "viber_service": 10}
    endings = Counter(m.body["to"][-4:] for m in plan)
    assert endings["0005"] == 3 and endings["0006"] == 3
    assert len({m.body["text"] for m in plan}) == 30  # every text unique
    assert len({m.body["to"] for m in plan}) == 30


def test_text_index_reads_the_benchmark_marker() -> None:
    assert text_index("bench load 00042") == 42
    assert text_index("something else") is None


def test_acceptances_count_only_http_200_by_text() -> None:
    log = [
        {"response_status": 500, "body": {"text": "bench load 00001"}},
        {"response_status": 200, "body": {"text": "bench load 00001"}},
        {"response_status": 200, "body": {"message": {"#txt": "bench load 00002"}}},
        {"response_status": 200, "body": {"message": {"#txt": "bench load 00002"}}},
        {"response_status": 200, "body": None},
    ]
    assert provider_acceptances(log) == Counter({1: 1, 2: 2})


def test_a_duplicate_is_an_acceptance_beyond_the_messages_carrying_that_text() -> None:
    acceptances = Counter({1: 1, 2: 2, 3: 2})
    stored_texts = Counter({1: 1, 2: 1, 3: 2})  # two messages were stored with text 3
    assert duplicate_sends(acceptances, stored_texts) == 1


def test_crossed_requests_are_messages_stored_with_another_requests_text() -> None:
    answers = [Answer(1, 202, 1.0, "u1"), Answer(2, 202, 1.0, "u2"), Answer(3, 500, 1.0, None)]
    stored = {"u1": StoredMessage("submitted", 1), "u2": StoredMessage("submitted", 1)}
    assert crossed_requests(answers, stored) == 1


def test_unsettled_includes_missing_records_and_pending_states() -> None:
    stored = {"a": StoredMessage("submitted", 0), "b": StoredMessage("sending", 1), "c": StoredMessage("rejected", 2)}
    assert unsettled(["a", "b", "c", "d"], stored) == ["b", "d"]


def test_measurements_flag_lost_and_duplicates_against_zero() -> None:
    answers = [Answer(0, 202, 10.0, "u0"), Answer(1, 202, 20.0, "u1"), Answer(2, 0, 30.0, None, "ConnectionError")]
    stored = {"u0": StoredMessage("submitted", 0), "u1": StoredMessage("accepted", 1)}
    log = [{"response_status": 200, "body": {"text": f"bench load {i:05d}"}} for i in (0, 0)]
    settling = Settling(stored, settled_at=None, stopped_because="stalled")
    rows = {m.name: m for m in load_measurements(answers, 2.0, settling, None, log)}
    assert rows["load_run.accepted_per_second"].value == 1.0
    assert rows["load_run.lost_messages"].value == 1 and rows["load_run.lost_messages"].ok is False
    assert rows["load_run.duplicate_provider_sends"].value == 1
    assert rows["load_run.api_errors"].value == 1
    assert "ConnectionError" in rows["load_run.api_errors"].note
    assert rows["load_run.time_to_settle"].value is None  # never settled
    assert "stalled" in rows["load_run.lost_messages"].note


def test_api_latency_under_load_is_reported_against_the_same_stacks_idle_latency() -> None:
    answers = [Answer(0, 202, 400.0, "u0"), Answer(1, 202, 600.0, "u1")]
    stored = {"u0": StoredMessage("submitted", 0), "u1": StoredMessage("submitted", 1)}
    settling = Settling(stored, settled_at=1.0, stopped_because="settled")
    rows = {m.name: m for m in load_measurements(answers, 2.0, settling, 1.0, [], idle_latencies_ms=[40.0, 60.0, 50.0])}
    assert rows["load_run.api_latency.idle_p50"].value == 50.0
    assert rows["load_run.api_latency.p50"].value == 500.0
    assert rows["load_run.api_latency.p50"].baseline == 50.0
    without_idle = {m.name for m in load_measurements(answers, 2.0, settling, 1.0, [])}
    assert "load_run.api_latency.idle_p50" not in without_idle
