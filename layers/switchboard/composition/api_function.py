"""ApiFunction: its settings, the services the API routes use, and ``handle``.

Importing this module builds the routes only (no settings, no AWS client, no boto3): the first
invocation reads ``ApiSettings`` and fails right there, naming every missing or malformed variable,
when the deployment does not give the function what it needs. Each service is built the first time
a request needs it (``/health`` builds none, a lookup no acceptor), once per warm function.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache, cached_property, partial
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
        from switchboard.adapters.dynamodb.account_store import AccountStore
        from switchboard.auth import Authenticator

        accounts = AccountStore(self._dynamodb, self.settings.accounts_table)
        return Authenticator(accounts, float(self.settings.auth_cache_ttl_seconds))

    @cached_property
    def rate_limiter(self) -> Any:
        from switchboard.api.rate_limit import DynamoDbRequestCounter, RateLimiter, log_counter_unavailable

        counter = DynamoDbRequestCounter(self.settings.rate_limit_table, self._dynamodb)
        return RateLimiter(
            counter, self.settings.account_rate_limit_per_second, self._account_rate_limit, log_counter_unavailable
        )

    def _account_rate_limit(self, api_key: str) -> int | None:
        """The account's own limit, from the record authentication cached (no read on a warm function)."""
        account = self.authenticator.account(api_key)
        return None if account is None else account.rate_limit_per_second

    @cached_property
    def messages(self) -> Any:
        from switchboard.adapters.dynamodb.messages_table import MessagesTable

        return MessagesTable(self._dynamodb, self.settings.messages_table, self.settings.retention_seconds)

    @cached_property
    def acceptor(self) -> Any:
        from switchboard.api.message_acceptor import MessageAcceptor
        from switchboard.adapters.providers.registry import unconfigured_sender
        from switchboard.adapters.dynamodb.contact_store import ContactStore
        from switchboard.adapters.webhook_http.ssrf_guard import check_webhook_url
        from switchboard.adapters.dynamodb.link_store import ChannelLinkStore

        return MessageAcceptor(
            records=self.messages,
            queue=self._outbound_queue,
            contacts=ContactStore(self._dynamodb, self.settings.contacts_table, self.settings.retention_seconds),
            channels_config=self.channels_config,
            unconfigured_sender=unconfigured_sender,
            sender_links=self.sender_links,
            check_webhook_url=partial(check_webhook_url, allowed_private_hosts=self.settings.allowed_private_webhook_hosts),
            whatsapp_windows=self.whatsapp_windows,
        )

    @cached_property
    def whatsapp_cloud(self) -> Any:
        from switchboard.adapters.providers.whatsapp_api import WhatsAppCloud

        return WhatsAppCloud()

    @cached_property
    def sender_links(self) -> Any:
        from switchboard.adapters.dynamodb.link_store import ChannelLinkStore

        return ChannelLinkStore(self._dynamodb, self.settings.accounts_table)

    @cached_property
    def whatsapp_windows(self) -> Any:
        from switchboard.adapters.dynamodb.whatsapp_window_store import WhatsAppWindowStore

        return WhatsAppWindowStore(self._dynamodb, self.settings.contacts_table, self.settings.retention_seconds)

    @cached_property
    def workflows(self) -> Any:
        from switchboard.adapters.dynamodb.workflow_store import WorkflowStore

        return WorkflowStore(self._dynamodb, self.settings.workflows_table)

    @cached_property
    def workflow_starter(self) -> Any:
        from switchboard.api.workflow_starter import WorkflowStarter
        from switchboard.adapters import aws_clients
        from switchboard.adapters.sqs.workflow_events_queue import WorkflowEventsQueue
        from switchboard.workflows.launcher import StepLauncher

        launcher = StepLauncher(
            messages=self.messages,
            tag=self.messages.tag_workflow_step,
            timers=WorkflowEventsQueue(aws_clients.client("sqs"), self.settings.workflow_events_queue_url),
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
        from switchboard.api.idempotency import IdempotentRequests

        return IdempotentRequests(self.settings.idempotency_table, self._dynamodb)

    def channels_config(self) -> Mapping[str, Any]:
        """The channels secret, cached by Powertools for ``SECRETS_MAX_AGE_SECONDS``.

        Provider HTTP is configured on first use, for the WhatsApp calls the API makes."""
        from aws_lambda_powertools.utilities import parameters

        from switchboard.adapters.providers import transport

        s = self.settings
        transport.configure_once(
            transport.ProviderHttp(s.sender_concurrency, s.provider_connect_timeout, s.provider_read_timeout)
        )
        return parameters.get_secret(
            self.settings.channels_secret_id, transform="json", max_age=self.settings.secrets_max_age_seconds
        )

    @cached_property
    def _outbound_queue(self) -> Any:
        from switchboard.adapters import aws_clients
        from switchboard.adapters.sqs.outbound_queue import OutboundQueue

        return OutboundQueue(aws_clients.client("sqs"), self.settings.outbound_queue_url)

    @property
    def _dynamodb(self) -> Any:
        from switchboard.adapters import aws_clients

        return aws_clients.client("dynamodb")


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
