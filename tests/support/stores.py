"""The product's DynamoDB stores and SQS queues, wired to the test process's environment.

Production code gets its adapters from a ``switchboard.composition`` module; a test that talks to
a store or a queue directly (the session's moto, ``tests/conftest.py``) builds it here. Each class
is the adapter itself, with its client, table or queue URL and retention read from ``os.environ``
when it is built (a test that changes a variable with ``monkeypatch.setenv`` sees the change).
"""
from __future__ import annotations

import os
from functools import cache
from typing import Any

from switchboard.adapters import aws_clients
from switchboard.adapters.dynamodb import account_store, contact_store, link_store, messages_table, workflow_store
from switchboard.adapters.providers.channels_secret import ChannelsSecret
from switchboard.adapters.sqs import notify_queue, outbound_queue, workflow_events_queue
from switchboard.auth.authenticator import Authenticator
from switchboard.notifier.publisher import NotificationPublisher


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise KeyError(f"{name} is not set: the test needs the session's AWS environment (the aws fixture)")
    return value


def retention_seconds() -> int:
    from switchboard.settings import SenderSettings, load_settings

    return load_settings(SenderSettings).retention_seconds


class MessagesTable(messages_table.MessagesTable):
    def __init__(self, table_name: str | None = None) -> None:
        super().__init__(aws_clients.client("dynamodb"), table_name or env("MESSAGES_TABLE"), retention_seconds())


class AccountStore(account_store.AccountStore):
    def __init__(self, table_name: str | None = None) -> None:
        super().__init__(aws_clients.DeferredClient("dynamodb"), table_name or env("ACCOUNTS_TABLE"))


class ChannelLinkStore(link_store.ChannelLinkStore):
    def __init__(self, table_name: str | None = None, cache_ttl_seconds: float = link_store.CACHE_TTL_SECONDS) -> None:
        super().__init__(aws_clients.DeferredClient("dynamodb"), table_name or env("ACCOUNTS_TABLE"), cache_ttl_seconds)


class ContactStore(contact_store.ContactStore):
    def __init__(self, table_name: str | None = None) -> None:
        super().__init__(aws_clients.client("dynamodb"), table_name or env("CONTACTS_TABLE"), retention_seconds())


class WorkflowStore(workflow_store.WorkflowStore):
    def __init__(self, table_name: str | None = None) -> None:
        super().__init__(aws_clients.client("dynamodb"), table_name or env("WORKFLOWS_TABLE"))


class OutboundQueue(outbound_queue.OutboundQueue):
    def __init__(self, queue_url: str | None = None) -> None:
        super().__init__(aws_clients.client("sqs"), queue_url or env("OUTBOUND_QUEUE_URL"))


class NotifyQueue(notify_queue.NotifyQueue):
    def __init__(self, queue_url: str | None = None, dead_letter_url: str | None = None) -> None:
        super().__init__(
            aws_clients.client("sqs"), queue_url or env("NOTIFY_QUEUE_URL"), dead_letter_url or env("NOTIFY_DLQ_URL")
        )


class WorkflowEventsQueue(workflow_events_queue.WorkflowEventsQueue):
    def __init__(self, queue_url: str | None = None) -> None:
        super().__init__(aws_clients.client("sqs"), queue_url or env("WORKFLOW_EVENTS_QUEUE_URL"))


class Notifications(NotificationPublisher):
    """The publisher on the NotifyQueue and the WorkflowEventsQueue."""

    def __init__(self, queue_url: str | None = None, workflow_events: Any = None) -> None:
        super().__init__(NotifyQueue(queue_url=queue_url), workflow_events or WorkflowEventsQueue())


def channels_config() -> dict[str, Any]:
    """The channels secret, read through its adapter with the sender's cache age."""
    from switchboard.settings import SenderSettings, load_settings

    settings = load_settings(SenderSettings)
    return ChannelsSecret(settings.channels_secret_id, settings.secrets_max_age_seconds)()


def wired_authenticator(accounts: Any = None, cache_ttl_seconds: float | None = None, **options: Any) -> Authenticator:
    """The ``Authenticator`` on ``accounts`` (default the accounts table), trusting its cache as the API does
    (``AUTH_CACHE_TTL_SECONDS`` of the environment, else the template's value)."""
    if cache_ttl_seconds is None:
        cache_ttl_seconds = float(os.environ.get("AUTH_CACHE_TTL_SECONDS") or _template_api_settings().auth_cache_ttl_seconds)
    return Authenticator(accounts if accounts is not None else AccountStore(), cache_ttl_seconds, **options)


@cache
def _template_api_settings() -> Any:
    from switchboard.settings import ApiSettings
    from tests.support.settings import settings_for

    return settings_for(ApiSettings)


def notifier_attempted(message_uuid: str, marker: str) -> None:
    """What the notifier records after a webhook's first attempt: the outbox's evidence that it was queued."""
    kind, _, state = marker.partition(":")
    attempt: dict[str, Any] = {"webhook": marker, "kind": kind, "attempt": 1, "outcome": "delivered"}
    if state:
        attempt["status"] = state
    MessagesTable().record_webhook_attempt(message_uuid, attempt)
