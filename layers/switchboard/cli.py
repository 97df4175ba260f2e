"""``switchboard``: create accounts and applications, change their credentials, link channels to
them, and generate JWTs.

Over 350 lines on purpose: the argument parser of every command with its dispatch, kept in one place so `--help` and the code read together; the work itself is in `provisioning.py`.

    switchboard accounts create [--inbound-url URL] [--status-url URL]
    switchboard accounts set-rate-limit --api-key KEY (--per-second N | --default)
    switchboard accounts set-webhook-version --api-key KEY --webhook-version v0.1|v1|default
    switchboard links list --api-key KEY
    switchboard accounts rotate-secret --api-key KEY --grace-seconds N
    switchboard accounts rotate-signature-secret --api-key KEY [--effective-at ISO8601]
    switchboard accounts disable|enable --api-key KEY
    switchboard apps create --api-key KEY --name NAME [--inbound-url URL] [--status-url URL] [--private-key-out FILE]
                            [--webhook-version v0.1|v1]
    switchboard apps update --application-id ID [--inbound-url URL|default] [--status-url URL|default]
                            [--webhook-version v0.1|v1|default]
    switchboard apps keys --application-id ID
    switchboard apps add-key --application-id ID [--private-key-out FILE]
    switchboard apps remove-key --application-id ID --key-id KEY_ID
    switchboard links create --api-key KEY --channel CHANNEL --address ADDRESS [--application-id ID]
    switchboard links delete --channel CHANNEL --address ADDRESS [--api-key KEY]
    switchboard jwt generate --application-id ID --private-key FILE [--ttl SECONDS]
    switchboard local add-sender --api-key KEY --channel CHANNEL [--address ID] [--application-id ID]
    switchboard dlq list|redrive [--queue NAME] [--max N] [--json]   (cli_dlq.py)
    switchboard doctor [--stack-name NAME] [--json]   (cli_doctor.py)

``accounts``, ``apps``, ``links`` and ``local`` target the local stack by default (``.local/stack.json``
and ``.local/outputs.json``, written by ``make run``); all but ``local`` target a deployed stack with
``--stack-name``.

Webhook URLs go through the same SSRF guard as the API's. Against the local stack the stack's own
local-only allowance applies too (``allowed_private_webhook_hosts`` in ``stack.json``: its webhook sink
and ``localhost`` on any port), and a host that does not resolve from this machine (offline) is
accepted with a warning: only the local notifier would call it, and it checks again before each
delivery. A deployed stack gets neither.

Private keys of new applications go to ``--private-key-out``, else to ``<state dir>/keys/`` for the
local stack or ``~/.config/switchboard/keys/<stack>/`` (``$XDG_CONFIG_HOME``) for a deployed one,
created with mode 0600: never into the current directory unasked.

A link says which account (and optionally which of its applications) owns a Messenger page id, a
Viber service id, an SMS number or an alphanumeric SMS sender id: only that account may send from
it, and inbound messages to it go to that owner's inbound URL. This is an operator's tool: unlike
the API, it names the account that owns an address already linked.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

PROG = "switchboard"
DEFAULT_LOCAL_DIR = ".local"
ACCOUNTS_TABLE_OUTPUT = "AccountsTableName"
CHANNELS_SECRET_OUTPUT = "ChannelsSecretArn"
ALLOWED_HOSTS_VARIABLE = "ALLOWED_PRIVATE_WEBHOOK_HOSTS"  # read by switchboard.provisioning
KEYS_DIR = "keys"  # under the local stack's state directory
LOCAL_REGION = "us-east-1"  # local_stack.template.LOCAL_REGION
LINK_CHANNELS = ("messenger", "viber_service_msg", "sms", "whatsapp")  # switchboard.domain.message.Channel values
WEBHOOK_VERSIONS = ("v0.1", "v1")  # switchboard.domain.webhook_bodies.WEBHOOK_VERSIONS
DEFAULT_SETTING = "default"  # switchboard.provisioning.DEFAULT: remove a setting
WEBHOOK_VERSION_HELP = (
    "the shape of customer webhooks: v0.1 (2018 nested bodies) or v1 (flat bodies); docs/webhooks.md has the rule"
)
_SOURCE_ROOT = Path(__file__).resolve().parents[2]  # the repository, when run from the source tree
_LOCAL_HINT = "run `make run` to start the local stack, or pass --stack-name for a deployed stack"


class CliError(Exception):
    """A problem to report as one ``switchboard: error: ...`` line."""


class UsageError(CliError):
    """Bad command-line arguments (exit status 2, as argparse uses)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


