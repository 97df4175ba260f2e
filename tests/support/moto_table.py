"""A table ``t`` in in-process moto with the local stack's moto speed-ups installed, for their tests."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from moto import mock_aws

from local_stack import moto_speedups
from local_stack.template import LOCAL_REGION


@contextmanager
def sped_up_table(range_key: str | None = None) -> Iterator[Any]:
    """A DynamoDB client and table ``t``: hash key ``pk`` (S), and ``range_key`` (N) when given."""
    moto_speedups.install()
    keys = [("pk", "HASH", "S")] + ([(range_key, "RANGE", "N")] if range_key else [])
    with mock_aws():
        client = boto3.client("dynamodb", region_name=LOCAL_REGION)
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": name, "KeyType": kind} for name, kind, _ in keys],
            AttributeDefinitions=[{"AttributeName": name, "AttributeType": type_} for name, _, type_ in keys],
            BillingMode="PAY_PER_REQUEST",
        )
        yield client
