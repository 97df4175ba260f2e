"""SenderFunction: the outbound queue -> claim -> provider -> outcome, wired once per process.

``settings()`` reads and checks the environment on the first invocation (a missing queue URL fails
that invocation with one ``SettingsError`` naming every problem, instead of sending nowhere);
``services()`` builds the adapters once, so warm invocations reuse their clients, sessions and
caches. Nothing here touches AWS until ``handle`` runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from switchboard.adapters import aws_clients
from switchboard.adapters.dynamodb.contact_store import ContactStore
from switchboard.adapters.dynamodb.messages_table import MessagesTable
from switchboard.adapters.sqs.batch_runner import BatchRunner
from switchboard.adapters.sqs.notify_queue import NotifyQueue
from switchboard.adapters.sqs.outbound_queue import OutboundQueue, parse_outbound_body
from switchboard.adapters.sqs.workflow_events_queue import WorkflowEventsQueue
from switchboard.domain.message_record import MAX_DELAY_SECONDS
from switchboard.notifier.outbox import Outbox
from switchboard.notifier.publisher import NotificationPublisher
from switchboard.sender.outbound_sender import OutboundSender, SenderPolicy
from switchboard.sender.outcome_metrics import OutcomeTally
from switchboard.sender.send_handler import SendHandler
from switchboard.settings import SenderSettings, load_settings


@dataclass(frozen=True)
class SenderServices:
    handler: SendHandler
    runner: BatchRunner[str]  # outbound bodies decoded to message uuids


@cache
def settings() -> SenderSettings:
    return load_settings(SenderSettings)


@cache
def services() -> SenderServices:
    # Imported on first use, as before the composition module: the API function shares neither.
    from switchboard.adapters.providers import transport
    from switchboard.adapters.providers.channels_secret import ChannelsSecret
    from switchboard.adapters.providers.registry import adapter_for

    s = settings()
    transport.configure(provider_http(s))
    sqs, dynamodb = aws_clients.client("sqs"), aws_clients.client("dynamodb")
    records = MessagesTable(dynamodb, s.messages_table, s.retention_seconds)
    publisher = NotificationPublisher(
        NotifyQueue(sqs, s.notify_queue_url, s.notify_dlq_url), WorkflowEventsQueue(sqs, s.workflow_events_queue_url)
    )
    sender = OutboundSender(
        records=records,
        contacts=ContactStore(dynamodb, s.contacts_table, s.retention_seconds),
        queue=OutboundQueue(sqs, s.outbound_queue_url),
        adapter_for=adapter_for,
        policy=SenderPolicy(
            s.send_max_attempts,
            s.send_retry_base_seconds,
            s.outbound_max_receive_count,
            unknown_outcome_window_seconds=max(1, min(s.unknown_outcome_window_seconds, MAX_DELAY_SECONDS)),
        ),
        outcomes=OutcomeTally(),
        webhooks=Outbox(records, publisher),
    )
    return SenderServices(
        handler=SendHandler(sender, ChannelsSecret(s.channels_secret_id, s.secrets_max_age_seconds)),
        runner=sender_runner(s.sender_concurrency),
    )


def provider_http(s: SenderSettings) -> Any:
    """The provider adapters' HTTP settings (``transport.ProviderHttp``): a pooled connection per concurrent send."""
    from switchboard.adapters.providers.transport import ProviderHttp

    return ProviderHttp(
        s.sender_concurrency,
        s.provider_connect_timeout,
        s.provider_read_timeout,
        containers=s.sender_containers,
        pacing=s.provider_pacing,
    )


def sender_runner(concurrency: int) -> BatchRunner[str]:
    """The batch runner of the outbound queue: ``concurrency`` records at once, no ordering."""
    return BatchRunner("sender", parse_outbound_body, str, concurrency)


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Send every record of an SQS event; ``{"batchItemFailures": [...]}``."""
    current = services()
    return dict(current.handler.run(current.runner, event, context))