@dataclass(frozen=True)
class Target:
    accounts_table: str
    endpoint_url: str | None  # None: whatever the AWS SDK would use anyway
    local_dir: Path | None = None  # the local stack's state directory; None for a deployed stack
    # The local stack's local-only webhook allowance (stack.json); never set for a deployed stack.
    allowed_private_webhook_hosts: tuple[str, ...] = field(default_factory=tuple)
    channels_secret_id: str | None = None
    stack_name: str | None = None


# -- command line ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Manage Switchboard accounts, applications and channel links.")
    commands = parser.add_subparsers(
        dest="group", required=True, metavar="{accounts,apps,links,jwt,local,dlq,doctor}", parser_class=_Parser
    )

    target = _Parser(add_help=False)
    where = target.add_argument_group("target stack")
    where.add_argument(
        "--local-dir", default=DEFAULT_LOCAL_DIR, metavar="DIR",
        help="the local stack's state directory (default: .local in the current directory or the repository)",
    )
    where.add_argument("--stack-name", metavar="NAME", help="a deployed stack (uses your AWS credentials)")
    where.add_argument("--region", metavar="REGION", help="the deployed stack's region")

    webhooks = _Parser(add_help=False)
    urls = webhooks.add_argument_group(
        "webhooks",
        "public http(s) URLs; against the local stack also its webhook sink and http://localhost:<port>/... "
        "(the stack's local-only allowance, in stack.json), and a host that does not resolve offline",
    )
    urls.add_argument("--inbound-url", metavar="URL", help="webhook for inbound messages")
    urls.add_argument("--status-url", metavar="URL", help="webhook for message status updates")

    account_key = _Parser(add_help=False)
    account_key.add_argument("--api-key", required=True, metavar="KEY", help="the account")

    accounts = commands.add_parser("accounts", help="accounts (API key and secret)")
    accounts_cmds = accounts.add_subparsers(
        dest="command", required=True,
        metavar="{create,set-rate-limit,set-webhook-version,rotate-secret,rotate-signature-secret,disable,enable}",
        parser_class=_Parser,
    )
    accounts_cmds.add_parser(
        "create", parents=[target, webhooks], help="create an account; prints its credentials as JSON"
    )
    rate_limit = accounts_cmds.add_parser(
        "set-rate-limit", parents=[target],
        help="set the requests per second an account may make on the send and workflow routes; prints JSON",
    )
    rate_limit.add_argument("--api-key", required=True, metavar="KEY", help="the account")
    limit = rate_limit.add_mutually_exclusive_group(required=True)
    limit.add_argument("--per-second", type=int, metavar="N", help="the account's own limit (1..1000000)")
    limit.add_argument(
        "--default", action="store_true", help="remove the account's own limit: the deployment's default applies"
    )
    account_version = accounts_cmds.add_parser(
        "set-webhook-version", parents=[target, account_key],
        help="choose the webhook shape for the account's Basic-auth traffic; prints JSON",
    )
    account_version.add_argument(
        "--webhook-version", required=True, choices=(*WEBHOOK_VERSIONS, DEFAULT_SETTING),
        help=WEBHOOK_VERSION_HELP + "; default removes the choice",
    )
    rotate_secret = accounts_cmds.add_parser(
        "rotate-secret", parents=[target, account_key],
        help="give the account a new API secret (printed once); the old one works for a grace period",
    )
    rotate_secret.add_argument(
        "--grace-seconds", required=True, type=int, metavar="N",
        help="seconds the old secret keeps working (0: it stops now; at most 30 days)",
    )
    rotate_signature = accounts_cmds.add_parser(
        "rotate-signature-secret", parents=[target, account_key],
        help="a new webhook signature secret, signing from --effective-at (default: now)",
    )
    rotate_signature.add_argument(
        "--effective-at", metavar="ISO8601",
        help="when webhooks start being signed with the new secret, e.g. 2026-12-01T09:00:00Z (default: now)",
    )
    accounts_cmds.add_parser(
        "disable", parents=[target, account_key], help="refuse every request of the account and its applications"
    )
    accounts_cmds.add_parser("enable", parents=[target, account_key], help="accept a disabled account's requests again")

    application = _Parser(add_help=False)
    application.add_argument("--application-id", required=True, metavar="ID")

    apps = commands.add_parser("apps", help="applications (JWT authentication)")
    apps_cmds = apps.add_subparsers(
        dest="command", required=True, metavar="{create,update,keys,add-key,remove-key}", parser_class=_Parser
    )
    apps_create = apps_cmds.add_parser("create", parents=[target, webhooks],
                                       help="create an application and its key pair; prints JSON")
    apps_create.add_argument("--api-key", required=True, metavar="KEY", help="the owning account")
    apps_create.add_argument("--name", required=True, metavar="NAME")
    apps_create.add_argument(
        "--private-key-out", metavar="FILE",
        help="where to write the private key (mode 0600; default: <state dir>/keys/<application_id>.key for the "
        "local stack, ~/.config/switchboard/keys/<stack>/<application_id>.key for a deployed one)",
    )
    apps_create.add_argument("--webhook-version", choices=WEBHOOK_VERSIONS, help=WEBHOOK_VERSION_HELP)
    apps_update = apps_cmds.add_parser(
        "update", parents=[target, application], help="change an application's webhook URLs or version; prints JSON"
    )
    apps_update.add_argument("--inbound-url", metavar="URL", help="webhook for inbound messages; default: the account's")
    apps_update.add_argument("--status-url", metavar="URL", help="webhook for status updates; default: the account's")
    apps_update.add_argument(
        "--webhook-version", choices=(*WEBHOOK_VERSIONS, DEFAULT_SETTING),
        help=WEBHOOK_VERSION_HELP + "; default removes the choice",
    )
    apps_cmds.add_parser("keys", parents=[target, application], help="list the ids of the application's public keys")
    add_key = apps_cmds.add_parser(
        "add-key", parents=[target, application],
        help="a second key pair for the application; tokens signed by either key verify",
    )
    add_key.add_argument("--private-key-out", metavar="FILE",
                         help="where to write the private key (mode 0600; default: the same key directory as apps create)")
    remove_key = apps_cmds.add_parser(
        "remove-key", parents=[target, application], help="stop accepting tokens signed with one of the keys"
    )
    remove_key.add_argument("--key-id", required=True, metavar="KEY_ID", help="as `apps keys` or `add-key` print it")

    links = commands.add_parser(
        "links", help="which account owns (sends from, receives for) a page, Viber service or SMS sender"
    )
    links_cmds = links.add_subparsers(
        dest="command", required=True, metavar="{list,create,delete}", parser_class=_Parser
    )
    links_list = links_cmds.add_parser("list", parents=[target], help="an account's links; prints JSON")
    links_list.add_argument("--api-key", required=True, metavar="KEY", help="the owning account")
    address = _Parser(add_help=False)
    address.add_argument("--channel", required=True, choices=LINK_CHANNELS, help="the channel of the address")
    address.add_argument(
        "--address", required=True, metavar="ADDRESS",
        help="Messenger page id, Viber service id, SMS number (E.164; a leading + is dropped, as the Messages "
        "API takes numbers without it) or alphanumeric SMS sender id (1-11 letters, digits, spaces; case-insensitive)",
    )
    links_create = links_cmds.add_parser(
        "create", parents=[target, address], help="link an address to an account or application; prints JSON"
    )
    links_create.add_argument("--api-key", required=True, metavar="KEY", help="the owning account")
    links_create.add_argument(
        "--application-id", metavar="ID", help="the account's application whose inbound URL gets the messages"
    )
    links_delete = links_cmds.add_parser(
        "delete", parents=[target, address], help="remove a link; prints the removed link as JSON"
    )
    links_delete.add_argument("--api-key", metavar="KEY", help="only if the link is this account's")

    jwt_group = commands.add_parser("jwt", help="JSON Web Tokens")
    jwt_cmds = jwt_group.add_subparsers(dest="command", required=True, metavar="{generate}", parser_class=_Parser)
    jwt_generate = jwt_cmds.add_parser("generate", help="print a JWT signed with an application's private key")
    jwt_generate.add_argument("--application-id", required=True, metavar="ID")
    jwt_generate.add_argument("--private-key", required=True, metavar="FILE")
    jwt_generate.add_argument(
        "--ttl", type=int, default=900, metavar="SECONDS", help="lifetime, 1..86400 (default: 900)"
    )
    local_parent = _Parser(add_help=False)
    local_where = local_parent.add_argument_group("target stack")
    local_where.add_argument(
        "--local-dir", default=DEFAULT_LOCAL_DIR, metavar="DIR",
        help="the local stack's state directory (default: .local in the current directory or the repository)",
    )
    from switchboard import cli_local

    cli_local.add_parser(commands, local_parent, _Parser)
    from switchboard import cli_dlq

    cli_dlq.add_parser(commands, target, _Parser)
    from switchboard import cli_doctor

    cli_doctor.add_parser(commands, target)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.group == "doctor":
            return _run_doctor(args)
        print(run(args))
        return 0
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        return _fail(str(exc), 2)
    except CliError as exc:
        return _fail(str(exc), 1)
    except (ValueError, LookupError, OSError) as exc:
        return _fail(_message(exc), 1)
    except Exception as exc:  # an AWS error or anything unforeseen: one line, never a traceback
        return _fail(f"{type(exc).__name__}: {exc}", 1)


