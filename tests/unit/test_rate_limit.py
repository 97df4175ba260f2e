"""The per-account rate limit: the limiter on a fake counter, the DynamoDB counter, and the API's 429."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from switchboard.api.rate_limit import (
    COUNTER_TTL_SECONDS,
    CounterUnavailable,
    DynamoDbRequestCounter,
    RateLimiter,
)
from switchboard.domain.errors import RateLimited
from tests.support.api_client import Api, assert_problem
from tests.support.clock import T0
from tests.support.lambdas import basic_auth
from tests.support.request_bodies import SMS_V1, WORKFLOW

RATE_LIMIT_TYPE = "https://developer.vonage.com/api-errors#rate-limit"


class InMemoryRequestCounter:
    """The DynamoDB counter's contract on a dict: count under ``key`` while below ``limit``."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.expiries: dict[str, int] = {}
        self.unavailable = False

    def try_count(self, key: str, limit: int, expires_at: int) -> bool:
        if self.unavailable:
            raise CounterUnavailable("counter down")
        self.expiries[key] = expires_at
        if self.counts[key] >= limit:
            return False
        self.counts[key] += 1
        return True


def limiter(
    counter: InMemoryRequestCounter, default: int = 3, own: dict[str, int] | None = None, **kw: Any
) -> RateLimiter:
    return RateLimiter(counter, default, lambda api_key: (own or {}).get(api_key), **kw)


def allowed(limiter: RateLimiter, api_key: str, times: int) -> list[bool]:
    results = []
    for _ in range(times):
        try:
            limiter.check(api_key)
            results.append(True)
        except RateLimited:
            results.append(False)
    return results


# -- the limiter ---------------------------------------------------------------------------------


def test_an_account_gets_its_limit_per_second_then_429s_until_the_next_second(now: list[float]) -> None:
    counter = InMemoryRequestCounter()
    rate_limiter = limiter(counter, default=3)
    now[0] = T0 + 0.25

    assert allowed(rate_limiter, "aaaa1111", 5) == [True, True, True, False, False]
    with pytest.raises(RateLimited) as refused:
        rate_limiter.check("aaaa1111")
    assert refused.value.retry_after_seconds == 1
    assert "3 requests per second" in refused.value.detail

    now[0] = T0 + 1.0  # the next window
    assert allowed(rate_limiter, "aaaa1111", 4) == [True, True, True, False]
    assert counter.counts == {f"aaaa1111#{int(T0)}": 3, f"aaaa1111#{int(T0) + 1}": 3}
    assert counter.expiries[f"aaaa1111#{int(T0)}"] == int(T0) + COUNTER_TTL_SECONDS


def test_one_accounts_exhaustion_does_not_touch_another_account(now: list[float]) -> None:
    rate_limiter = limiter(InMemoryRequestCounter(), default=2)

    assert allowed(rate_limiter, "aaaa1111", 3) == [True, True, False]
    assert allowed(rate_limiter, "bbbb2222", 3) == [True, True, False]
    assert allowed(rate_limiter, "aaaa1111", 1) == [False]


def test_an_accounts_own_limit_replaces_the_default(now: list[float]) -> None:
    rate_limiter = limiter(InMemoryRequestCounter(), default=2, own={"aaaa1111": 5, "cccc3333": 1})

    assert rate_limiter.limit_for("aaaa1111") == 5 and rate_limiter.limit_for("bbbb2222") == 2
    assert allowed(rate_limiter, "aaaa1111", 6) == [True] * 5 + [False]
    assert allowed(rate_limiter, "bbbb2222", 3) == [True, True, False]
    assert allowed(rate_limiter, "cccc3333", 2) == [True, False]


def test_retry_after_is_a_whole_second_at_least_even_late_in_the_window(now: list[float]) -> None:
    rate_limiter = limiter(InMemoryRequestCounter(), default=1)
    now[0] = T0 + 0.999
    rate_limiter.check("aaaa1111")
    with pytest.raises(RateLimited) as refused:
        rate_limiter.check("aaaa1111")
    assert refused.value.retry_after_seconds == 1


