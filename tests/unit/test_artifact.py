"""The artifact we ship, run the way Lambda runs it: the layer built from the lock, every handler, one event each.

The layer is built as ``sam build`` builds it, for this machine's architecture
(``local_stack.artifact``). Each function then runs in a fresh interpreter whose ``sys.path`` is
only the function folder, the layer's ``python/`` folder and the standard library
(``local_stack/lambda_runner.py``), with its environment from ``template.yaml``, against a moto
server holding the template's tables, queues and secret. Functions are read from the template, so
a new one is covered as soon as it has a sample event (``events/<code folder>_*.json``).

What this catches that the other tests cannot: a runtime dependency missing from the layer, a
version skew inside it (boto3 against botocore), a module that only imports thanks to the dev
virtualenv, and a handler that crashes on its own sample event.
"""
from __future__ import annotations

import base64
import json
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from local_stack.artifact import build_layer, lambda_environment, lambda_python
from local_stack.aws_server import AwsServer
from local_stack.functions import FUNCTION_TYPE, FunctionConfig, function_configs
from local_stack.template import LOCAL_REGION, ROOT, LocalResources, create_resources, load_template, resources_of_type
from tests.support.requirements_lock import LAYER_REQUIREMENTS, canonical_name, read_pins

pytestmark = pytest.mark.xdist_group("artifact")  # one worker builds the layer and runs them all

RUNNER = ROOT / "local_stack" / "lambda_runner.py"
EVENTS = ROOT / "events"
RUN_TIMEOUT_SECONDS = 120
CHANNELS_SECRET = "ChannelsSecret"
# A port nothing listens on: any provider or customer webhook call made here fails at once, locally.
NOWHERE = "127.0.0.1:9"
# The sample events are signed with these (see events/ and tests/unit/test_provider_webhooks_events.py).
SAMPLE_CHANNELS_SECRET = {
    "messenger": {
        "api_base": f"http://{NOWHERE}", "api_version": "v18.0", "app_secret": "sample-messenger-app-secret",
        "verify_token": "sample-verify-token", "pages": {"107083064136738": "sample-page-token"},
    },
    "viber": {
        "api_base": f"http://{NOWHERE}", "callback_secret": "sample-viber-callback-secret", "service_ids": ["16273"],
    },
    "sms": {
        "api_base": f"http://{NOWHERE}", "api_key": "sample-key", "api_secret": "sample-secret",
        "signature_secret": "sample-sms-signature-secret", "signature_method": "md5hash",
    },
}  # fmt: skip
MESSENGER_PAGE = "107083064136738"
# The number events/api_send_beta_sms.json sends from: the account must own it (docs/security.md).
SAMPLE_SMS_SENDER = "447700900001"
# The sample event each function runs; others take the first of their code folder's samples.
CHOSEN_EVENTS = {
    "ApiFunction": "api_send_beta_sms.json",
    "WebhooksFunction": "webhooks_messenger_text.json",
}


def sample_event_path(config: FunctionConfig) -> Path:
    chosen = CHOSEN_EVENTS.get(config.name)
    if chosen:
        return EVENTS / chosen
    samples = sorted(EVENTS.glob(f"{config.code_dir.name}_*.json"))
    assert samples, f"{config.name} has no sample event events/{config.code_dir.name}_*.json"
    return samples[0]


# ---------------------------------------------------------------------------- moto, observed


@dataclass
class AwsRequests:
    """The AWS requests moto answered: ``(operation, HTTP status)``."""

    seen: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def middleware(self, app: Callable[..., Any]) -> Callable[..., Any]:
        def observed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            operation = environ.get("HTTP_X_AMZ_TARGET") or environ.get("QUERY_STRING") or environ.get("PATH_INFO", "")

            def record(status: str, headers: Any, *args: Any) -> Any:
                with self._lock:
                    self.seen.append((operation, int(status.split()[0])))
                return start_response(status, headers, *args)

            return app(environ, record)

        return observed

    def since(self, index: int) -> list[tuple[str, int]]:
        with self._lock:
            return self.seen[index:]