def run(args: argparse.Namespace) -> str:
    """The command's output (a JSON document or a token)."""
    if args.group == "jwt":
        return _generate_jwt(args)

    from switchboard import provisioning

    effective_at = None
    if args.group == "accounts" and args.command == "rotate-signature-secret" and args.effective_at is not None:
        effective_at = provisioning.parse_instant(args.effective_at)  # a bad time fails before any AWS call
    target = _target(args)
    store = _store(args, target)
    if args.group == "links":
        return json.dumps(_run_links(args, store), indent=2)
    if args.group == "local":
        return json.dumps(_run_local(args, target, store), indent=2)
    if args.group == "dlq":
        from switchboard import cli_dlq

        return cli_dlq.run(args, target)
    result: dict[str, Any]
    try:
        if args.group == "accounts":
            if args.command == "create":
                _allow_webhooks(target, [args.inbound_url, args.status_url])
                result = provisioning.provision_account(store, args.inbound_url, args.status_url)
            elif args.command == "set-rate-limit":
                per_second = None if args.default else args.per_second
                result = provisioning.set_account_rate_limit(store, args.api_key, per_second)
            elif args.command == "set-webhook-version":
                result = provisioning.set_account_webhook_version(store, args.api_key, args.webhook_version)
            elif args.command == "rotate-secret":
                result = provisioning.rotate_api_secret(store, args.api_key, args.grace_seconds)
            elif args.command == "rotate-signature-secret":
                result = provisioning.rotate_signature_secret(store, args.api_key, effective_at)
            else:
                result = provisioning.set_account_disabled(store, args.api_key, args.command == "disable")
        elif args.command == "create":
            _allow_webhooks(target, [args.inbound_url, args.status_url])
            result = provisioning.provision_application(
                store, args.api_key, args.name, args.inbound_url, args.status_url, _private_key_out(args, target),
                webhook_version=args.webhook_version,
            )
        elif args.command == "update":
            _allow_webhooks(target, [url for url in (args.inbound_url, args.status_url) if url != DEFAULT_SETTING])
            result = provisioning.update_application(
                store, args.application_id,
                inbound_url=args.inbound_url, status_url=args.status_url, webhook_version=args.webhook_version,
            )
        elif args.command == "keys":
            result = provisioning.application_keys(store, args.application_id)
        elif args.command == "add-key":
            result = provisioning.add_application_key(store, args.application_id, _private_key_out(args, target))
        else:
            result = provisioning.remove_application_key(store, args.application_id, args.key_id)
    except ValueError as exc:
        raise CliError(_with_allowance_hint(exc, target)) from None
    return json.dumps(result, indent=2)


