"""The auth-probe benchmark's arithmetic (its timings are ``make bench``'s business, never a test's)."""
from __future__ import annotations

from bench.auth_probes import BLOCK, TARGET_GAP, UNKNOWN_KEY, WRONG_SECRET, gap_measurement, interleave


def test_the_gap_is_the_slower_median_over_the_faster_whichever_kind_is_slower() -> None:
    unknown_slower = gap_measurement("auth_probe.x", [2.0, 2.2, 2.4], [1.0, 1.1, 1.2], "what")
    wrong_slower = gap_measurement("auth_probe.x", [1.0, 1.1, 1.2], [2.0, 2.2, 2.4], "what")

    for row in (unknown_slower, wrong_slower):
        assert (row.value, row.baseline, row.ratio) == (2.2, 1.1, 2.0)
        assert row.target == TARGET_GAP and row.ok is False and row.runs == 3
    assert "(unknown key slower)" in unknown_slower.note
    assert "(wrong secret slower)" in wrong_slower.note


def test_equal_medians_pass_and_a_row_may_have_no_target() -> None:
    assert gap_measurement("a", [1.0, 3.0], [2.0, 2.0], "w").ok is True
    assert gap_measurement("a", [1.0], [9.0], "w", target=None).ok is None


def test_interleave_alternates_which_kind_goes_first_block_by_block() -> None:
    order: list[str] = []

    interleave(4 * BLOCK, order.append)

    blocks = [order[i] for i in range(0, len(order), BLOCK)]
    assert blocks == [UNKNOWN_KEY, WRONG_SECRET, WRONG_SECRET, UNKNOWN_KEY] * 2
    assert order.count(UNKNOWN_KEY) == order.count(WRONG_SECRET) == 4 * BLOCK
