"""The whole local stack in one process: moto, provider simulators, webhook sink, functions, API.

Over 350 lines on purpose: the start and stop order of the whole local stack (lock, ports, moto, simulators, sink, functions, event sources, API) reads as one sequence.

Start order (``LocalStack.start``): take the state directory's lock and bind every port (the API's
and moto's) before anything in the directory changes, so a second start fails without harming the
first; read the saved state (``persistence``) unless the start is ``fresh``; create the template's
tables, queues and secrets in moto; start the simulators (with the saved credentials, sending their
delivery and read reports to the API's HTTP port) and the webhook sink; import the functions with
their environment; restore the saved tables and queue messages, or else provision the demo account
and application and link the demo page, Viber service, SMS number and SMS sender id to it (only the demo
account may send from them); start the SQS pollers,
write ``stack.json`` and ``outputs.json``, and only then accept API connections, so ``GET /health``
answering means ready.

Stop order (``LocalStack.stop``): stop the simulators' reports and the API listeners (no new work
comes in), stop the SQS pollers and wait for every invocation under way, save the state, then stop
the sink, the simulators and moto.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar

import boto3

from local_stack.aws_process import AwsProcess
from local_stack.aws_server import use_local_aws
from local_stack.console import CONSOLE_PATH, Console
from local_stack.event_sources import DEFAULT_CONCURRENCY, SqsEventSource, SqsPoller, sqs_event_sources
from local_stack.function_instances import FunctionInstances
from local_stack.functions import FunctionConfig, function_configs
from local_stack.gateway import ApiIdentity, HttpApiGateway
from local_stack.http_listener import HttpListener, server_tls_context
from local_stack.persistence import (
    Snapshot,
    SnapshotUnreadable,
    dump_secrets,
    dump_tables,
    load_snapshot,
    moved_urls,
    reports_from_file,
    reports_to_file,
    restore_tables,
    rewrite_strings,
    save_snapshot,
    utc_now_iso,
)
from local_stack.provision import (
    DemoCredentials,
    demo_is_usable,
    link_demo_channels,
    link_new_demo_channels,
    provision_demo,
)
from local_stack.routes import routes_from_template
from local_stack.simulators import ProviderSimulators
from local_stack.sink import WebhookSink
from local_stack.state_dir import (
    DEMO_KEY_FILE,
    LOG_FILES,
    LOGS_DIR,
    OUTPUTS_FILE,
    STACK_FILE,
    STATE_FILE,
    TLS_DIR,
    StateDirLock,
    reset_state_dir,
)
from local_stack.template import (
    LOCAL_REGION,
    ROOT,
    TEMPLATE_PATH,
    LocalResources,
    create_resources,
    load_template,
    outputs,
    resources_of_type,
)
from local_stack.tls import TlsFiles, ensure_certificate

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 3000
DEFAULT_HTTPS_PORT = 3443
DEFAULT_AWS_PORT = 5010
# Most instances (worker processes) each HTTP-invoked function runs at once; an SQS-invoked function
# gets as many as its event sources' pollers run batches at once.
DEFAULT_HTTP_INSTANCES = 4
CHANNELS_SECRET = "ChannelsSecret"  # the template's logical id of the provider configuration
# The template parameter listing private hosts customer webhooks may target: locally, the sink.
PRIVATE_WEBHOOK_HOSTS_PARAMETER = "AllowedPrivateWebhookHosts"
# Local only: customer webhooks may also go to a developer's own receiver on this machine
# (http://localhost:<any port>/...), besides the sink. A deployed stack has its own parameter value.
LOCAL_WEBHOOK_HOSTS = ("localhost",)
# Local only: the functions re-read the channels secret after this many seconds (300 deployed), so a
# sender added by `switchboard local add-sender` is usable at once. A provider answer is given up on
# after 3 s (10 deployed) and an unknown SMS outcome waits 10 s for its receipt (900 deployed), so the
# simulators' lost-answer scenarios (0021-0024, scenarios.SLOW_ANSWER_SECONDS) play out in seconds.
LOCAL_FUNCTION_ENVIRONMENT = {
    "SECRETS_MAX_AGE_SECONDS": "2",
    "PROVIDER_READ_TIMEOUT": "3",
    "UNKNOWN_OUTCOME_WINDOW_SECONDS": "10",
}
SERVICE_VARIABLE = "POWERTOOLS_SERVICE_NAME"
LOCAL_STACK_SERVICE = "switchboard-local-stack"
# How long stop() waits, beyond the longest function timeout, for invocations under way.
DRAIN_MARGIN_SECONDS = 5.0
# Function event types the local stack runs; others are reported at start and not run.
RUN_EVENT_TYPES = frozenset({"HttpApi", "SQS"})
HTTP_API_TYPE = "AWS::Serverless::HttpApi"
TABLE_TYPE = "AWS::DynamoDB::Table"
QUEUE_TYPE = "AWS::SQS::Queue"
SECRET_TYPE = "AWS::SecretsManager::Secret"

INBOUND_WEBHOOK_PATH = "/webhooks/inbound"
STATUS_WEBHOOK_PATH = "/webhooks/status"
# Locally a disabled account, a rotated secret or a removed key shows within seconds (the template says 60).
AUTH_CACHE_TTL_PARAMETER = "AuthCacheTtlSeconds"
LOCAL_AUTH_CACHE_TTL_SECONDS = "5"
QUEUE_CONSUMERS_PARAMETER = "QueueConsumerMaxConcurrency"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "")
    if not raw:
        return default
    port = int(raw)
    if not 0 <= port <= 65535:
        raise ValueError(f"{name}={raw} is not a port number")
    return port


@dataclass(frozen=True)
class StackSettings:
    local_dir: Path
    http_port: int = DEFAULT_HTTP_PORT
    https_port: int = DEFAULT_HTTPS_PORT
    aws_port: int = DEFAULT_AWS_PORT
    sqs_concurrency: int = DEFAULT_CONCURRENCY
    http_instances: int = DEFAULT_HTTP_INSTANCES
    host: str = HOST
    fresh: bool = False  # start from a clean slate: the saved state is removed first

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> StackSettings:
        """``PORT``, ``HTTPS_PORT``, ``AWS_PORT`` (0: any free port), ``LOCAL_DIR``, ``SQS_CONCURRENCY``,
        ``HTTP_INSTANCES``."""
        return cls(
            local_dir=Path(environ.get("LOCAL_DIR") or ROOT / ".local").resolve(),
            http_port=_port(environ, "PORT", DEFAULT_HTTP_PORT),
            https_port=_port(environ, "HTTPS_PORT", DEFAULT_HTTPS_PORT),
            aws_port=_port(environ, "AWS_PORT", DEFAULT_AWS_PORT),
            sqs_concurrency=max(1, int(environ.get("SQS_CONCURRENCY") or DEFAULT_CONCURRENCY)),
            http_instances=max(1, int(environ.get("HTTP_INSTANCES") or DEFAULT_HTTP_INSTANCES)),
        )


@dataclass(frozen=True)
class StackInfo:
    """What ``stack.json`` holds: how to reach the running stack and its demo credentials."""

    api_url: str
    https_api_host: str
    tls_cert_path: str
    api_key: str
    api_secret: str
    signature_secret: str
    application_id: str
    private_key_path: str
    webhook_log: str
    provider_log: str
    aws_endpoint_url: str
    # Local only: hosts customer webhooks may target although they are on this machine (the sink,
    # and localhost on any port); the CLI applies the same allowance against the local stack.
    allowed_private_webhook_hosts: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class StateSummary:
    """What a start did with the saved state, for the banner."""

    restored: bool
    detail: str  # "12 messages, 1 workflow, ..." or why the state is fresh
    state_dir: Path
    saved_at: str = ""

    def describe(self) -> str:
        if self.restored:
            return f"restored {self.detail} from {self.state_dir} (saved {self.saved_at})"
        return f"fresh state ({self.detail})"


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def restored_counts(snapshot: Snapshot, queued: int) -> str:
    """``12 messages, 1 workflow, 2 accounts, 3 queued records, 0 pending provider reports``."""
    from switchboard.adapters.dynamodb.account_items import ACCOUNT_PREFIX

    tables = snapshot.tables
    messages = sum(1 for item in tables.get("MessagesTable", []) if "status" in item)
    accounts = sum(
        1 for item in tables.get("AccountsTable", []) if item.get("pk", {}).get("S", "").startswith(ACCOUNT_PREFIX)
    )
    return ", ".join(
        [
            _counted(messages, "message"),
            _counted(len(tables.get("WorkflowsTable", [])), "workflow"),
            _counted(accounts, "account"),
            _counted(queued, "queued record"),
            _counted(len(snapshot.reports), "pending provider report"),
        ]
    )


def local_outputs(template: dict[str, Any], local: LocalResources, api_id: str, https_host: str) -> dict[str, str]:
    """The template's Outputs resolved locally; the API's execute-api endpoint becomes the local HTTPS one."""
    api_domain = f"{api_id}.execute-api.{LOCAL_REGION}.amazonaws.com"
    return {
        name: value.replace(f"https://{api_domain}", f"https://{https_host}").replace(api_domain, https_host)
        for name, value in outputs(template, local).items()
    }


def write_json(path: Path, data: Any, mode: int = PRIVATE_FILE_MODE) -> None:
    """Written whole or not at all: readers polling for the file never see half of it.

    The file is created with ``mode`` (owner read/write only by default: ``stack.json`` holds the
    demo account's secrets), never made private after the fact.
    """
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, indent=2) + "\n")
    partial.replace(path)


def apply_function_environment(environments: list[Mapping[str, str]]) -> None:
    """The union of every function's environment, as all functions share this process.

    Where functions disagree (POWERTOOLS_SERVICE_NAME), the last function's value stays; each
    function's own values are in effect while its handler is imported (``import_handler``).
    """
    for env in environments:
        os.environ.update(env)
    clients = sys.modules.get("switchboard.adapters.aws_clients")
    if clients is not None:
        clients.reset_clients()  # type: ignore[attr-defined]


def warn_about_events_not_run(template: dict[str, Any]) -> None:
    for logical_id, resource in resources_of_type(template, "AWS::Serverless::Function").items():
        for name, event in (resource["Properties"].get("Events") or {}).items():
            if event.get("Type") not in RUN_EVENT_TYPES:
                logger.warning("%s: %s events (%s) are not run by the local stack", logical_id, event.get("Type"), name)


class _Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None: ...


ServiceT = TypeVar("ServiceT", bound=_Service)


class LocalStack:
    def __init__(self, settings: StackSettings, template_path: Path = TEMPLATE_PATH) -> None:
        self.settings = settings
        self.template_path = template_path
        self.info: StackInfo | None = None
        self.state: StateSummary | None = None  # what the start did with the saved state
        self.functions: dict[str, FunctionInstances] = {}
        self.urls: dict[str, str] = {}  # base URLs of the sink and the simulators (for the banner)
        self.services: dict[str, str] = {}  # POWERTOOLS_SERVICE_NAME -> function (for the terminal)
        self._signature_secrets: list[str] = []
        self._listeners: list[HttpListener] = []
        self._pollers: list[SqsPoller] = []
        self._simulators: ProviderSimulators | None = None
        self._stops: list[Callable[[], None]] = []
        self._lock = StateDirLock(settings.local_dir)
        self._save: Callable[[], None] | None = None  # set once the stack runs: stop() drains and saves
        self._wrote_stack_files = False

    @property
    def local_dir(self) -> Path:
        return self.settings.local_dir

    def signature_secrets(self) -> list[str]:
        """The secrets webhooks may be signed with (the sink checks signatures against them)."""
        return list(self._signature_secrets)

    def start(self) -> StackInfo:
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> StackInfo:
        s = self.settings
        self._lock.acquire()  # StateDirInUse: another stack runs on this directory; nothing changed
        template = load_template(self.template_path)
        api_id = self._api_id(template)
        tls = ensure_certificate(self.local_dir / TLS_DIR)
        http, https = self._bind_listeners(template, api_id, tls)
        aws = self._started(AwsProcess(s.host, s.aws_port))
        # Every port is ours: only from here on does the state directory change.
        self._lock.describe(pid=os.getpid(), api_url=f"http://{s.host}:{http.port}")
        snapshot = self._saved_state()

        use_local_aws(aws.endpoint_url)
        session = boto3.session.Session(region_name=LOCAL_REGION)
        local = create_resources(template, session)
        for logical_id in resources_of_type(template, HTTP_API_TYPE):
            local.refs[logical_id] = api_id

        saved_secrets = snapshot.secrets if snapshot else {}
        saved_channels = json.loads(saved_secrets[CHANNELS_SECRET]) if CHANNELS_SECRET in saved_secrets else None
        simulators = ProviderSimulators(self.local_dir, host=s.host, port=0, saved_channels=saved_channels)
        self._simulators = self._started(simulators)
        simulators.send_reports_to(f"http://{s.host}:{http.port}")
        sink = self._started(WebhookSink(self.local_dir, signature_secrets=self.signature_secrets, host=s.host, port=0))
        self.urls = {"webhook_sink": sink.url("/"), "provider_simulators": f"http://{s.host}:{simulators.port}/"}
        moved = moved_urls(snapshot.urls, self.urls) if snapshot else {}

        secretsmanager = session.client("secretsmanager")
        secrets = saved_secrets or {CHANNELS_SECRET: json.dumps(simulators.channels_secret())}
        for logical_id, secret_string in secrets.items():
            if logical_id in local.refs:
                secretsmanager.put_secret_value(
                    SecretId=local.refs[logical_id], SecretString=rewrite_strings(secret_string, moved)
                )
        channels_secret_id = local.refs[CHANNELS_SECRET]
        simulators.follow_channels_secret(
            lambda: json.loads(secretsmanager.get_secret_value(SecretId=channels_secret_id)["SecretString"])
        )

        allowed_hosts = [f"{sink.host}:{sink.port}", *LOCAL_WEBHOOK_HOSTS]
        if PRIVATE_WEBHOOK_HOSTS_PARAMETER in template.get("Parameters", {}):
            local.parameters[PRIVATE_WEBHOOK_HOSTS_PARAMETER] = ",".join(allowed_hosts)
        if AUTH_CACHE_TTL_PARAMETER in template.get("Parameters", {}):
            local.parameters[AUTH_CACHE_TTL_PARAMETER] = LOCAL_AUTH_CACHE_TTL_SECONDS
        if QUEUE_CONSUMERS_PARAMETER in template.get("Parameters", {}):
            # The pollers run this many batches at once, as MaximumConcurrency does deployed; the
            # sender's provider pacing divides each limit by it.
            local.parameters[QUEUE_CONSUMERS_PARAMETER] = str(s.sqs_concurrency)
        warn_about_events_not_run(template)
        configs = {
            name: replace(config, environment={**config.environment, **LOCAL_FUNCTION_ENVIRONMENT})
            for name, config in function_configs(template, local).items()
        }
        apply_function_environment([c.environment for c in configs.values()])
        # Code run outside an invocation (provisioning, restoring) logs as the stack, not as whichever
        # function came last; each function's own service is in effect while its handler is imported.
        os.environ[SERVICE_VARIABLE] = LOCAL_STACK_SERVICE
        self.services = {c.environment.get(SERVICE_VARIABLE, ""): name for name, c in configs.items()}
        self.services[LOCAL_STACK_SERVICE] = "local-stack"
        event_sources = sqs_event_sources(template, local)
        self.functions.update(self._started_functions(template, configs, event_sources))

        dynamodb, sqs = session.client("dynamodb"), session.client("sqs")
        table_names = list(resources_of_type(template, TABLE_TYPE))
        queue_names = list(resources_of_type(template, QUEUE_TYPE))
        if snapshot is not None:
            restore_tables(dynamodb, snapshot.tables, moved)
            demo = self._saved_demo(snapshot)
            link_new_demo_channels(demo)
            queue_urls = {name: local.refs[name] for name in queue_names}
            queued = aws.restore_queues(queue_urls, snapshot.queues, moved)
            self.state = StateSummary(True, restored_counts(snapshot, queued), self.local_dir, snapshot.saved_at)
        else:
            demo = provision_demo(
                sink.url(INBOUND_WEBHOOK_PATH), sink.url(STATUS_WEBHOOK_PATH), self.local_dir / DEMO_KEY_FILE
            )
            link_demo_channels(demo)
        self._signature_secrets.append(demo.signature_secret)

        for source in event_sources:
            poller = SqsPoller(source, self.functions[source.function], sqs, concurrency=s.sqs_concurrency)
            self._pollers.append(self._started(poller))

        https_host = f"{s.host}:{https.port}"
        self.info = StackInfo(
            api_url=f"http://{s.host}:{http.port}",
            https_api_host=https_host,
            tls_cert_path=str(tls.cert_path),
            api_key=demo.api_key,
            api_secret=demo.api_secret,
            signature_secret=demo.signature_secret,
            application_id=demo.application_id,
            private_key_path=demo.private_key_path,
            webhook_log=str(sink.log_path.resolve()),
            provider_log=str(simulators.requests_log_path.resolve()),
            aws_endpoint_url=aws.endpoint_url,
            allowed_private_webhook_hosts=allowed_hosts,
        )
        self._wrote_stack_files = True
        write_json(self.local_dir / OUTPUTS_FILE, local_outputs(template, local, api_id, https_host))
        write_json(self.local_dir / STACK_FILE, self.info.to_json())

        for listener in (http, https):
            listener.start()
        if snapshot is not None:
            simulators.resend(reports_from_file(snapshot.reports))
            # Handed over: should this stack die without saving, the next start must not run it again.
            save_snapshot(self.local_dir / STATE_FILE, snapshot.without_work())

        secret_ids = {name: local.refs[name] for name in resources_of_type(template, SECRET_TYPE)}

        def save() -> None:
            saved = Snapshot(
                saved_at=utc_now_iso(),
                tables=dump_tables(dynamodb, table_names),
                secrets=dump_secrets(secretsmanager, secret_ids),
                queues=aws.dump_queues(queue_names),
                reports=reports_to_file(simulators.unsent_reports()),
                demo={k: v for k, v in asdict(demo).items() if k != "private_key_path"},
                urls=dict(self.urls),
            )
            save_snapshot(self.local_dir / STATE_FILE, saved)

        self._save = save
        return self.info

    def _started_functions(
        self, template: dict[str, Any], configs: Mapping[str, FunctionConfig], event_sources: list[SqsEventSource]
    ) -> dict[str, FunctionInstances]:
        """Every function with its first instance started (all at once: each is a cold start).

        A function may run as many instances as invocations can reach it at once: ``http_instances``
        if the API routes to it, plus what its SQS event sources' pollers run at once.
        """
        http_routed = {route.function for route in routes_from_template(template).routes}
        functions = {}
        for name, config in configs.items():
            concurrency = self.settings.sqs_concurrency
            most = sum(min(concurrency, e.maximum_concurrency or concurrency) for e in event_sources if e.function == name)
            if name in http_routed or most == 0:
                most += self.settings.http_instances
            functions[name] = self._started_later(FunctionInstances(config, most))
        with ThreadPoolExecutor(len(functions) or 1, thread_name_prefix="cold-start") as pool:
            list(pool.map(lambda function: function.start(), functions.values()))
        return functions

    def _started_later(self, function: FunctionInstances) -> FunctionInstances:
        """Stopped with the rest (its instances end), started by the caller."""
        self._stops.append(function.stop)
        return function

    def _saved_state(self) -> Snapshot | None:
        """The state to restore, or None for a fresh start (``self.state`` says why)."""
        if self.settings.fresh:
            removed = reset_state_dir(self.local_dir)
            self.state = StateSummary(
                False, "--fresh: the saved state was removed" if removed else "--fresh", self.local_dir
            )
            return None
        snapshot = load_snapshot(self.local_dir / STATE_FILE)  # SnapshotUnreadable: refused, nothing changed
        if snapshot is None:
            self.state = StateSummary(False, f"nothing saved in {self.local_dir} yet", self.local_dir)
            for name in LOG_FILES:
                (self.local_dir / name).write_bytes(b"")
            shutil.rmtree(self.local_dir / LOGS_DIR, ignore_errors=True)
        return snapshot

    def _saved_demo(self, snapshot: Snapshot) -> DemoCredentials:
        key_path = self.local_dir / DEMO_KEY_FILE
        try:
            demo: DemoCredentials | None = DemoCredentials(**snapshot.demo, private_key_path=str(key_path.resolve()))
        except TypeError:
            demo = None
        if demo is None or not demo_is_usable(demo):
            raise SnapshotUnreadable(
                f"the saved state in {self.local_dir} has no usable demo account and application "
                f"(is {key_path} missing?); start with --fresh for a clean slate"
            )
        return demo

    def _bind_listeners(
        self, template: dict[str, Any], api_id: str, tls: TlsFiles
    ) -> tuple[HttpListener, HttpListener]:
        """The API's HTTP and HTTPS listeners, bound now (a busy port fails the start) and started last."""
        gateway = HttpApiGateway(
            routes_from_template(template),
            self.functions,
            ApiIdentity(api_id),
            local_handlers={CONSOLE_PATH: Console(self.local_dir)},
        )
        tls_context = server_tls_context(str(tls.cert_path), str(tls.key_path))
        for port, context in ((self.settings.http_port, None), (self.settings.https_port, tls_context)):
            self._listeners.append(HttpListener(gateway, self.settings.host, port, context))
        http, https = self._listeners
        return http, https

    def _started(self, part: ServiceT) -> ServiceT:
        part.start()
        self._stops.append(part.stop)
        return part

    def stop(self) -> None:
        """Drain and save the state (if the stack was running), then stop everything in reverse order."""
        if self._save is not None:
            save, self._save = self._save, None
            self._drain()
            try:
                save()
            except Exception as exc:  # noqa: BLE001 - say so and stop the rest anyway
                logger.error("the local state could not be saved in %s: %s", self.local_dir / STATE_FILE, exc)
        while self._listeners:
            self._listeners.pop().stop()
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                logger.exception("stopping %s failed", stop)
        if self._wrote_stack_files:
            for name in (STACK_FILE, OUTPUTS_FILE):
                (self.local_dir / name).unlink(missing_ok=True)
            self._wrote_stack_files = False
        self._lock.release()

    def _drain(self) -> None:
        """No new work comes in and none is under way: what is left is in the tables and queues."""
        if self._simulators is not None:
            self._simulators.stop_sending_reports()
        while self._listeners:
            self._listeners.pop().stop()
        for poller in self._pollers:
            poller.stop()
        longest_timeout = max((f.timeout_seconds for f in self.functions.values()), default=0)
        deadline = time.monotonic() + longest_timeout + DRAIN_MARGIN_SECONDS
        for function in self.functions.values():
            if not function.wait_until_idle(deadline - time.monotonic()):
                logger.warning("%s is still running; the state is saved without waiting for it", function.name)

    @staticmethod
    def _api_id(template: dict[str, Any]) -> str:
        """A local id for the HTTP API (API Gateway's are 10 lowercase alphanumerics)."""
        apis = list(resources_of_type(template, HTTP_API_TYPE))
        return apis[0].lower() if apis else "local"