def _run_doctor(args: argparse.Namespace) -> int:
    from switchboard import cli_doctor

    if args.stack_name:
        return cli_doctor.run(args, cli_doctor.deployed_stack(args.stack_name, args.region))
    target = local_target(args.local_dir)
    _store(args, target)  # points the AWS SDK at the local stack
    return cli_doctor.run(args, cli_doctor.local_stack(target))


def _run_links(args: argparse.Namespace, accounts: Any) -> dict[str, Any]:
    from switchboard.domain.tenancy import UnknownAccount
    from switchboard.adapters.dynamodb.link_store import provision_link
    from switchboard.domain.tenancy import LinkExists
    from switchboard.provisioning import link_store

    links = link_store(accounts)
    if args.command == "list":
        if accounts.get_account(args.api_key) is None:
            raise UnknownAccount(f"no account with api key {args.api_key!r}")
        return {"links": [link.to_dict() for link in links.links_of(args.api_key)]}
    if args.command == "create":
        try:
            link = provision_link(accounts, links, args.channel, args.address, args.api_key, args.application_id)
        except LinkExists as exc:
            raise CliError(_linked_already(exc)) from None
    else:
        link = links.unlink(args.channel, args.address, api_key=args.api_key)
    return link.to_dict()


def _linked_already(exc: Any) -> str:
    """``LinkExists`` with the owner named: the CLI is run by the deployment's operator."""
    existing = exc.existing
    if existing is None:  # deleted again in the meantime
        return f"{exc}; try again"
    owner = f"account {existing.api_key}"
    if existing.application_id:
        owner += f" (application {existing.application_id})"
    return f"{exc} to {owner}; delete that link first"


