"""ApiFunction: its settings, the services the API routes use, and ``handle``.

Importing this module builds the routes only (no settings, no AWS client, no boto3): the first
invocation reads ``ApiSettings`` and fails right there, naming every missing or malformed variable,
when the deployment does not give the function what it needs. Each service is built the first time
a request needs it (``/health`` builds none, a lookup no acceptor), once per warm function.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, cached_property
from typing import Any

from switchboard.api.routes import ApiServices, create_app
from switchboard.settings import ApiSettings, load_settings


class ApiFunctionServices:
    """The production ``ApiServices``: DynamoDB, the outbound and workflow-events queues, the channels secret."""

    def __init__(self, settings: ApiSettings) -> None:
        self.settings = settings

    @property
    def max_body_bytes(self) -> int:
        return self.settings.max_body_bytes

    @cached_property
    def authenticator(self) -> Any:
        from switchboard.auth import Authenticator
        from switchboard.store.accounts import AccountStore

        return Authenticator(AccountStore(self.settings.accounts_table), float(self.settings.auth_cache_ttl_seconds))

    @cached_property
    def rate_limiter(self) -> Any:
        from switchboard.adapters import aws_clients as aws
        from switchboard.api.rate_limit import DynamoDbRequestCounter, RateLimiter, log_counter_unavailable

        counter = DynamoDbRequestCounter(self.settings.rate_limit_table, aws.client("dynamodb"))
        return RateLimiter(
            counter, self.settings.account_rate_limit_per_second, self._account_rate_limit, log_counter_unavailable
        )

    def _account_rate_limit(self, api_key: str) -> int | None:
        """The account's own limit, from the record authentication cached (no read on a warm function)."""
        account = self.authenticator.account(api_key)
        return None if account is None else account.rate_limit_per_second

    @cached_property
    def messages(self) -> Any:
        from switchboard.store.messages import MessageStore

        return MessageStore(self.settings.messages_table)

    @cached_property
    def acceptor(self) -> Any:
        from switchboard.api.message_acceptor import MessageAcceptor
        from switchboard.adapters.providers.registry import unconfigured_sender
        from switchboard.store.contacts import ContactStore
        from switchboard.store.links import ChannelLinkStore

        return MessageAcceptor(
            records=self.messages,
            queue=self._outbound_queue,
            contacts=ContactStore(self.settings.contacts_table),
            channels_config=self.channels_config,
            unconfigured_sender=unconfigured_sender,
            sender_links=ChannelLinkStore(self.settings.accounts_table),
            allowed_private_webhook_hosts=self.settings.allowed_private_webhook_hosts,
        )

    @cached_property
    def workflows(self) -> Any:
        from switchboard.store.workflows import WorkflowStore

        return WorkflowStore(self.settings.workflows_table)

    @cached_property
    def workflow_starter(self) -> Any:
        from switchboard.api.workflow_starter import WorkflowStarter
        from switchboard.store.workflows import tag_step_message
        from switchboard.workflows.events import WorkflowEventsQueue
        from switchboard.workflows.launcher import StepLauncher

        launcher = StepLauncher(
            messages=self.messages,
            tag=tag_step_message,
            timers=WorkflowEventsQueue(self.settings.workflow_events_queue_url),
            outbound=self._outbound_queue,
        )
        return WorkflowStarter(
            acceptor=self.acceptor,
            workflows=self.workflows,
            messages=self.messages,
            launcher=launcher,
            retention_seconds=self.settings.retention_seconds,
        )

    @cached_property
    def idempotency(self) -> Any:
        from switchboard.adapters import aws_clients as aws
        from switchboard.api.idempotency import IdempotentRequests

        return IdempotentRequests(self.settings.idempotency_table, aws.client("dynamodb"))

    def channels_config(self) -> Mapping[str, Any]:
        """The channels secret, cached by Powertools for ``SECRETS_MAX_AGE_SECONDS``."""
        from aws_lambda_powertools.utilities import parameters

        return parameters.get_secret(
            self.settings.channels_secret_id, transform="json", max_age=self.settings.secrets_max_age_seconds
        )

    @cached_property
    def _outbound_queue(self) -> Any:
        from switchboard.queues import OutboundQueue

        return OutboundQueue(self.settings.outbound_queue_url)


@cache
def settings() -> ApiSettings:
    return load_settings(ApiSettings)


@cache
def services() -> ApiServices:
    return ApiFunctionServices(settings())


def create_handler(services_of: Callable[[], ApiServices]) -> Callable[[dict, Any], dict]:
    """The function's request handling with the services ``services_of()`` returns."""
    return create_app(services_of).resolve


_resolve = create_handler(services)


def handle(event: dict, context: Any) -> dict:
    settings()  # a deployment missing a variable fails here, before any request is read
    return _resolve(event, context)
