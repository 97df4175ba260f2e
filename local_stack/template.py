"""Read ``template.yaml`` and build its tables, queues and secrets against any AWS endpoint (moto).

This is what keeps the local stack and the tests from drifting from what deploys: nothing here
repeats a table key, an index, a queue setting or an environment variable by hand.

Local physical names: a resource's logical id (``MessagesTable``, ``OutboundQueue``, ...).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"
LOCAL_STACK_NAME = "switchboard-local"
LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"


class _Tag:
    def __init__(self, tag: str, value: Any) -> None:
        self.tag, self.value = tag, value

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"!{self.tag} {self.value!r}"


class _CfnLoader(yaml.SafeLoader):
    pass


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as plain dicts, short-form tags turned into their long form (``{"Ref": ...}``)."""
    with open(path, encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


@dataclass
class LocalResources:
    """Physical ids of what was created, by logical id, for resolving ``Ref`` / ``GetAtt``."""

    refs: dict[str, str] = field(default_factory=dict)
    attrs: dict[tuple[str, str], str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)  # the template's Conditions section


_NO_VALUE = object()  # AWS::NoValue: the property is removed


def evaluate_condition(expr: Any, local: LocalResources) -> bool:
    """Fn::Equals / Fn::Not / Fn::And / Fn::Or / Condition, as CloudFormation evaluates them."""
    (key, arg), = expr.items()
    if key == "Condition":
        return evaluate_condition(local.conditions[arg], local)
    if key == "Fn::Equals":
        left, right = (resolve(v, local) for v in arg)
        return str(left) == str(right)
    if key == "Fn::Not":
        return not evaluate_condition(arg[0], local)
    if key == "Fn::And":
        return all(evaluate_condition(c, local) for c in arg)
    if key == "Fn::Or":
        return any(evaluate_condition(c, local) for c in arg)
    raise ValueError(f"unsupported condition function {key}")


def resources_of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def is_included(entry: dict[str, Any], local: LocalResources) -> bool:
    """Whether a resource or output exists with these parameters (its ``Condition``, if any, holds)."""
    name = entry.get("Condition")
    return name is None or evaluate_condition({"Condition": name}, local)


def resolve(value: Any, local: LocalResources) -> Any:
    """Resolve the intrinsic functions this template uses, with local physical ids."""
    if isinstance(value, dict) and len(value) == 1:
        (key, arg), = value.items()
        if key == "Fn::If":
            name, when_true, when_false = arg
            chosen = when_true if evaluate_condition({"Condition": name}, local) else when_false
            return resolve(chosen, local)
        if key == "Ref":
            if arg == "AWS::NoValue":
                return _NO_VALUE
            if arg in local.parameters:
                return local.parameters[arg]
            if arg == "AWS::Region":
                return LOCAL_REGION
            if arg == "AWS::StackName":
                return LOCAL_STACK_NAME
            if arg == "AWS::AccountId":
                return LOCAL_ACCOUNT
            if arg == "AWS::URLSuffix":
                return "amazonaws.com"
            return local.refs.get(arg, arg)
        if key == "Fn::GetAtt":
            return local.attrs.get((arg[0], arg[1]), f"{arg[0]}.{arg[1]}")
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            extra = {} if isinstance(arg, str) else {k: resolve(v, local) for k, v in arg[1].items()}
            import re

            def sub(m: re.Match[str]) -> str:
                name = m.group(1)
                if name in extra:
                    return str(extra[name])
                if "." in name:
                    res, att = name.split(".", 1)
                    return str(resolve({"Fn::GetAtt": [res, att]}, local))
                return str(resolve({"Ref": name}, local))

            return re.sub(r"\$\{([^}!]+)\}", sub, text)
    if isinstance(value, dict):
        resolved = {k: resolve(v, local) for k, v in value.items()}
        return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
    if isinstance(value, list):
        return [v for v in (resolve(v, local) for v in value) if v is not _NO_VALUE]
    return value


def parameter_defaults(template: dict[str, Any]) -> dict[str, str]:
    return {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}


def _table_args(name: str, props: dict[str, Any]) -> dict[str, Any]:
    args: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return args


def create_resources(template: dict[str, Any], session: Any, overrides: dict[str, str] | None = None) -> LocalResources:
    """Create every DynamoDB table, SQS queue (DLQs first) and secret the template declares.

    ``session`` is a boto3 Session (its clients pick up ``AWS_ENDPOINT_URL``) or anything with ``client()``.
    ``overrides`` replaces parameter defaults.
    """
    local = LocalResources(
        parameters={**parameter_defaults(template), **(overrides or {})},
        conditions=template.get("Conditions", {}),
    )

    dynamodb = session.client("dynamodb", region_name=LOCAL_REGION)
    for logical_id, res in resources_of_type(template, "AWS::DynamoDB::Table").items():
        if not is_included(res, local):
            continue
        props = res["Properties"]
        dynamodb.create_table(**_table_args(logical_id, props))
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=logical_id, TimeToLiveSpecification=ttl)
        local.refs[logical_id] = logical_id
        local.attrs[(logical_id, "Arn")] = f"arn:aws:dynamodb:{LOCAL_REGION}:{LOCAL_ACCOUNT}:table/{logical_id}"

    sqs = session.client("sqs", region_name=LOCAL_REGION)
    queues = {k: v for k, v in resources_of_type(template, "AWS::SQS::Queue").items() if is_included(v, local)}
    # Dead-letter queues first, so redrive policies can point at them.
    ordered = sorted(queues.items(), key=lambda kv: "RedrivePolicy" in kv[1].get("Properties", {}))
    for logical_id, res in ordered:
        props = resolve(res.get("Properties", {}), local)
        attributes = {}
        for key in ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "ReceiveMessageWaitTimeSeconds"):
            if key in props:
                attributes[key] = str(props[key])
        if "RedrivePolicy" in props:
            redrive = dict(props["RedrivePolicy"])
            redrive["maxReceiveCount"] = int(redrive["maxReceiveCount"])
            attributes["RedrivePolicy"] = json.dumps(redrive)
        url = sqs.create_queue(QueueName=logical_id, Attributes=attributes)["QueueUrl"]
        local.refs[logical_id] = url
        local.attrs[(logical_id, "Arn")] = f"arn:aws:sqs:{LOCAL_REGION}:{LOCAL_ACCOUNT}:{logical_id}"
        local.attrs[(logical_id, "QueueName")] = logical_id
        local.attrs[(logical_id, "QueueUrl")] = url

    secrets = session.client("secretsmanager", region_name=LOCAL_REGION)
    for logical_id, res in resources_of_type(template, "AWS::SecretsManager::Secret").items():
        if not is_included(res, local):
            continue
        props = resolve(res.get("Properties", {}), local)
        arn = secrets.create_secret(Name=props.get("Name", logical_id), SecretString=props.get("SecretString", "{}"))["ARN"]
        local.refs[logical_id] = arn
    return local


def function_environment(template: dict[str, Any], logical_id: str, local: LocalResources) -> dict[str, str]:
    """A function's environment as Lambda would see it: Globals merged with its own, intrinsics resolved."""
    glob = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own = template["Resources"][logical_id]["Properties"].get("Environment", {}).get("Variables", {})
    return {k: str(v) for k, v in resolve({**glob, **own}, local).items()}


def outputs(template: dict[str, Any], local: LocalResources) -> dict[str, str]:
    """The template's Outputs resolved locally (what ``describe-stacks`` would print: not those whose condition fails)."""
    return {
        k: str(resolve(v["Value"], local)) for k, v in template.get("Outputs", {}).items() if is_included(v, local)
    }