def _generate_jwt(args: argparse.Namespace) -> str:
    from switchboard.provisioning import generate_jwt

    try:
        pem = Path(args.private_key).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read private key file {args.private_key}: {exc.strerror or exc}") from None
    return generate_jwt(args.application_id, pem, ttl_seconds=args.ttl)


def _fail(message: str, code: int) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return code


def _message(exc: BaseException) -> str:
    if isinstance(exc, LookupError) and exc.args:
        return str(exc.args[0])
    if isinstance(exc, FileExistsError):
        return f"file already exists: {exc.filename}"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return str(exc)


# -- target stack ---------------------------------------------------------------------------------


def _target(args: argparse.Namespace) -> Target:
    stack_name = getattr(args, "stack_name", None)
    return deployed_target(stack_name, args.region) if stack_name else local_target(args.local_dir)


def _store(args: argparse.Namespace, target: Target) -> Any:
    if target.endpoint_url:
        os.environ["AWS_ENDPOINT_URL"] = target.endpoint_url
        # The local stack keeps its resources in one region, whatever the user's shell says.
        os.environ["AWS_DEFAULT_REGION"] = LOCAL_REGION
        # It accepts any credentials; boto3 still needs some to sign with.
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    elif getattr(args, "region", None):
        os.environ["AWS_DEFAULT_REGION"] = args.region

    from switchboard.adapters import aws_clients
    from switchboard.provisioning import account_store
    from switchboard.settings import ProvisioningSettings

    aws_clients.reset_clients()
    return account_store(ProvisioningSettings(accounts_table=target.accounts_table))


# -- webhook URLs and key files ---------------------------------------------------------------------


def _allow_webhooks(target: Target, urls: list[str | None]) -> None:
    """Against the local stack: its local-only allowance, plus hosts that do not resolve from here (offline).

    The SSRF guard still checks everything else (``check_webhook_url`` through provisioning), and
    the local notifier checks again before each delivery. A deployed target changes nothing.
    """
    if target.local_dir is None:
        return
    allowed = list(target.allowed_private_webhook_hosts)
    for url in urls:
        host = _host_of(url)
        if host and host not in allowed and not _resolves(host):
            allowed.append(host)
            print(
                f"{PROG}: warning: {host} does not resolve from this machine; accepted for the local stack only "
                "(its webhooks fail until it resolves; a deployed stack refuses such a URL)",
                file=sys.stderr,
            )
    os.environ[ALLOWED_HOSTS_VARIABLE] = ",".join(allowed)


def _host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


