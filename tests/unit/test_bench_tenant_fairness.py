"""The tenant fairness rows: the quiet account's medians, the burst's against the idle's."""
from __future__ import annotations

from bench.tenant_fairness import fairness_measurements


def test_burst_rows_carry_the_idle_median_as_their_baseline() -> None:
    idle = [(0.05, 1.05), (0.05, 1.10), (0.05, 1.00)]  # (API answered, submitted) in seconds
    busy = [(1.0, 2.0), (1.5, 2.6), (0.5, 1.4)]
    rows = {m.name: m for m in fairness_measurements(idle, busy, burst=300, still_bursting=True)}
    assert round(rows["tenant_fairness.queue_wait.idle_p50"].value) == 1000
    assert round(rows["tenant_fairness.queue_wait.burst_p50"].value) == 1000
    assert round(rows["tenant_fairness.queue_wait.burst_p50"].baseline) == 1000
    assert round(rows["tenant_fairness.end_to_end.idle_p50"].value) == 1050
    assert round(rows["tenant_fairness.end_to_end.burst_p50"].value) == 2000
    assert "during" in rows["tenant_fairness.end_to_end.burst_p50"].note
