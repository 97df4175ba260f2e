"""The SAM template: lint (raw and translated to CloudFormation) and the deployment rules we hold it to."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import TEMPLATE_PATH, load_template, resources_of_type

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _lint(path: Path) -> list[str]:
    from cfnlint.api import lint_all

    return [str(m) for m in lint_all(path.read_text()) if m.rule.id[0] in "EW"]


def test_cfn_lint_passes_on_the_sam_template() -> None:
    assert _lint(TEMPLATE_PATH) == []


class _NoManagedPolicies:
    """Offline stand-in for IAM's managed policy listing (the template references none by name)."""

    def load(self) -> dict[str, str]:
        return {}


def translate(template: dict[str, Any]) -> dict[str, Any]:
    """SAM to CloudFormation offline, with local code paths replaced by S3 URIs as ``sam package`` does."""
    from samtranslator.translator.transform import transform

    packaged = copy.deepcopy(template)
    for name, res in packaged["Resources"].items():
        for key in ("CodeUri", "ContentUri"):
            if key in res.get("Properties", {}):
                res["Properties"][key] = f"s3://deployment-bucket/{name}.zip"
    return transform(packaged, {}, _NoManagedPolicies())


def test_cfn_lint_passes_on_the_translated_template(template: dict[str, Any], tmp_path: Path) -> None:
    translated = translate(template)
    out = tmp_path / "translated.json"
    out.write_text(json.dumps(translated))
    assert _lint(out) == []


def test_the_template_uses_no_yaml_anchors_or_aliases() -> None:
    import yaml

    # CloudFormation's YAML parser refuses them, although PyYAML, cfn-lint and SAM accept them.
    events = list(yaml.parse(TEMPLATE_PATH.read_text(encoding="utf-8")))
    assert not any(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None) for e in events)


def test_functions_are_python311_on_arm64(template: dict[str, Any]) -> None:
    glob = template["Globals"]["Function"]
    assert glob["Runtime"] == "python3.11"
    assert glob["Architectures"] == ["arm64"]
    assert glob["Tracing"] == "Active"
    for name, fn in resources_of_type(template, "AWS::Serverless::Function").items():
        props = fn["Properties"]
        assert props.get("Runtime", glob["Runtime"]) == "python3.11", name
        assert (ROOT / props["CodeUri"] / "app.py").is_file(), name


def test_http_api_uses_the_default_stage(template: dict[str, Any]) -> None:
    (api,) = resources_of_type(template, "AWS::Serverless::HttpApi").values()
    assert "StageName" not in api.get("Properties", {})  # SAM then deploys the $default stage


def _consumer_timeouts(template: dict[str, Any]) -> dict[str, int]:
    default = template["Globals"]["Function"]["Timeout"]
    out = {}
    for fn in resources_of_type(template, "AWS::Serverless::Function").values():
        for event in fn["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                out[queue] = fn["Properties"].get("Timeout", default)
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    return out


def test_queues_are_encrypted_redriven_and_outlast_their_consumers(template: dict[str, Any]) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    consumers = _consumer_timeouts(template)
    dlqs = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    for name, queue in queues.items():
        props = queue["Properties"]
        assert props.get("SqsManagedSseEnabled") is True or "KmsMasterKeyId" in props, name
        if name in dlqs:
            continue
        max_receive = props["RedrivePolicy"]["maxReceiveCount"]
        if isinstance(max_receive, dict):
            parameter = template["Parameters"][max_receive["Ref"]]
            assert parameter["MinValue"] >= 5, name
            max_receive = parameter["Default"]
        assert max_receive >= 5, name
        assert name in consumers, f"{name} has no consumer"
        assert props["VisibilityTimeout"] >= 6 * consumers[name], name


def test_every_dead_letter_queue_has_a_depth_alarm(template: dict[str, Any]) -> None:
    queues = resources_of_type(template, "AWS::SQS::Queue")
    dlqs = {q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0] for q in queues.values() if "RedrivePolicy" in q["Properties"]}
    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for a in resources_of_type(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    }
    assert dlqs and dlqs <= alarmed


