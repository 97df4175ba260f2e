"""The SAM template: lint (raw and translated to CloudFormation) and the deployment rules we hold it to."""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import (
    TEMPLATE_PATH,
    LocalResources,
    evaluate_condition,
    load_template,
    outputs,
    parameter_defaults,
    resources_of_type,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def declared(template: dict[str, Any], kind: str) -> dict[str, Any]:
    """The template's resources of ``kind``; there must be some, or a loop over them checks nothing."""
    resources = resources_of_type(template, kind)
    assert resources, f"the template declares no {kind}"
    return resources


def _lint(path: Path, ignored: tuple[str, ...] = ()) -> list[str]:
    from cfnlint.api import lint_all

    return [str(m) for m in lint_all(path.read_text()) if m.rule.id[0] in "EW" and m.rule.id not in ignored]


def test_cfn_lint_passes_on_the_sam_template() -> None:
    assert _lint(TEMPLATE_PATH) == []


class _NoManagedPolicies:
    """Offline stand-in for IAM's managed policy listing (the template references none by name)."""

    def load(self) -> dict[str, str]:
        return {}


def _resolve_policy_parameters(template: dict[str, Any]) -> None:
    """What the AWS::LanguageExtensions transform does first: parameters in DeletionPolicy/UpdateReplacePolicy."""
    defaults = parameter_defaults(template)
    for resource in template["Resources"].values():
        for key in ("DeletionPolicy", "UpdateReplacePolicy"):
            if isinstance(resource.get(key), dict):
                resource[key] = defaults[resource[key]["Ref"]]


def translate(template: dict[str, Any]) -> dict[str, Any]:
    """SAM to CloudFormation offline, with local code paths replaced by S3 URIs as ``sam package`` does."""
    from samtranslator.translator.transform import transform

    packaged = copy.deepcopy(template)
    _resolve_policy_parameters(packaged)
    for name, res in packaged["Resources"].items():
        for key in ("CodeUri", "ContentUri"):
            if key in res.get("Properties", {}):
                res["Properties"][key] = f"s3://deployment-bucket/{name}.zip"
    return transform(packaged, {}, _NoManagedPolicies())


@pytest.fixture(scope="module")
def translated(template: dict[str, Any]) -> dict[str, Any]:
    return translate(template)


def test_cfn_lint_passes_on_the_translated_template(translated: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "translated.json"
    out.write_text(json.dumps(translated))
    # W2001 (unused parameter): DataDeletionPolicy is consumed by the LanguageExtensions step, as in CloudFormation.
    assert _lint(out, ignored=("W2001",)) == []


def test_the_template_uses_no_yaml_anchors_or_aliases() -> None:
    import yaml

    # CloudFormation's YAML parser refuses them, although PyYAML, cfn-lint and SAM accept them.
    events = list(yaml.parse(TEMPLATE_PATH.read_text(encoding="utf-8")))
    assert not any(isinstance(e, yaml.AliasEvent) or getattr(e, "anchor", None) for e in events)


def test_functions_are_python311_with_tracing(template: dict[str, Any]) -> None:
    glob = template["Globals"]["Function"]
    assert glob["Runtime"] == "python3.11"
    assert glob["Tracing"] == "Active"
    for name, fn in declared(template, "AWS::Serverless::Function").items():
        props = fn["Properties"]
        assert props.get("Runtime", glob["Runtime"]) == "python3.11", name
        assert (ROOT / props["CodeUri"] / "app.py").is_file(), name


def test_one_architecture_parameter_sets_the_functions_and_the_layers_build(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["Architecture"]
    assert parameter["Default"] == "arm64" and set(parameter["AllowedValues"]) == {"arm64", "x86_64"}
    chosen = [{"Ref": "Architecture"}]
    assert template["Globals"]["Function"]["Architectures"] == chosen
    for name, fn in declared(template, "AWS::Serverless::Function").items():
        assert "Architectures" not in fn["Properties"], f"{name} must follow the Architecture parameter"
    for name, layer in declared(template, "AWS::Serverless::LayerVersion").items():
        assert layer["Properties"]["CompatibleArchitectures"] == chosen, name
        # sam build resolves a parameter here (from --parameter-overrides) and cross-builds the wheels for it.
        assert layer["Metadata"]["BuildArchitecture"] == chosen[0], name


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_the_architecture_parameter_resolves_for_every_function(template: dict[str, Any], architecture: str) -> None:
    from bench.template_functions import function_specs

    local = LocalResources(
        parameters={**parameter_defaults(template), "Architecture": architecture},
        conditions=template["Conditions"],
    )
    assert {spec.architecture for spec in function_specs(template, local).values()} == {architecture}


def test_http_api_uses_the_default_stage(template: dict[str, Any]) -> None:
    (api,) = resources_of_type(template, "AWS::Serverless::HttpApi").values()
    assert "StageName" not in api.get("Properties", {})  # SAM then deploys the $default stage


def _consumer_timeouts(template: dict[str, Any]) -> dict[str, int]:
    default = template["Globals"]["Function"]["Timeout"]
    out = {}
    for fn in declared(template, "AWS::Serverless::Function").values():
        for event in fn["Properties"].get("Events", {}).values():
            if event["Type"] == "SQS":
                queue = event["Properties"]["Queue"]["Fn::GetAtt"][0]
                out[queue] = fn["Properties"].get("Timeout", default)
                assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    return out


def test_queues_are_encrypted_redriven_and_outlast_their_consumers(template: dict[str, Any]) -> None:
    queues = declared(template, "AWS::SQS::Queue")
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
        for a in declared(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
    }
    assert dlqs and dlqs <= alarmed


def test_tables_are_on_demand_encrypted_recoverable_with_ttl(template: dict[str, Any]) -> None:
    for name, table in declared(template, "AWS::DynamoDB::Table").items():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST", name
        assert props["SSESpecification"]["SSEEnabled"] is True, name
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True, name
        assert props["TimeToLiveSpecification"]["Enabled"] is True, name


def test_policies_are_least_privilege(template: dict[str, Any]) -> None:
    for name, fn in declared(template, "AWS::Serverless::Function").items():
        assert fn["Properties"]["Policies"], f"{name} has no policy of its own"
        for policy in fn["Properties"]["Policies"]:
            assert isinstance(policy, dict) and "Statement" in policy, f"{name}: only inline statements"
            assert policy["Statement"], name
            for statement in policy["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                assert all("*" not in action for action in actions), (name, actions)
                assert statement["Resource"] != "*", name


def test_outputs_name_the_api_tables_and_queues(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert "ApiUrl" in outputs
    for name in declared(template, "AWS::DynamoDB::Table"):
        assert f"{name}Name" in outputs
    for name in declared(template, "AWS::SQS::Queue"):
        assert f"{name}Url" in outputs


def test_every_function_has_a_sample_event(template: dict[str, Any]) -> None:
    events = {p.name for p in (ROOT / "events").glob("*.json")}
    for name, fn in declared(template, "AWS::Serverless::Function").items():
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
        for group in declared(template, "AWS::Logs::LogGroup").values()
    }
    for function in declared(template, "AWS::Serverless::Function"):
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
        for name, fn in declared(template, "AWS::Serverless::Function").items()
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
    for name, fn in declared(template, "AWS::Serverless::Function").items():
        if name != "ApiFunction":
            assert "RateLimitTable" not in json.dumps(fn["Properties"].get("Policies", [])), name


# ---------------------------------------------------------------------------- custom domain


def _local(template: dict[str, Any], **parameters: str) -> LocalResources:
    return LocalResources(
        refs={"HttpApi": "abc123"},
        parameters={**parameter_defaults(template), **parameters},
        conditions=template["Conditions"],
    )


CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"


def test_the_custom_domain_maps_the_whole_api_at_its_root(
    template: dict[str, Any], translated: dict[str, Any]
) -> None:
    domain = template["Resources"]["ApiDomain"]
    mapping = template["Resources"]["ApiDomainMapping"]
    assert domain["Type"] == "AWS::ApiGatewayV2::DomainName"
    assert mapping["Type"] == "AWS::ApiGatewayV2::ApiMapping"
    assert domain["Condition"] == mapping["Condition"] == "HasCustomDomain"
    (configuration,) = domain["Properties"]["DomainNameConfigurations"]
    assert configuration == {"CertificateArn": {"Ref": "CertificateArn"}, "EndpointType": "REGIONAL",
                             "SecurityPolicy": "TLS_1_2"}  # fmt: skip
    assert mapping["Properties"]["ApiId"] == {"Ref": "HttpApi"}
    assert "ApiMappingKey" not in mapping["Properties"]  # no path prefix: /v1/messages stays /v1/messages
    resources = translated["Resources"]
    stage = resources[resources["ApiDomainMapping"]["Properties"]["Stage"]["Ref"]]
    assert stage["Type"] == "AWS::ApiGatewayV2::Stage" and stage["Properties"]["StageName"] == "$default"


@pytest.mark.parametrize(
    ("parameters", "has_domain"),
    [
        ({}, False),
        ({"DomainName": "messages.example.com", "CertificateArn": CERTIFICATE}, True),
        ({"DomainName": "messages.example.com"}, False),  # refused by the rule below instead
        ({"CertificateArn": CERTIFICATE}, False),
    ],
)
def test_the_custom_domain_exists_only_with_a_name_and_a_certificate(
    template: dict[str, Any], parameters: dict[str, str], has_domain: bool
) -> None:
    assert evaluate_condition({"Condition": "HasCustomDomain"}, _local(template, **parameters)) is has_domain


def _rule_violations(template: dict[str, Any], local: LocalResources) -> list[str]:
    violated = []
    for name, rule in template.get("Rules", {}).items():
        if "RuleCondition" in rule and not evaluate_condition(rule["RuleCondition"], local):
            continue
        violated += [name for a in rule["Assertions"] if not evaluate_condition(a["Assert"], local)]
    return violated


def test_a_domain_name_without_a_certificate_is_refused_before_anything_is_deployed(template: dict[str, Any]) -> None:
    assert _rule_violations(template, _local(template)) == []
    assert _rule_violations(template, _local(template, DomainName="m.example.com", CertificateArn=CERTIFICATE)) == []
    assert _rule_violations(template, _local(template, DomainName="m.example.com")) == ["CustomDomainNeedsCertificate"]


def test_sdks_get_the_custom_domain_as_api_host_when_one_is_set(template: dict[str, Any]) -> None:
    default = outputs(template, _local(template))
    assert default["ApiHost"] == "abc123.execute-api.us-east-1.amazonaws.com"
    assert default["ApiUrl"] == "https://abc123.execute-api.us-east-1.amazonaws.com"
    assert "ApiDomainTarget" not in default  # a conditional output exists only with its condition

    custom = outputs(template, _local(template, DomainName="messages.example.com", CertificateArn=CERTIFICATE))
    assert custom["ApiHost"] == "messages.example.com"
    assert custom["ApiUrl"] == "https://messages.example.com"
    assert custom["ExecuteApiHost"] == default["ApiHost"]
    assert {"ApiDomainTarget", "ApiDomainHostedZoneId"} <= set(custom)


# ---------------------------------------------------------------------------- what survives a delete


def test_tables_and_the_channels_secret_are_retained_unless_the_operator_opts_out(template: dict[str, Any]) -> None:
    parameter = template["Parameters"]["DataDeletionPolicy"]
    assert parameter["Default"] == "Retain" and set(parameter["AllowedValues"]) == {"Retain", "Delete"}
    # A parameter in these attributes needs the LanguageExtensions transform, applied before SAM's.
    assert template["Transform"] == ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]
    stateful = {
        **resources_of_type(template, "AWS::DynamoDB::Table"),
        **resources_of_type(template, "AWS::SecretsManager::Secret"),
    }
    assert "ChannelsSecret" in stateful and "MessagesTable" in stateful
    for name, resource in stateful.items():
        assert resource.get("DeletionPolicy") == {"Ref": "DataDeletionPolicy"}, name
        assert resource.get("UpdateReplacePolicy") == {"Ref": "DataDeletionPolicy"}, name


def test_the_translated_template_carries_the_resolved_policies(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    assert resources["MessagesTable"]["DeletionPolicy"] == "Retain"
    assert resources["ChannelsSecret"]["UpdateReplacePolicy"] == "Retain"
    assert "DeletionPolicy" not in resources["OutboundQueue"]  # queues hold messages in flight only


def _overrides(text: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in text.split())


def test_samconfig_builds_the_layer_for_the_architecture_it_deploys(template: dict[str, Any]) -> None:
    import tomllib

    config = tomllib.loads((ROOT / "samconfig.toml").read_text())["default"]
    built = _overrides(config["build"]["parameters"]["parameter_overrides"])
    deployed = _overrides(config["deploy"]["parameters"]["parameter_overrides"])
    assert built["Architecture"] == deployed["Architecture"] == template["Parameters"]["Architecture"]["Default"]
    assert set(deployed) <= set(template["Parameters"])
