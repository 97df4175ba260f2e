"""Order statistics used by the benchmarks."""
from __future__ import annotations

import pytest

from bench.stats import median, percentile


def test_percentile_interpolates_between_the_closest_ranks() -> None:
    samples = [1.0, 2.0, 3.0, 4.0]
    assert percentile(samples, 0) == 1.0
    assert percentile(samples, 100) == 4.0
    assert percentile(samples, 50) == 2.5
    assert percentile(samples, 25) == pytest.approx(1.75)


def test_percentile_ignores_the_input_order() -> None:
    assert percentile([5.0, 1.0, 3.0], 50) == 3.0


def test_p99_of_a_hundred_samples_sits_just_below_the_largest() -> None:
    samples = [float(i) for i in range(1, 101)]
    assert percentile(samples, 99) == pytest.approx(99.01)


def test_median_of_an_odd_and_an_even_count() -> None:
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([4.0, 1.0, 3.0, 2.0]) == 2.5


@pytest.mark.parametrize("pct", [-1, 101])
def test_percentile_outside_0_to_100_is_refused(pct: float) -> None:
    with pytest.raises(ValueError):
        percentile([1.0], pct)


def test_percentile_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
