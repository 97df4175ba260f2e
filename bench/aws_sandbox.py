"""moto with the template's tables, queues and secret, and the functions' environment in ``os.environ``.

moto runs inside this process: the tests' own ``tests.support.aws_env.template_aws`` creates what the
template declares and resolves every function's environment (``tests.support.settings``), which is
applied here; handlers are imported the way the local stack imports them.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3

from bench.template_functions import FunctionSpec, function_specs
from local_stack.event_sources import SqsEventSource, sqs_event_sources
from local_stack.functions import Handler, LambdaContext, add_layers_to_path, import_handler
from local_stack.routes import RouteTable, routes_from_template
from local_stack.template import LOCAL_REGION, LocalResources, resources_of_type
from tests.support.aws_env import template_aws

CHANNELS_SECRET = "ChannelsSecret"  # the template's logical id of the provider configuration
_SANDBOX_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": LOCAL_REGION,
    "AWS_REGION": LOCAL_REGION,
    # No X-Ray daemon here; outside Lambda Powertools turns tracing off anyway.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    # ``empty_queues`` purges between timed blocks, more often than AWS's one purge a minute.
    "MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR": "false",
}


@dataclass
class AwsSandbox:
    template: dict[str, Any]
    local: LocalResources
    functions: dict[str, FunctionSpec]

    @property
    def routes(self) -> RouteTable:
        return routes_from_template(self.template)

    def client(self, service: str) -> Any:
        return boto3.session.Session().client(service, region_name=LOCAL_REGION)

    def function_for_route(self, method: str, path: str) -> str:
        match = self.routes.select(method, path)
        if match is None:
            raise LookupError(f"no route in the template for {method} {path}")
        return match.route.function

    def event_sources(self) -> list[SqsEventSource]:
        return sqs_event_sources(self.template, self.local)

    def consumer_of(self, queue_logical_id: str) -> SqsEventSource:
        arn = self.local.attrs[(queue_logical_id, "Arn")]
        source = next((s for s in self.event_sources() if s.queue_arn == arn), None)
        if source is None:
            raise LookupError(f"no function in the template consumes {queue_logical_id}")
        return source

    def queue_url(self, queue_logical_id: str) -> str:
        return self.local.refs[queue_logical_id]

    def load_handler(self, logical_id: str) -> Handler:
        spec = self.functions[logical_id]
        add_layers_to_path([spec.config])
        return import_handler(spec.config)

    def context(self, logical_id: str) -> LambdaContext:
        config = self.functions[logical_id].config
        return LambdaContext(logical_id, config.memory_mb, config.timeout_seconds)

    def empty_queues(self) -> None:
        """Purge every queue of the template (moto's SendMessage slows down as a queue grows)."""
        sqs = self.client("sqs")
        for logical_id in resources_of_type(self.template, "AWS::SQS::Queue"):
            sqs.purge_queue(QueueUrl=self.queue_url(logical_id))

    def put_channels_secret(self, secret: Mapping[str, Any]) -> None:
        self.client("secretsmanager").put_secret_value(
            SecretId=self.local.refs[CHANNELS_SECRET], SecretString=json.dumps(secret)
        )
        forget_cached_state()


# Template parameters for a measurement of the sender's own overhead: it sends batch after batch
# through one provider credential, far above its published rate, so the pacing (docs/providers.md)
# would set the figure instead of the sender.
WITHOUT_PROVIDER_PACING = {"ProviderPacing": "false"}


def forget_cached_state() -> None:
    """Settings, boto3 clients, provider sessions and Powertools' parameter cache, read afresh."""
    from aws_lambda_powertools.utilities import parameters

    from switchboard.adapters import aws_clients as aws
    from switchboard.adapters.providers import transport
    from tests.support.wiring import forget_wired_functions

    aws.reset_clients()
    transport.reset_sessions()
    parameters.clear_caches()
    forget_wired_functions()  # their services hold clients


@contextmanager
def aws_sandbox(parameter_overrides: Mapping[str, str] | None = None) -> Iterator[AwsSandbox]:
    """Every table, queue and secret of the template, in moto in this process.

    ``os.environ`` is left as the functions see it (their environment, dummy credentials).
    """
    for key in [k for k in os.environ if k.startswith("AWS_ENDPOINT_URL") or k == "AWS_PROFILE"]:
        del os.environ[key]
    os.environ.update(_SANDBOX_ENVIRONMENT)
    with template_aws(parameter_overrides) as aws:
        os.environ.update(aws.env)
        forget_cached_state()
        try:
            yield AwsSandbox(template=aws.template, local=aws.local, functions=function_specs(aws.template, aws.local))
        finally:
            forget_cached_state()


@contextmanager
def requests_unpatched() -> Iterator[None]:
    """moto's ``responses`` patch of ``requests`` off for the block (botocore's own stub stays)."""
    from moto.core.models import responses_mock

    responses_mock.stop()
    try:
        yield
    finally:
        responses_mock.start()
