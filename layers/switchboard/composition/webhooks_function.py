"""WebhooksFunction: its settings, the services the provider webhook routes use, and ``handle``.

Importing this module builds the routes only (no settings, no AWS client): the first invocation
reads ``WebhooksSettings`` and fails right there, naming every missing or malformed variable, when
the deployment does not give the function what it needs. Each service is built the first time a
request needs it (a Messenger handshake builds no status service), once per warm function.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache, cached_property
from typing import Any

from switchboard.receipts.receipt_ports import InboundAcceptor, StatusUpdates, WebhookServices
from switchboard.receipts.webhook_routes import create_app
from switchboard.settings import WebhooksSettings, load_settings


class WebhookFunctionServices:
    """The production ``WebhookServices``: DynamoDB, the notify and workflow-events queues, the channels secret."""

    def __init__(self, settings: WebhooksSettings) -> None:
        self.settings = settings

    @cached_property
    def statuses(self) -> StatusUpdates:
        from switchboard.receipts.status_machine import StatusService

        return StatusService(self._messages, self._notifications)

    @cached_property
    def inbound(self) -> InboundAcceptor:
        from switchboard.receipts.inbound_intake import InboundIntake
        from switchboard.receipts.inbound_routing import InboundService
        from switchboard.adapters import aws_clients
        from switchboard.adapters.dynamodb.account_store import AccountStore
        from switchboard.adapters.dynamodb.link_store import ChannelLinkStore
        from switchboard.auth.cached_accounts import CachedAccounts

        dynamodb, s = aws_clients.client("dynamodb"), self.settings
        links = ChannelLinkStore(dynamodb, s.accounts_table)
        owners = CachedAccounts(AccountStore(dynamodb, s.accounts_table), s.auth_cache_ttl_seconds)
        return InboundService(links, InboundIntake(self._messages, self._notifications), owners)

    @cached_property
    def whatsapp_replies(self) -> Any:
        from switchboard.adapters import aws_clients
        from switchboard.adapters.dynamodb.link_store import ChannelLinkStore
        from switchboard.receipts.whatsapp_replies import RepliedMessages

        links = ChannelLinkStore(aws_clients.client("dynamodb"), self.settings.accounts_table)
        return RepliedMessages(self._messages, links)

    @cached_property
    def whatsapp_windows(self) -> Any:
        from switchboard.adapters import aws_clients
        from switchboard.adapters.dynamodb.whatsapp_window_store import WhatsAppWindowStore

        s = self.settings
        return WhatsAppWindowStore(aws_clients.client("dynamodb"), s.contacts_table, s.retention_seconds)

    @property
    def viber_allowed_cidrs(self) -> Sequence[str]:
        return self.settings.viber_callback_allowed_cidrs

    @property
    def allow_unsigned_sms(self) -> bool:
        return self.settings.allow_unsigned_sms_webhooks

    def channels_config(self) -> Mapping[str, Any]:
        """The channels secret, cached by Powertools for ``SECRETS_MAX_AGE_SECONDS``."""
        from aws_lambda_powertools.utilities import parameters

        return parameters.get_secret(
            self.settings.channels_secret_id, transform="json", max_age=self.settings.secrets_max_age_seconds
        )

    @cached_property
    def _messages(self) -> Any:
        from switchboard.adapters import aws_clients
        from switchboard.adapters.dynamodb.messages_table import MessagesTable

        return MessagesTable(aws_clients.client("dynamodb"), self.settings.messages_table, self.settings.retention_seconds)

    @cached_property
    def _notifications(self) -> Any:
        from switchboard.adapters import aws_clients
        from switchboard.adapters.sqs.notify_queue import NotifyQueue
        from switchboard.adapters.sqs.workflow_events_queue import WorkflowEventsQueue
        from switchboard.notifier.publisher import NotificationPublisher

        sqs, s = aws_clients.client("sqs"), self.settings
        return NotificationPublisher(
            NotifyQueue(sqs, s.notify_queue_url, s.notify_dlq_url), WorkflowEventsQueue(sqs, s.workflow_events_queue_url)
        )


@cache
def settings() -> WebhooksSettings:
    return load_settings(WebhooksSettings)


@cache
def services() -> WebhookServices:
    return WebhookFunctionServices(settings())


def create_handler(services_of: Callable[[], WebhookServices]) -> Callable[[dict, Any], dict]:
    """The function's request handling with the services ``services_of()`` returns."""
    return create_app(services_of).resolve


_resolve = create_handler(services)


def handle(event: dict, context: Any) -> dict:
    settings()  # a deployment missing a variable fails here, before any request is read
    return _resolve(event, context)
