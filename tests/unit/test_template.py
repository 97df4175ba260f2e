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