@dataclass
class Moto:
    """The moto server, what it answered, and the template's resources created in it."""

    endpoint_url: str
    requests: AwsRequests
    template: dict[str, Any]
    local: LocalResources = field(default_factory=LocalResources)

    def client(self, service: str, region_name: str = LOCAL_REGION) -> Any:
        return boto3.session.Session().client(
            service, region_name=region_name, endpoint_url=self.endpoint_url,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip


@dataclass(frozen=True)
class Demo:
    api_key: str
    api_secret: str


def _seed(moto_endpoint: str, environment: dict[str, str], tmp: Path) -> Demo:
    """The demo account and application with the senders the sample events use: the page, the SMS number."""
    from local_stack.provision import link_demo_channels, provision_demo
    from switchboard.adapters import aws_clients as switchboard_aws
    with pytest.MonkeyPatch.context() as patch:
        for key, value in {**environment, "AWS_ENDPOINT_URL": moto_endpoint,
                           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():  # fmt: skip
            patch.setenv(key, value)
        switchboard_aws.reset_clients()
        try:
            demo = provision_demo(f"http://{NOWHERE}/inbound", f"http://{NOWHERE}/status", tmp / "demo.key")
            link_demo_channels(demo, [("messenger", MESSENGER_PAGE), ("sms", SAMPLE_SMS_SENDER)])
        finally:
            switchboard_aws.reset_clients()
    return Demo(demo.api_key, demo.api_secret)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Moto, Demo]]:
    requests = AwsRequests()
    server = AwsServer(middleware=requests.middleware)
    server.start()
    try:
        moto = Moto(server.endpoint_url, requests, load_template())
        moto.local = create_resources(moto.template, moto, overrides={"AllowedPrivateWebhookHosts": NOWHERE})
        moto.client("secretsmanager").put_secret_value(
            SecretId=moto.local.refs[CHANNELS_SECRET], SecretString=json.dumps(SAMPLE_CHANNELS_SECRET)
        )
        environment = {k: v for c in configs(moto).values() for k, v in c.environment.items()}
        demo = _seed(server.endpoint_url, environment, tmp_path_factory.mktemp("demo"))
        yield moto, demo
    finally:
        server.stop()


@pytest.fixture(scope="module")
def layer_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_layer(tmp_path_factory.mktemp("layer"))


# ---------------------------------------------------------------------------- one invocation


@dataclass
class Invocation:
    report: dict[str, Any]
    aws_requests: list[tuple[str, int]]
    stdout: str

    @property
    def result(self) -> Any:
        assert "error" not in self.report, self.report["error"]
        return self.report["result"]


def invoke(
    config: FunctionConfig,
    event: dict[str, Any],
    moto: Moto,
    layer_dir: Path,
    tmp_path: Path,
    interpreter: list[str] | None = None,
    extra_environment: dict[str, str] | None = None,
) -> Invocation:
    request = tmp_path / f"{config.name}-request.json"
    request.write_text(json.dumps({
        "code_dir": str(config.code_dir), "layer_dir": str(layer_dir), "handler": config.handler,
        "function_name": config.name, "memory_mb": config.memory_mb, "timeout_seconds": config.timeout_seconds,
        "event": event,
    }))  # fmt: skip
    environment = {
        **lambda_environment(config.name, config.memory_mb, str(config.code_dir)),
        **config.environment,
        "_HANDLER": config.handler,
        "AWS_ENDPOINT_URL": moto.endpoint_url,
        **(extra_environment or {}),
    }
    before = len(moto.requests.seen)
    done = subprocess.run(
        [*(interpreter or lambda_python()), str(RUNNER), str(request)],
        env=environment, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS, check=False,
    )  # fmt: skip
    lines = [line for line in done.stdout.splitlines() if line.startswith("REPORT ")]
    assert done.returncode == 0 and lines, f"{config.name}: runner failed (exit {done.returncode}):\n{done.stderr[-3000:]}"
    return Invocation(json.loads(lines[-1].removeprefix("REPORT ")), moto.requests.since(before), done.stdout)


def with_basic_auth(event: dict[str, Any], demo: Demo) -> dict[str, Any]:
    token = base64.b64encode(f"{demo.api_key}:{demo.api_secret}".encode()).decode()
    return {**event, "headers": {**event["headers"], "authorization": f"Basic {token}"}}


def configs(moto: Moto) -> dict[str, FunctionConfig]:
    return function_configs(moto.template, moto.local)


def sample_event(config: FunctionConfig, demo: Demo) -> dict[str, Any]:
    event = json.loads(sample_event_path(config).read_text())
    if "authorization" in event.get("headers", {}):
        event = with_basic_auth(event, demo)  # the sample's credentials are placeholders
    return event


def succeeded(result: Any) -> bool:
    """An HTTP answer below 400, or an SQS batch with no item failures."""
    if isinstance(result, dict) and "statusCode" in result:
        return int(result["statusCode"]) < 400
    return isinstance(result, dict) and result.get("batchItemFailures") == []