def test_a_counter_failure_lets_the_request_through_and_is_reported(now: list[float]) -> None:
    counter = InMemoryRequestCounter()
    counter.unavailable = True
    reported: list[CounterUnavailable] = []
    rate_limiter = limiter(counter, default=1, on_counter_error=reported.append)

    assert allowed(rate_limiter, "aaaa1111", 3) == [True, True, True]
    assert [str(e) for e in reported] == ["counter down"] * 3


# -- the DynamoDB counter ------------------------------------------------------------------------


def test_the_dynamodb_counter_counts_atomically_up_to_the_limit(aws: Any) -> None:
    table = aws.env["RATE_LIMIT_TABLE"]
    counter = DynamoDbRequestCounter(table)

    assert [counter.try_count("aaaa1111#100", 2, 160) for _ in range(4)] == [True, True, False, False]
    assert counter.try_count("aaaa1111#101", 2, 161) is True
    assert counter.try_count("bbbb2222#100", 2, 160) is True

    item = aws.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": "aaaa1111#100"}})["Item"]
    assert item == {"pk": {"S": "aaaa1111#100"}, "count": {"N": "2"}, "expires_at": {"N": "160"}}
    ttl = aws.client("dynamodb").describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert ttl["AttributeName"] == "expires_at"


def test_the_dynamodb_counter_makes_one_write_per_request(aws: Any) -> None:
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")
    calls: list[str] = []
    client.meta.events.register("before-call.dynamodb", lambda model, **_: calls.append(model.name))
    counter = DynamoDbRequestCounter(aws.env["RATE_LIMIT_TABLE"], client)

    counter.try_count("aaaa1111#100", 1, 160)  # allowed
    counter.try_count("aaaa1111#100", 1, 160)  # refused
    assert calls == ["UpdateItem", "UpdateItem"]


@pytest.mark.parametrize(
    "code, outcome",
    [
        ("ProvisionedThroughputExceededException", False),  # the counter item is saturated: the account is over
        ("ThrottlingException", False),
        ("InternalServerError", CounterUnavailable),
        ("ResourceNotFoundException", CounterUnavailable),
    ],
)
def test_dynamodb_errors_are_a_refusal_when_throttled_and_unavailable_otherwise(code: str, outcome: Any) -> None:
    import boto3
    from botocore.stub import Stubber

    client = boto3.client("dynamodb", region_name="us-east-1")
    counter = DynamoDbRequestCounter("RateLimitTable", client)
    with Stubber(client) as stub:
        stub.add_client_error("update_item", service_error_code=code)
        if outcome is False:
            assert counter.try_count("aaaa1111#100", 5, 160) is False
        else:
            with pytest.raises(outcome):
                counter.try_count("aaaa1111#100", 5, 160)


# -- through the API handler ---------------------------------------------------------------------


@pytest.fixture
def api(aws: Any, tmp_path: Path, now: list[float]) -> Api:
    """The API with the clock frozen, so a test's requests share one window unless it moves time."""
    return Api(aws, tmp_path)


@dataclass(frozen=True)
class Tenant:
    api_key: str
    headers: dict[str, str]  # the account's Basic ``authorization`` header
    sms: dict[str, Any]  # a valid v1 SMS from a sender id the account owns


def new_account(api: Api, rate_limit_per_second: int | None) -> Tenant:
    """A new account with this limit (``None``: the default) that owns one SMS sender id."""
    from local_stack.provision import link_senders
    from switchboard.provisioning import provision_account
    from tests.support.stores import AccountStore

    account = provision_account(AccountStore(), rate_limit_per_second=rate_limit_per_second)
    sender = "T" + account["api_key"][:8]
    link_senders(account["api_key"], [("sms", sender)])
    return Tenant(account["api_key"], {"authorization": basic_auth(account["api_key"], account["api_secret"])}, {**SMS_V1, "from": sender})


def messages_in_table(api: Api) -> int:
    return api.aws.client("dynamodb").scan(TableName=api.aws.env["MESSAGES_TABLE"], Select="COUNT")["Count"]