def _resolves(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True  # an address literal: the guard judges it as it is
    except ValueError:
        pass
    try:
        return bool(socket.getaddrinfo(host, None))
    except (OSError, UnicodeError):
        return False


def _with_allowance_hint(exc: ValueError, target: Target) -> str:
    """The error, and for a URL the SSRF guard refused locally, what the local stack would take instead."""
    from switchboard.adapters.webhook_http.ssrf_guard import UnsafeWebhookUrl

    message = str(exc)
    if target.local_dir is None or not isinstance(exc, UnsafeWebhookUrl):
        return message
    allowed = ", ".join(target.allowed_private_webhook_hosts) or "none"
    return (
        f"{message}; against the local stack only its local allowance may be private ({allowed}; "
        "e.g. http://localhost:8000/webhooks)"
    )


def _private_key_out(args: argparse.Namespace, target: Target) -> Path:
    """``--private-key-out``, else a private directory of the local stack or of the user's configuration."""
    if args.private_key_out:
        return Path(args.private_key_out)
    if target.local_dir is not None:
        directory = target.local_dir / KEYS_DIR
    else:
        config_home = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
        directory = config_home / PROG / KEYS_DIR / (target.stack_name or "default")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory  # provisioning names the file after the application id


def _run_local(args: argparse.Namespace, target: Target, accounts: Any) -> dict[str, Any]:
    from switchboard import cli_local

    if not target.channels_secret_id:
        raise CliError(f"{target.local_dir}/outputs.json has no {CHANNELS_SECRET_OUTPUT}; {_LOCAL_HINT}")
    return cli_local.run(args, accounts, target.channels_secret_id)


def find_local_dir(local_dir: str) -> Path | None:
    """``local_dir`` as given (absolute, or relative to the current directory), else under the repository."""
    path = Path(local_dir)
    candidates = [path] if path.is_absolute() else [Path.cwd() / path, *(root / path for root in _repository_roots())]
    return next((c for c in candidates if (c / "outputs.json").is_file()), None)


def local_target(local_dir: str) -> Target:
    found = find_local_dir(local_dir)
    if found is None:
        raise CliError(f"the local stack is not running ({local_dir}/outputs.json not found); {_LOCAL_HINT}")
    outputs = _read_json(found / "outputs.json")
    stack_file = found / "stack.json"
    if not stack_file.is_file():
        raise CliError(f"the local stack is not running ({stack_file} not found); {_LOCAL_HINT}")
    stack = _read_json(stack_file)
    endpoint = stack.get("aws_endpoint_url") or None
    table = outputs.get(ACCOUNTS_TABLE_OUTPUT)
    if not isinstance(table, str) or not table:
        raise CliError(f"{found / 'outputs.json'} has no {ACCOUNTS_TABLE_OUTPUT}; {_LOCAL_HINT}")
    if endpoint is not None:
        if not isinstance(endpoint, str):
            raise CliError(f"{stack_file}: aws_endpoint_url must be a string")
        _require_reachable(endpoint)
    allowed = stack.get("allowed_private_webhook_hosts") or []
    secret = outputs.get(CHANNELS_SECRET_OUTPUT)
    return Target(
        accounts_table=table,
        endpoint_url=endpoint,
        local_dir=found.resolve(),
        allowed_private_webhook_hosts=tuple(str(host) for host in allowed if isinstance(host, str)),
        channels_secret_id=secret if isinstance(secret, str) and secret else None,
    )


def deployed_target(stack_name: str, region: str | None) -> Target:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cloudformation = boto3.session.Session(region_name=region).client("cloudformation")
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as exc:
        raise CliError(f"stack {stack_name}: {exc.response.get('Error', {}).get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise CliError(f"cannot describe stack {stack_name}: {exc}") from None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in (stacks[0].get("Outputs") or [])} if stacks else {}
    table = outputs.get(ACCOUNTS_TABLE_OUTPUT)
    if not table:
        raise CliError(f"stack {stack_name} has no {ACCOUNTS_TABLE_OUTPUT} output; is it a Switchboard stack?")
    return Target(accounts_table=table, endpoint_url=None, stack_name=stack_name)


def _repository_roots() -> list[Path]:
    """The nearest ancestor of the current directory holding ``template.yaml``, then the source tree."""
    roots = [d for d in (Path.cwd(), *Path.cwd().parents) if (d / "template.yaml").is_file()][:1]
    if (_SOURCE_ROOT / "template.yaml").is_file() and _SOURCE_ROOT not in roots:
        roots.append(_SOURCE_ROOT)
    return roots


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {path}: {exc}; {_LOCAL_HINT}") from None
    if not isinstance(data, dict):
        raise CliError(f"{path} is not a JSON object; {_LOCAL_HINT}")
    return data


def _require_reachable(endpoint_url: str) -> None:
    """Fail fast with a clear message instead of waiting for the AWS SDK's retries to give up."""
    parts = urlsplit(endpoint_url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = None
    if not parts.hostname or port is None:
        raise CliError(f"the local stack's endpoint {endpoint_url!r} is not a URL; {_LOCAL_HINT}")
    try:
        socket.create_connection((parts.hostname, port), timeout=1.0).close()
    except OSError:
        raise CliError(f"the local stack is not running (nothing answers at {endpoint_url}); {_LOCAL_HINT}") from None


if __name__ == "__main__":
    sys.exit(main())