# ---------------------------------------------------------------------------- the tests


FUNCTIONS = sorted(resources_of_type(load_template(), FUNCTION_TYPE))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_handler_runs_its_sample_event_on_the_built_layer_alone(
    name: str, moto: tuple[Moto, Demo], layer_dir: Path, tmp_path: Path
) -> None:
    aws, demo = moto
    config = configs(aws)[name]

    run = invoke(config, sample_event(config, demo), aws, layer_dir, tmp_path)

    assert run.report["foreign_path_entries"] == []
    assert succeeded(run.result), run.result
    assert run.report["foreign_modules"] == {}, "imported from outside the function folder, the layer and the stdlib"
    for module in ("boto3", "botocore", "switchboard"):
        assert run.report["modules"][module].startswith(str(layer_dir) + "/"), (module, run.report["modules"][module])
    # XRaySubsegments is off by default: the X-Ray recorder is never loaded (Powertools' disabled Tracer
    # imports only the SDK's top-level package, to switch it off).
    assert run.report["modules"]["aws_xray_sdk.core"] is None
    assert any(200 <= status < 300 for _, status in run.aws_requests), f"{name}: no AWS request succeeded"
    assert all(status < 500 for _, status in run.aws_requests), run.aws_requests


def test_the_api_sample_is_recorded_and_queued_through_the_bundled_sdk(
    moto: tuple[Moto, Demo], layer_dir: Path, tmp_path: Path
) -> None:
    aws, demo = moto
    config = configs(aws)["ApiFunction"]

    run = invoke(config, sample_event(config, demo), aws, layer_dir, tmp_path)

    assert run.result["statusCode"] == 202, run.result
    message_uuid = json.loads(run.result["body"])["message_uuid"]
    item = aws.client("dynamodb").get_item(
        TableName=aws.local.refs["MessagesTable"], Key={"message_uuid": {"S": message_uuid}}
    )
    assert item["Item"]["message_uuid"]["S"] == message_uuid
    queued = aws.client("sqs").receive_message(QueueUrl=aws.local.refs["OutboundQueue"], MaxNumberOfMessages=10)
    assert message_uuid in [json.loads(m["Body"]).get("message_uuid") for m in queued.get("Messages", [])]


def test_with_xray_subsegments_on_the_same_layer_traces_with_its_own_xray_sdk(
    moto: tuple[Moto, Demo], layer_dir: Path, tmp_path: Path
) -> None:
    aws, demo = moto
    local = LocalResources(
        refs=aws.local.refs, attrs=aws.local.attrs,
        parameters={**aws.local.parameters, "XRaySubsegments": "true"}, conditions=aws.local.conditions,
    )  # fmt: skip
    config = function_configs(aws.template, local)["ApiFunction"]
    assert config.environment["POWERTOOLS_TRACE_DISABLED"] == "false"
    trace = {"_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
             "AWS_XRAY_DAEMON_ADDRESS": NOWHERE.replace(":9", ":2000")}  # fmt: skip

    run = invoke(config, sample_event(config, demo), aws, layer_dir, tmp_path, extra_environment=trace)

    assert run.result["statusCode"] == 202, run.result
    assert run.report["modules"]["aws_xray_sdk.core"].startswith(str(layer_dir) + "/")
    assert run.report["foreign_modules"] == {}


def test_the_isolation_check_catches_an_interpreter_that_sees_the_dev_virtualenv(
    moto: tuple[Moto, Demo], layer_dir: Path, tmp_path: Path
) -> None:
    aws, demo = moto
    config = configs(aws)["ApiFunction"]
    plain = lambda_python()[:1]  # the same interpreter without -I -S: site-packages and the runner's folder

    run = invoke(config, sample_event(config, demo), aws, layer_dir, tmp_path, interpreter=plain)

    assert any("site-packages" in entry for entry in run.report["foreign_path_entries"])


def test_the_layer_carries_the_locked_versions(layer_dir: Path) -> None:
    pins = read_pins(LAYER_REQUIREMENTS)
    installed = {
        path.name.removesuffix(".dist-info").rpartition("-")[::2]
        for path in layer_dir.glob("*.dist-info")
    }

    assert {(canonical_name(name), version) for name, version in installed} == {
        (pin.name, pin.version) for pin in pins.values()
    }
    assert (layer_dir / "switchboard" / "__init__.py").is_file()
