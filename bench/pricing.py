"""Published on-demand prices, and what a message costs at them.

Prices: AWS list prices for US East (N. Virginia), on-demand, as published on the AWS pricing
pages on ``PRICES_AS_OF``; free tiers and volume discounts are left out.

- API Gateway HTTP API: $1.00 per million requests (first 300 million a month; each 512 KB is one request).
- Lambda: $0.20 per million requests; duration $0.0000133334 per GB-second on arm64 and
  $0.0000166667 on x86_64 (first 6 billion GB-seconds a month), billed per millisecond.
- SQS standard queues: $0.40 per million requests (each 64 KB chunk is one request).
- DynamoDB on-demand (Standard table class): $0.625 per million write request units and $0.125
  per million read request units (the prices since the 2024-11-01 reduction).
- Secrets Manager: $0.05 per 10,000 API calls (the $0.40 per secret-month is not per message).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PRICES_AS_OF = "2025-06-01"
PRICE_REGION = "us-east-1"
MILLION = 1_000_000

HTTP_API_PER_MILLION_REQUESTS = 1.00
LAMBDA_PER_MILLION_REQUESTS = 0.20
LAMBDA_PER_GB_SECOND = {"arm64": 0.0000133334, "x86_64": 0.0000166667}
SQS_PER_MILLION_REQUESTS = 0.40
DYNAMODB_PER_MILLION_WRITE_UNITS = 0.625
DYNAMODB_PER_MILLION_READ_UNITS = 0.125
SECRETS_MANAGER_PER_10K_CALLS = 0.05


@dataclass(frozen=True)
class LambdaUsage:
    """One function's invocations, per message."""

    function: str
    invocations: float
    billed_ms: float  # total billed duration (each invocation rounded up to a whole millisecond)
    memory_mb: int
    architecture: str

    @property
    def gb_seconds(self) -> float:
        return self.billed_ms / 1000 * self.memory_mb / 1024


@dataclass(frozen=True)
class MessageUsage:
    """What one message uses, on average, across its whole life."""

    http_api_requests: float
    lambda_usage: tuple[LambdaUsage, ...]
    sqs_requests: float
    dynamodb_write_units: float
    dynamodb_read_units: float
    secrets_manager_calls: float


@dataclass(frozen=True)
class CostPerMillion:
    """US dollars per million messages, by line item."""

    http_api: float
    lambda_requests: float
    lambda_duration: float
    sqs: float
    dynamodb_writes: float
    dynamodb_reads: float
    secrets_manager: float

    @property
    def total(self) -> float:
        return (
            self.http_api
            + self.lambda_requests
            + self.lambda_duration
            + self.sqs
            + self.dynamodb_writes
            + self.dynamodb_reads
            + self.secrets_manager
        )

    def items(self) -> list[tuple[str, float]]:
        return [
            ("http_api", self.http_api),
            ("lambda_requests", self.lambda_requests),
            ("lambda_duration", self.lambda_duration),
            ("sqs", self.sqs),
            ("dynamodb_writes", self.dynamodb_writes),
            ("dynamodb_reads", self.dynamodb_reads),
            ("secrets_manager", self.secrets_manager),
            ("total", self.total),
        ]


def lambda_duration_cost(usage: Iterable[LambdaUsage]) -> float:
    """US dollars for the GB-seconds of ``usage`` (per message)."""
    return sum(each.gb_seconds * LAMBDA_PER_GB_SECOND[each.architecture] for each in usage)


def cost_per_million(usage: MessageUsage) -> CostPerMillion:
    return CostPerMillion(
        http_api=usage.http_api_requests * HTTP_API_PER_MILLION_REQUESTS,
        lambda_requests=sum(each.invocations for each in usage.lambda_usage) * LAMBDA_PER_MILLION_REQUESTS,
        lambda_duration=lambda_duration_cost(usage.lambda_usage) * MILLION,
        sqs=usage.sqs_requests * SQS_PER_MILLION_REQUESTS,
        dynamodb_writes=usage.dynamodb_write_units * DYNAMODB_PER_MILLION_WRITE_UNITS,
        dynamodb_reads=usage.dynamodb_read_units * DYNAMODB_PER_MILLION_READ_UNITS,
        secrets_manager=usage.secrets_manager_calls * SECRETS_MANAGER_PER_10K_CALLS * MILLION / 10_000,
    )
