"""Cost arithmetic of the benchmarks (published on-demand prices)."""
from __future__ import annotations

import pytest

from bench.pricing import LambdaUsage, MessageUsage, cost_per_million


def usage(**overrides: object) -> MessageUsage:
    fields: dict[str, object] = {
        "http_api_requests": 0.0,
        "lambda_usage": (),
        "sqs_requests": 0.0,
        "dynamodb_write_units": 0.0,
        "dynamodb_read_units": 0.0,
        "secrets_manager_calls": 0.0,
    }
    fields.update(overrides)
    return MessageUsage(**fields)  # type: ignore[arg-type]


def test_request_priced_services_cost_their_price_per_million_per_request() -> None:
    cost = cost_per_million(usage(http_api_requests=3, sqs_requests=5, dynamodb_write_units=10, dynamodb_read_units=2))
    assert cost.http_api == pytest.approx(3.00)
    assert cost.sqs == pytest.approx(2.00)
    assert cost.dynamodb_writes == pytest.approx(6.25)
    assert cost.dynamodb_reads == pytest.approx(0.25)


def test_secrets_manager_is_five_cents_per_ten_thousand_calls() -> None:
    assert cost_per_million(usage(secrets_manager_calls=1)).secrets_manager == pytest.approx(5.00)


def test_lambda_requests_and_gb_seconds_by_architecture() -> None:
    one_second_at_1_gb_arm = LambdaUsage("F", invocations=1, billed_ms=1000, memory_mb=1024, architecture="arm64")
    half_second_at_512_x86 = LambdaUsage("G", invocations=1, billed_ms=1000, memory_mb=512, architecture="x86_64")
    cost = cost_per_million(usage(lambda_usage=(one_second_at_1_gb_arm, half_second_at_512_x86)))
    assert cost.lambda_requests == pytest.approx(0.40)
    assert cost.lambda_duration == pytest.approx(13.3334 + 0.5 * 16.6667)


def test_total_is_the_sum_of_the_line_items() -> None:
    cost = cost_per_million(usage(http_api_requests=1, sqs_requests=1, secrets_manager_calls=0.01))
    items = dict(cost.items())
    assert items["total"] == pytest.approx(sum(v for k, v in items.items() if k != "total"))


def test_gb_seconds_of_a_512_mb_function() -> None:
    assert LambdaUsage("F", 1, billed_ms=100, memory_mb=512, architecture="arm64").gb_seconds == pytest.approx(0.05)