def test_tables_are_on_demand_encrypted_recoverable_with_ttl(template: dict[str, Any]) -> None:
    for name, table in resources_of_type(template, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert props["TimeToLiveSpecification"]["Enabled"] is True, name


def test_policies_are_least_privilege(template: dict[str, Any]) -> None:
    for name, fn in resources_of_type(template, "AWS::Serverless::Function").items():
        for policy in fn["Properties"].get("Policies", []):
            assert isinstance(policy, dict) and "Statement" in policy, f"{name}: only inline statements"
            for statement in policy["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in action for action in actions), (name, actions)
                assert statement["Resource"] != "*", name


def test_outputs_name_the_api_tables_and_queues(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert "ApiUrl" in outputs
    for name in resources_of_type(template, "AWS::DynamoDB::Table"):
        assert f"{name}Name" in outputs
    for name in resources_of_type(template, "AWS::SQS::Queue"):
        assert f"{name}Url" in outputs


def test_every_function_has_a_sample_event(template: dict[str, Any]) -> None:
    events = {p.name for p in (ROOT / "events").glob("*.json")}
    for name, fn in resources_of_type(template, "AWS::Serverless::Function").items():
        prefix = Path(fn["Properties"]["CodeUri"]).name + "_"
        assert any(e.startswith(prefix) for e in events), f"no events/{prefix}*.json for {name}"


def _parameter_default(template: dict[str, Any], value: Any) -> Any:
    """``value``, or the default of the parameter it refers to."""
    if isinstance(value, dict) and set(value) == {"Ref"}:
        return template["Parameters"][value["Ref"]]["Default"]
    return value


def test_every_log_group_keeps_logs_for_the_retention_parameter(template: dict[str, Any]) -> None:
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30
    groups = resources_of_type(template, "AWS::Logs::LogGroup")
    assert groups
    for name, group in groups.items():
        assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, name


def test_every_function_has_its_own_log_group(template: dict[str, Any]) -> None:
    names = {
        json.dumps(group["Properties"]["LogGroupName"], sort_keys=True)
        for group in resources_of_type(template, "AWS::Logs::LogGroup").values()
    }
    for function in resources_of_type(template, "AWS::Serverless::Function"):
        expected = {"Fn::Sub": "/aws/lambda/${" + function + "}"}
        assert json.dumps(expected, sort_keys=True) in names, function


def test_http_api_access_logs_are_json_lines_without_credentials(template: dict[str, Any]) -> None:
    (api,) = resources_of_type(template, "AWS::Serverless::HttpApi").values()
    settings = api["Properties"]["AccessLogSettings"]
    (target, _) = settings["DestinationArn"]["Fn::GetAtt"]
    assert template["Resources"][target]["Type"] == "AWS::Logs::LogGroup"
    line = json.loads(settings["Format"])  # every value is a quoted $context variable: valid JSON as written
    assert line["requestId"] == "$context.requestId"
    assert line["ip"] == "$context.identity.sourceIp"
    assert line["routeKey"] == "$context.routeKey"
    assert line["status"] == "$context.status"
    assert line["latency"] == "$context.responseLatency"
    logged = settings["Format"].lower()
    assert "authorization" not in logged and "header" not in logged and "querystring" not in logged


def _webhook_route_keys(template: dict[str, Any]) -> set[str]:
    events = template["Resources"]["WebhooksFunction"]["Properties"]["Events"].values()
    return {f"{e['Properties']['Method'].upper()} {e['Properties']['Path']}" for e in events if e["Type"] == "HttpApi"}


def test_provider_webhook_routes_have_their_own_throttle(template: dict[str, Any]) -> None:
    (api,) = resources_of_type(template, "AWS::Serverless::HttpApi").values()
    props = api["Properties"]
    route_settings = props["RouteSettings"]
    webhook_routes = _webhook_route_keys(template)
    assert webhook_routes and all(" /webhooks/" in key for key in webhook_routes)
    assert set(route_settings) == webhook_routes  # the customer routes keep the default throttle
    for key in webhook_routes:
        assert route_settings[key]["ThrottlingRateLimit"] == {"Ref": "WebhookThrottlingRateLimit"}, key
        assert route_settings[key]["ThrottlingBurstLimit"] == {"Ref": "WebhookThrottlingBurstLimit"}, key
    assert _parameter_default(template, route_settings[key]["ThrottlingRateLimit"]) > 0
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0


def test_every_sqs_event_source_has_a_maximum_concurrency(template: dict[str, Any]) -> None:
    sources = [
        (name, event["Properties"])
        for name, fn in resources_of_type(template, "AWS::Serverless::Function").items()
        for event in fn["Properties"].get("Events", {}).values()
        if event["Type"] == "SQS"
    ]
    assert sources
    for name, props in sources:
        maximum = _parameter_default(template, props["ScalingConfig"]["MaximumConcurrency"])
        assert 2 <= maximum <= 1000, name  # Lambda's bounds for MaximumConcurrency


def test_the_api_counts_requests_per_account_in_its_own_table(template: dict[str, Any]) -> None:
    assert template["Parameters"]["AccountRateLimitPerSecond"]["Default"] == 30
    api = template["Resources"]["ApiFunction"]["Properties"]
    variables = api["Environment"]["Variables"]
    assert variables["RATE_LIMIT_TABLE"] == {"Ref": "RateLimitTable"}
    assert variables["ACCOUNT_RATE_LIMIT_PER_SECOND"] == {"Ref": "AccountRateLimitPerSecond"}
    grants = [
        s for p in api["Policies"] for s in p["Statement"] if s["Resource"] == {"Fn::GetAtt": ["RateLimitTable", "Arn"]}
    ]
    assert [g["Action"] for g in grants] == [["dynamodb:UpdateItem"]]  # one write per request, nothing else
    for name, fn in resources_of_type(template, "AWS::Serverless::Function").items():
        if name != "ApiFunction":
            assert "RateLimitTable" not in json.dumps(fn["Properties"].get("Policies", [])), name
