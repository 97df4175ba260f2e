"""The sender CPU measurement's arithmetic: the rows it reports and the Lambda estimate."""
from __future__ import annotations

import pytest

from bench.sender_cpu import CpuSamples, cpu_measurements, lambda_batch_estimate_ms


def test_the_lambda_estimate_adds_the_overlapped_waits_to_the_cpu_work_at_lambdas_cpu_share() -> None:
    # 100 ms round-trip + 4 AWS calls x 5 ms + 10 messages x 2 ms of CPU stretched by 1769/512.
    assert lambda_batch_estimate_ms(2.0, 4, 100.0, 512) == pytest.approx(100 + 20 + 20 * 1769 / 512)
    # At one full vCPU the CPU time counts as measured.
    assert lambda_batch_estimate_ms(2.0, 4, 100.0, 1769) == pytest.approx(140.0)


def test_the_rows_compare_medians_against_the_minimal_sender_and_the_round_trip() -> None:
    sender = CpuSamples("sender", lambda event, context: None, [3.0, 9.0, 4.0], [4.0, 4.0, 4.0])
    minimal = CpuSamples("minimal", lambda event, context: None, [2.0, 2.0, 5.0], [2.0, 2.0, 2.0])

    per_message, estimate = cpu_measurements(sender, minimal, 100.0, 512)

    assert (per_message.value, per_message.baseline, per_message.target) == (4.0, 2.0, 1.5)
    assert per_message.ok is False and per_message.runs == 3
    assert estimate.baseline == 100.0 and estimate.target is None
    assert estimate.value == pytest.approx(lambda_batch_estimate_ms(4.0, 4.0, 100.0, 512))
    assert "512 MB" in estimate.note and "1769/512" in estimate.note
