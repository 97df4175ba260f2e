"""The whole local stack in one process: moto, provider simulators, webhook sink, functions, API.

Start order (``LocalStack.start``): bind the API ports (a busy port fails first), start moto and
create the template's tables, queues and secrets, start the simulators (sending their delivery and
read reports to the API's HTTP port) and point the channels secret at them, start the webhook
sink, import the functions with their environment, provision the demo account and application
and link the demo page, Viber service, SMS number and SMS sender id to it (only the demo account
may send from them), start the SQS pollers, write
``stack.json`` and ``outputs.json``, and only then accept API connections, so ``GET /health``
answering means ready.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import boto3

from local_stack.aws_server import AwsServer, use_local_aws
from local_stack.console import CONSOLE_PATH, Console
from local_stack.event_sources import DEFAULT_CONCURRENCY, SqsPoller, sqs_event_sources
from local_stack.functions import LocalFunction, function_configs, load_functions
from local_stack.gateway import ApiIdentity, HttpApiGateway
from local_stack.http_listener import HttpListener, server_tls_context
from local_stack.provision import link_demo_channels, provision_demo
from local_stack.routes import routes_from_template
from local_stack.simulators import PROVIDER_REPORTS_FILE, PROVIDER_REQUESTS_FILE, ProviderSimulators
from local_stack.sink import WEBHOOKS_FILE, WebhookSink
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
CHANNELS_SECRET = "ChannelsSecret"  # the template's logical id of the provider configuration
# The template parameter listing private hosts customer webhooks may target: locally, the sink.
PRIVATE_WEBHOOK_HOSTS_PARAMETER = "AllowedPrivateWebhookHosts"
# Locally a disabled account, a rotated secret or a removed key shows within seconds (the template says 60).
AUTH_CACHE_TTL_PARAMETER = "AuthCacheTtlSeconds"
LOCAL_AUTH_CACHE_TTL_SECONDS = "5"
# Function event types the local stack runs; others are reported at start and not run.
RUN_EVENT_TYPES = frozenset({"HttpApi", "SQS"})
HTTP_API_TYPE = "AWS::Serverless::HttpApi"

STACK_FILE = "stack.json"
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700
OUTPUTS_FILE = "outputs.json"
DEMO_KEY_FILE = "demo-app.key"
TLS_DIR = "tls"
INBOUND_WEBHOOK_PATH = "/webhooks/inbound"
STATUS_WEBHOOK_PATH = "/webhooks/status"


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
    host: str = HOST

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> StackSettings:
        """``PORT``, ``HTTPS_PORT``, ``AWS_PORT`` (0: any free port), ``LOCAL_DIR``, ``SQS_CONCURRENCY``."""
        return cls(
            local_dir=Path(environ.get("LOCAL_DIR") or ROOT / ".local").resolve(),
            http_port=_port(environ, "PORT", DEFAULT_HTTP_PORT),
            https_port=_port(environ, "HTTPS_PORT", DEFAULT_HTTPS_PORT),
            aws_port=_port(environ, "AWS_PORT", DEFAULT_AWS_PORT),
            sqs_concurrency=max(1, int(environ.get("SQS_CONCURRENCY") or DEFAULT_CONCURRENCY)),
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

    def to_json(self) -> dict[str, str]:
        return asdict(self)


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
    for module_name, reset in (("switchboard.config", "reset_settings"), ("switchboard.aws", "reset_clients")):
        module = sys.modules.get(module_name)
        if module is not None:
            getattr(module, reset)()


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
        self.functions: dict[str, LocalFunction] = {}
        self.urls: dict[str, str] = {}  # the stack's parts, for the banner
        self._signature_secrets: list[str] = []
        self._listeners: list[HttpListener] = []
        self._stops: list[Callable[[], None]] = []

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
        self._reset_state_files()
        template = load_template(self.template_path)
        api_id = self._api_id(template)
        tls = ensure_certificate(self.local_dir / TLS_DIR)
        http, https = self._bind_listeners(template, api_id, tls)

        aws = self._started(AwsServer(s.host, s.aws_port))
        use_local_aws(aws.endpoint_url)
        session = boto3.session.Session(region_name=LOCAL_REGION)
        local = create_resources(template, session)
        for logical_id in resources_of_type(template, HTTP_API_TYPE):
            local.refs[logical_id] = api_id

        simulators = self._started(ProviderSimulators(self.local_dir, host=s.host, port=0))
        simulators.send_reports_to(f"http://{s.host}:{http.port}")
        session.client("secretsmanager").put_secret_value(
            SecretId=local.refs[CHANNELS_SECRET], SecretString=json.dumps(simulators.channels_secret())
        )
        sink = self._started(WebhookSink(self.local_dir, signature_secrets=self.signature_secrets, host=s.host, port=0))

        if PRIVATE_WEBHOOK_HOSTS_PARAMETER in template.get("Parameters", {}):
            local.parameters[PRIVATE_WEBHOOK_HOSTS_PARAMETER] = f"{sink.host}:{sink.port}"
        if AUTH_CACHE_TTL_PARAMETER in template.get("Parameters", {}):
            local.parameters[AUTH_CACHE_TTL_PARAMETER] = LOCAL_AUTH_CACHE_TTL_SECONDS
        warn_about_events_not_run(template)
        configs = function_configs(template, local)
        apply_function_environment([c.environment for c in configs.values()])
        self.functions.update(load_functions(configs))
        demo = provision_demo(
            sink.url(INBOUND_WEBHOOK_PATH), sink.url(STATUS_WEBHOOK_PATH), self.local_dir / DEMO_KEY_FILE
        )
        self._signature_secrets.append(demo.signature_secret)
        link_demo_channels(demo)

        sqs = session.client("sqs")
        for source in sqs_event_sources(template, local):
            self._started(SqsPoller(source, self.functions[source.function], sqs, concurrency=s.sqs_concurrency))

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
        )
        self.urls = {"webhook_sink": sink.url("/"), "provider_simulators": f"http://{s.host}:{simulators.port}"}
        write_json(self.local_dir / OUTPUTS_FILE, local_outputs(template, local, api_id, https_host))
        write_json(self.local_dir / STACK_FILE, self.info.to_json())

        for listener in (http, https):
            listener.start()
        return self.info

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
        """Stop the API listeners, then everything else in reverse order; remove the state files describing it."""
        while self._listeners:
            self._listeners.pop().stop()
        while self._stops:
            stop = self._stops.pop()
            try:
                stop()
            except Exception:  # noqa: BLE001 - keep stopping the rest
                logger.exception("stopping %s failed", stop)
        for name in (STACK_FILE, OUTPUTS_FILE):
            (self.local_dir / name).unlink(missing_ok=True)

    def _reset_state_files(self) -> None:
        self.local_dir.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)  # the mode applies when created
        for name in (STACK_FILE, OUTPUTS_FILE, DEMO_KEY_FILE):
            (self.local_dir / name).unlink(missing_ok=True)
        for name in (WEBHOOKS_FILE, PROVIDER_REQUESTS_FILE, PROVIDER_REPORTS_FILE):
            (self.local_dir / name).write_bytes(b"")

    @staticmethod
    def _api_id(template: dict[str, Any]) -> str:
        """A local id for the HTTP API (API Gateway's are 10 lowercase alphanumerics)."""
        apis = list(resources_of_type(template, HTTP_API_TYPE))
        return apis[0].lower() if apis else "local"
