"""Deployment settings, read from the environment the template gives every function.

The local stack sets the same variables (resolved from ``template.yaml``), so the code cannot tell
the difference.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _list(name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in os.environ.get(name, "").split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    messages_table: str
    accounts_table: str
    idempotency_table: str
    contacts_table: str
    workflows_table: str
    workflow_events_queue_url: str
    outbound_queue_url: str
    notify_queue_url: str
    notify_dlq_url: str
    allowed_private_webhook_hosts: tuple[str, ...]  # host[:port] exempt from the SSRF guard (local sink)
    viber_callback_allowed_cidrs: tuple[str, ...]
    allow_unsigned_sms_webhooks: bool  # accept SMS webhooks unsigned when sms.signature_secret is empty
    channels_secret_id: str
    retention_days: int
    send_max_attempts: int
    send_retry_base_seconds: int
    outbound_max_receive_count: int
    max_body_bytes: int
    sender_concurrency: int
    provider_connect_timeout: float
    provider_read_timeout: float
    secrets_max_age_seconds: int
    rate_limit_table: str
    account_rate_limit_per_second: int  # the template's AccountRateLimitPerSecond; accounts may override it
    auth_cache_ttl_seconds: int  # how long a warm function trusts a cached account/application record

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86400


@lru_cache(maxsize=1)
def settings() -> Settings:
    env = os.environ
    return Settings(
        messages_table=env.get("MESSAGES_TABLE", "switchboard-messages"),
        accounts_table=env.get("ACCOUNTS_TABLE", "switchboard-accounts"),
        idempotency_table=env.get("IDEMPOTENCY_TABLE", "switchboard-idempotency"),
        contacts_table=env.get("CONTACTS_TABLE", "switchboard-contacts"),
        workflows_table=env.get("WORKFLOWS_TABLE", "switchboard-workflows"),
        workflow_events_queue_url=env.get("WORKFLOW_EVENTS_QUEUE_URL", ""),
        outbound_queue_url=env.get("OUTBOUND_QUEUE_URL", ""),
        notify_queue_url=env.get("NOTIFY_QUEUE_URL", ""),
        notify_dlq_url=env.get("NOTIFY_DLQ_URL", ""),
        allowed_private_webhook_hosts=_list("ALLOWED_PRIVATE_WEBHOOK_HOSTS"),
        viber_callback_allowed_cidrs=_list("VIBER_CALLBACK_ALLOWED_CIDRS"),
        allow_unsigned_sms_webhooks=env.get("ALLOW_UNSIGNED_SMS_WEBHOOKS", "false").strip().lower() == "true",
        channels_secret_id=env.get("CHANNELS_SECRET_ID", "switchboard/channels"),
        retention_days=_int("RETENTION_DAYS", 90),
        send_max_attempts=_int("SEND_MAX_ATTEMPTS", 5),
        send_retry_base_seconds=_int("SEND_RETRY_BASE_SECONDS", 2),
        outbound_max_receive_count=_int("OUTBOUND_MAX_RECEIVE_COUNT", 8),
        max_body_bytes=_int("MAX_BODY_BYTES", 64 * 1024),
        sender_concurrency=_int("SENDER_CONCURRENCY", 10),
        provider_connect_timeout=float(env.get("PROVIDER_CONNECT_TIMEOUT", "3.05")),
        provider_read_timeout=float(env.get("PROVIDER_READ_TIMEOUT", "10")),
        secrets_max_age_seconds=_int("SECRETS_MAX_AGE_SECONDS", 300),
        rate_limit_table=env.get("RATE_LIMIT_TABLE", "switchboard-rate-limit"),
        account_rate_limit_per_second=_int("ACCOUNT_RATE_LIMIT_PER_SECOND", 30),
        auth_cache_ttl_seconds=_int("AUTH_CACHE_TTL_SECONDS", 60),
    )


def reset_settings() -> None:
    """Tests and the local stack: re-read the environment."""
    settings.cache_clear()
