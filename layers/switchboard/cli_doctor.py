"""``switchboard doctor``: check a stack is ready to send, and say what to fix.

    switchboard doctor [--stack-name NAME [--region REGION] | --local-dir DIR] [--json]

Without ``--stack-name`` it checks the local stack (``make run``). The checks (``doctor_checks.py``):
the API answers over HTTPS; the channels secret has what each linked channel needs; the provider
webhook routes verify with the secrets the functions read (a Messenger verify handshake, a signed
SMS receipt that changes nothing); every account's and application's webhook URLs pass the SSRF
guard (the local stack's local-only allowance applies locally) and accept a TCP connection; the
dead-letter queues are empty; the alarms notify a topic with a confirmed subscription (n/a locally).

Exit status 0 only when no check fails (``n/a`` is not a failure); ``--json`` prints one document
for scripts. It reads only: nothing in the stack is changed.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import requests

from switchboard import doctor_checks
from switchboard.doctor_checks import DoctorStack, LinkedSender, WebhookOwner

DLQ_OUTPUTS = ("OutboundDLQUrl", "NotifyDLQUrl", "WorkflowEventsDLQUrl")
ACCOUNTS_TABLE_OUTPUT = "AccountsTableName"
CHANNELS_SECRET_OUTPUT = "ChannelsSecretArn"
API_URL_OUTPUT = "ApiUrl"
WEBHOOK_URL_FIELDS = ("inbound_url", "status_url")


def add_parser(commands: Any, target: argparse.ArgumentParser) -> None:
    """The ``doctor`` command, under the CLI's ``commands``; ``target`` holds the target-stack options."""
    doctor = commands.add_parser(
        "doctor", parents=[target],
        help="check the stack is ready to send and say what to fix; exit status 0 only when every check passes",
        description=(
            "Checks the API over HTTPS, the channels secret for every linked channel, the provider webhook routes, "
            "every webhook URL, the dead-letter queues and the alarm topic. Changes nothing."
        ),
    )
    doctor.add_argument("--json", action="store_true", help="print the results as one JSON document")


class StackNotReadable(ValueError):
    """The stack cannot be checked at all (not found, not a Switchboard stack); one error line."""


def run(args: argparse.Namespace, stack: DoctorStack) -> int:
    """Run every check, print the results; 0 when none failed, else 1."""
    checks = doctor_checks.run_checks(stack)
    failed = doctor_checks.failed(checks)
    if args.json:
        print(json.dumps(
            {"target": stack.description, "ok": not failed, "checks": [check.to_dict() for check in checks]}, indent=2
        ))
    else:
        print(render(stack.description, checks))
    return 1 if failed else 0


def render(description: str, checks: list[doctor_checks.Check]) -> str:
    width = max(len(check.name) for check in checks)
    lines = [f"switchboard doctor: {description}"]
    for check in checks:
        label = "FAIL" if check.status == doctor_checks.FAIL else check.status
        lines.append(f"  {label:<4}  {check.name:<{width}}  {check.summary}")
        lines += [f"        fix: {fix}" for fix in check.fixes]
    failed = doctor_checks.failed(checks)
    lines.append(f"{len(failed)} check(s) failed" if failed else "every check passed")
    return "\n".join(lines)


# -- reading a stack -----------------------------------------------------------------------------


def local_stack(target: Any) -> DoctorStack:
    """The local stack ``target`` (``cli.local_target``) names; the AWS SDK already points at it."""
    from switchboard.adapters import aws_clients

    stack_info = _read_json(target.local_dir / "stack.json")
    outputs = _read_json(target.local_dir / "outputs.json")
    https_host = stack_info.get("https_api_host")
    http = requests.Session()
    http.trust_env = False  # the local stack is on this machine: no proxy
    return DoctorStack(
        description=f"local stack in {target.local_dir}",
        api_https_url=f"https://{https_host}" if https_host else None,
        tls_verify=str(stack_info["tls_cert_path"]) if stack_info.get("tls_cert_path") else True,
        channels=_channels(aws_clients.client("secretsmanager"), target.channels_secret_id),
        **_accounts_table(aws_clients.client("dynamodb"), target.accounts_table),
        allowed_private_webhook_hosts=target.allowed_private_webhook_hosts,
        dead_letter_queues={name: outputs[name] for name in DLQ_OUTPUTS if outputs.get(name)},
        sqs=aws_clients.client("sqs"),
        alarm_topic_arn=None,
        http=http,
    )