def test_an_account_over_its_limit_gets_429_with_retry_after_and_nothing_is_recorded(
    api: Api, now: list[float], capsys: pytest.CaptureFixture[str]
) -> None:
    limited = new_account(api, rate_limit_per_second=2)

    assert [api.call("POST", "/v1/messages", limited.sms, headers=limited.headers)[0] for _ in range(2)] == [202, 202]
    capsys.readouterr()
    status, headers, body = api.call("POST", "/v1/messages", limited.sms, headers=limited.headers)
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]

    assert_problem(status, headers, body, 429)
    assert headers["retry-after"] == "1"
    assert body["type"] == RATE_LIMIT_TYPE
    assert body["title"] == "Too Many Requests"
    assert "2 requests per second" in body["detail"]
    assert [m["rate_limited"] for m in emitted if "rate_limited" in m] == [[1.0]]  # the EMF metric, once
    assert messages_in_table(api) == 2
    assert len(api.queued()) == 2

    now[0] += 1
    assert api.call("POST", "/v1/messages", limited.sms, headers=limited.headers)[0] == 202


def test_another_account_is_not_affected_by_one_accounts_exhaustion(api: Api) -> None:
    first, second = new_account(api, rate_limit_per_second=1), new_account(api, rate_limit_per_second=1)

    assert api.call("POST", "/v1/messages", first.sms, headers=first.headers)[0] == 202
    assert api.call("POST", "/v1/messages", first.sms, headers=first.headers)[0] == 429
    assert api.call("POST", "/v1/messages", second.sms, headers=second.headers)[0] == 202
    assert api.call("POST", "/v1/messages", first.sms, headers=first.headers)[0] == 429


def test_without_an_override_the_templates_default_of_30_applies(api: Api) -> None:
    assert api.aws.env["ACCOUNT_RATE_LIMIT_PER_SECOND"] == "30"
    default = new_account(api, rate_limit_per_second=None)
    invalid = {"channel": "sms"}  # 422 while under the limit: the limit is checked before the body

    statuses = [api.call("POST", "/v1/messages", invalid, headers=default.headers)[0] for _ in range(31)]
    assert statuses == [422] * 30 + [429]


def test_every_send_and_workflow_route_counts_and_lookups_do_not(api: Api) -> None:
    limited = new_account(api, rate_limit_per_second=5)
    routes = [
        ("/beta/messages", {}),
        ("/v0.1/messages", {}),
        ("/v1/messages", {}),
        ("/beta/workflows", WORKFLOW),
        ("/v0.1/dispatch", WORKFLOW),
    ]
    for _ in range(3):
        assert api.call("GET", "/v1/messages/00000000-0000-4000-8000-000000000000", headers=limited.headers)[0] == 404
    assert [api.call("POST", path, body, headers=limited.headers)[0] != 429 for path, body in routes] == [True] * 5
    for path, body in routes:
        assert api.call("POST", path, body, headers=limited.headers)[0] == 429, path
    assert api.call("GET", "/beta/workflows/7a4c0a5e-5c4e-4f6e-9d4c-2a1b3c4d5e6f", headers=limited.headers)[0] == 404


def test_the_limit_is_per_account_whichever_way_it_authenticates(api: Api) -> None:
    from tests.support.stores import AccountStore

    AccountStore().set_rate_limit(api.account["api_key"], 2)
    assert api.call("POST", "/v1/messages", SMS_V1)[0] == 202  # Basic
    assert api.call("POST", "/v1/messages", SMS_V1, headers={"authorization": api.jwt()})[0] == 202
    assert api.call("POST", "/v1/messages", SMS_V1, headers={"authorization": api.jwt()})[0] == 429
    assert api.call("POST", "/v1/messages", SMS_V1)[0] == 429


def test_unauthenticated_requests_get_401_and_are_not_counted(api: Api) -> None:
    limited = new_account(api, rate_limit_per_second=1)
    wrong = {"authorization": basic_auth(limited.api_key, "wrong-secret")}

    for _ in range(3):
        assert api.call("POST", "/v1/messages", limited.sms, headers=wrong)[0] == 401
    assert api.call("POST", "/v1/messages", limited.sms, headers=limited.headers)[0] == 202
