"""NotifierFunction: the NotifyQueue -> signed customer webhook, wired once per process.

Settings are read and checked on the first invocation; the adapters (the shared webhook session,
the cached account lookups) live as long as the process, so warm invocations reuse them.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from switchboard.adapters import aws_clients
from switchboard.adapters.dynamodb.account_store import AccountStore
from switchboard.adapters.dynamodb.messages_table import MessagesTable
from switchboard.adapters.dynamodb.workflow_store import WorkflowStore
from switchboard.adapters.sqs.batch_runner import BatchRunner, Ordering
from switchboard.adapters.sqs.notify_queue import NotifyQueue
from switchboard.adapters.webhook_http.webhook_poster import ATTEMPT_SECONDS, WebhookPoster
from switchboard.auth.authenticator import Authenticator
from switchboard.domain.notification import Notification
from switchboard.notifier.delivery import Notifier
from switchboard.notifier.delivery_handler import CONCURRENCY, DeliveryHandler, message_of, status_rank
from switchboard.notifier.targets import WebhookTargets
from switchboard.settings import NotifierSettings, load_settings


@dataclass(frozen=True)
class NotifierServices:
    handler: DeliveryHandler
    runner: BatchRunner[Notification]  # ordered per message


@cache
def settings() -> NotifierSettings:
    return load_settings(NotifierSettings)


@cache
def services() -> NotifierServices:
    s = settings()
    dynamodb = aws_clients.client("dynamodb")
    accounts = Authenticator(AccountStore(dynamodb, s.accounts_table), cache_ttl_seconds=s.auth_cache_ttl_seconds)
    messages = MessagesTable(dynamodb, s.messages_table, s.retention_seconds)
    notifier = Notifier(
        targets=WebhookTargets(accounts),
        poster=WebhookPoster(allowed_private_hosts=s.allowed_private_webhook_hosts),
        queues=NotifyQueue(aws_clients.client("sqs"), s.notify_queue_url, s.notify_dlq_url),
        attempts=messages,
        leases=messages,
        workflow_attempts=WorkflowStore(dynamodb, s.workflows_table),
    )
    return NotifierServices(handler=DeliveryHandler(notifier, ATTEMPT_SECONDS), runner=notifier_runner())


def notifier_runner() -> BatchRunner[Notification]:
    """The NotifyQueue's batch runner: concurrent, one message's webhooks in status order."""
    return BatchRunner("notifier", Notification.from_json, message_of, CONCURRENCY, Ordering(message_of, status_rank))


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Deliver every record of an SQS event; ``{"batchItemFailures": [...]}``."""
    current = services()
    return dict(current.handler.run(current.runner, event, context))
