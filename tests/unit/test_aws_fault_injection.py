"""The local stack's DynamoDB write faults (bench ``load_faults`` only): off unless asked, and failing as callers see it."""
from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from local_stack.aws_server import FAULT_INJECTION_VARIABLE, FAULTS_PATH, AwsServer

TABLE = f"Faults-{uuid.uuid4().hex[:8]}"  # moto's server keeps its tables for the whole process


def start_server(monkeypatch: pytest.MonkeyPatch, enabled: bool) -> AwsServer:
    if enabled:
        monkeypatch.setenv(FAULT_INJECTION_VARIABLE, "1")
    else:
        monkeypatch.delenv(FAULT_INJECTION_VARIABLE, raising=False)
    server = AwsServer(port=0)
    server.start()
    return server


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsServer]:
    server = start_server(monkeypatch, enabled=True)
    yield server
    server.stop()


def dynamodb(server: AwsServer) -> object:
    client = boto3.session.Session().client(
        "dynamodb", endpoint_url=server.endpoint_url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x",
        config=Config(retries={"mode": "standard", "max_attempts": 3}),  # as the functions' clients
    )
    if TABLE in client.list_tables()["TableNames"]:
        client.delete_table(TableName=TABLE)
    client.create_table(
        TableName=TABLE, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
    )
    return client


def set_rate(server: AwsServer, rate: float) -> dict:
    return requests.post(server.endpoint_url + FAULTS_PATH, json={"dynamodb_write_failure_rate": rate, "seed": 7}, timeout=5).json()


def test_idle_until_turned_on(faulty: AwsServer) -> None:
    client = dynamodb(faulty)
    client.put_item(TableName=TABLE, Item={"k": {"S": "a"}})
    assert set_rate(faulty, 0.0) == {"dynamodb_write_failure_rate": 0.0}
    assert client.get_item(TableName=TABLE, Key={"k": {"S": "a"}})["Item"] == {"k": {"S": "a"}}


def test_a_chosen_write_fails_through_the_sdks_retries_applied_or_not(faulty: AwsServer) -> None:
    client = dynamodb(faulty)
    set_rate(faulty, 1.0)
    for n in range(20):
        with pytest.raises(ClientError) as failed:
            client.put_item(TableName=TABLE, Item={"k": {"S": f"item-{n}"}})
        assert failed.value.response["Error"]["Code"] == "InternalServerError"
    counts = set_rate(faulty, 0.0)

    applied = client.scan(TableName=TABLE)["Items"]  # reads are never failed
    assert counts["failed_after_write"] + counts["failed_before_write"] == 20
    assert 0 < len(applied) == counts["failed_after_write"] < 20


def test_not_installed_without_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    server = start_server(monkeypatch, enabled=False)
    try:
        assert requests.post(server.endpoint_url + FAULTS_PATH, json={"dynamodb_write_failure_rate": 1}, timeout=5).status_code != 200
        client = dynamodb(server)
        client.put_item(TableName=TABLE, Item={"k": {"S": "a"}})
    finally:
        server.stop()
