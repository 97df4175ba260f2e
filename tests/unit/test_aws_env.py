"""The unit tests' shared AWS: what one test leaves behind never reaches the next, and moto is idle between tests."""
from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from tests.support.aws_env import AwsEnv, SessionAws


@pytest.fixture
def session() -> Iterator[SessionAws]:
    yield SessionAws()


def leave_traces(env: AwsEnv) -> None:
    """An item in every table, a message in every queue, a changed secret, and resources of its own."""
    dynamodb, sqs = env.client("dynamodb"), env.client("sqs")
    for table in dynamodb.list_tables()["TableNames"]:
        keys = dynamodb.describe_table(TableName=table)["Table"]["KeySchema"]
        dynamodb.put_item(TableName=table, Item={key["AttributeName"]: {"S": "left-behind"} for key in keys})
    for url in sqs.list_queues()["QueueUrls"]:
        sqs.send_message(QueueUrl=url, MessageBody="left behind")
    env.client("secretsmanager").put_secret_value(SecretId=env.env["CHANNELS_SECRET_ID"], SecretString='{"changed": true}')
    sqs.create_queue(QueueName="ExtraQueue")
    boto3.session.Session().client("sqs", region_name="eu-west-1").create_queue(QueueName="ElsewhereQueue")


def test_a_second_test_finds_the_resources_as_the_template_made_them(session: SessionAws) -> None:
    with session.lent() as first:
        tables = first.client("dynamodb").list_tables()["TableNames"]
        queues = first.client("sqs").list_queues()["QueueUrls"]
        secret = first.client("secretsmanager").get_secret_value(SecretId=first.env["CHANNELS_SECRET_ID"])
        leave_traces(first)

    with session.lent() as second:
        dynamodb, sqs = second.client("dynamodb"), second.client("sqs")
        assert tables and dynamodb.list_tables()["TableNames"] == tables
        assert all(dynamodb.scan(TableName=table)["Items"] == [] for table in tables)
        assert queues and sqs.list_queues()["QueueUrls"] == queues
        assert all("Messages" not in sqs.receive_message(QueueUrl=url) for url in queues)
        again = second.client("secretsmanager").get_secret_value(SecretId=second.env["CHANNELS_SECRET_ID"])
        assert (again["SecretString"], again["VersionId"]) == (secret["SecretString"], secret["VersionId"])
        assert json.loads(again["SecretString"]) != {"changed": True}
        elsewhere = boto3.session.Session().client("sqs", region_name="eu-west-1")
        assert "QueueUrls" not in elsewhere.list_queues()


def test_between_tests_moto_holds_none_of_them(session: SessionAws) -> None:
    from moto import mock_aws

    with session.lent() as env:
        assert env.client("dynamodb").list_tables()["TableNames"]

    with mock_aws():
        assert boto3.session.Session().client("dynamodb", region_name="us-east-1").list_tables()["TableNames"] == []


def test_a_test_that_deletes_a_template_resource_gets_a_new_set_next_time(session: SessionAws) -> None:
    with session.lent() as first:
        table = first.env["MESSAGES_TABLE"]
        first.client("dynamodb").delete_table(TableName=table)

    with session.lent() as second:
        assert table in second.client("dynamodb").list_tables()["TableNames"]