def deployed_stack(stack_name: str, region: str | None) -> DoctorStack:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.session.Session(region_name=region)
    try:
        stacks = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        raise StackNotReadable(f"stack {stack_name}: {exc.response.get('Error', {}).get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise StackNotReadable(f"cannot describe stack {stack_name}: {exc}") from None
    described = stacks[0] if stacks else {}
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs") or []}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in described.get("Parameters") or []}
    table = outputs.get(ACCOUNTS_TABLE_OUTPUT)
    if not table:
        raise StackNotReadable(f"stack {stack_name} has no {ACCOUNTS_TABLE_OUTPUT} output; is it a Switchboard stack?")
    return DoctorStack(
        description=f"stack {stack_name}",
        api_https_url=(outputs.get(API_URL_OUTPUT) or "").rstrip("/") or None,
        tls_verify=True,
        channels=_channels(session.client("secretsmanager"), outputs.get(CHANNELS_SECRET_OUTPUT)),
        **_accounts_table(session.client("dynamodb"), table),
        allowed_private_webhook_hosts=tuple(
            host.strip() for host in parameters.get("AllowedPrivateWebhookHosts", "").split(",") if host.strip()
        ),
        dead_letter_queues={name: outputs[name] for name in DLQ_OUTPUTS if outputs.get(name)},
        sqs=session.client("sqs"),
        alarm_topic_arn=parameters.get("AlarmTopicArn", ""),
        sns=session.client("sns"),
        allow_unsigned_sms_webhooks=parameters.get("AllowUnsignedSmsWebhooks", "false") == "true",
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StackNotReadable(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise StackNotReadable(f"{path} is not a JSON object")
    return data


def _channels(secretsmanager: Any, secret_id: str | None) -> dict[str, Any]:
    if not secret_id:
        raise StackNotReadable("the stack has no ChannelsSecretArn output")
    value = json.loads(secretsmanager.get_secret_value(SecretId=secret_id)["SecretString"])
    if not isinstance(value, dict):
        raise StackNotReadable(f"the channels secret {secret_id} is not a JSON object (layout: docs/configuration.md)")
    return value


def _accounts_table(dynamodb: Any, table: str) -> dict[str, Any]:
    """The links and the webhook URLs of every account and application: one scan of the AccountsTable."""
    links: list[LinkedSender] = []
    owners: list[WebhookOwner] = []
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table,
        FilterExpression="#kind IN (:account, :application, :link)",
        ExpressionAttributeNames={"#kind": "kind"},
        ExpressionAttributeValues={":account": {"S": "account"}, ":application": {"S": "application"}, ":link": {"S": "link"}},
    )
    for page in pages:
        for item in page.get("Items", []):
            values = {name: value["S"] for name, value in item.items() if "S" in value}
            kind = values.get("kind")
            if kind == "link":
                links.append(LinkedSender(values["channel"], values["address"], values["api_key"]))
            elif kind in ("account", "application"):
                ident = values.get("api_key" if kind == "account" else "application_id", "?")
                urls = {name: values[name] for name in WEBHOOK_URL_FIELDS if values.get(name)}
                owners.append(WebhookOwner(kind, ident, urls))
    owners.sort(key=lambda owner: (owner.kind, owner.ident))
    links.sort(key=lambda link: (link.channel, link.address))
    return {"links": links, "webhook_owners": owners}
