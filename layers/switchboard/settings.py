"""Each function's settings, read once from the environment ``template.yaml`` gives it, and checked.

``load_settings(SenderSettings)`` returns a frozen ``SenderSettings`` or raises ``SettingsError``
naming the function and *every* missing, empty or malformed variable at once, so a broken
deployment fails its first invocation with one clear log line instead of, say, sending to an empty
queue URL. Required variables have no default; optional ones the template's. Each class lists only
what its function reads; a unit test checks every variable against the function's ``Environment``
in ``template.yaml``. ``ProvisioningSettings`` is what the operator tools (the CLI, the local
stack) read from the same variables.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar, TypeVar, get_type_hints

SettingsT = TypeVar("SettingsT")


class SettingsError(Exception):
    """The environment does not give a function what it needs."""


def required(variable: str) -> Any:
    return field(metadata={"env": variable})


def optional(variable: str, default: Any) -> Any:
    return field(default=default, metadata={"env": variable})


def variable_of(settings_field: Any) -> str:
    """The environment variable a settings field is read from."""
    return settings_field.metadata["env"]


def is_required(settings_field: Any) -> bool:
    return settings_field.default is MISSING


def load_settings(cls: type[SettingsT], environ: Mapping[str, str] | None = None) -> SettingsT:
    """``cls`` built from ``environ`` (default ``os.environ``); raises ``SettingsError`` listing every problem."""
    env = os.environ if environ is None else environ
    types = get_type_hints(cls)
    values: dict[str, Any] = {}
    missing: list[str] = []
    malformed: list[str] = []
    for item in fields(cls):  # type: ignore[arg-type]
        name = variable_of(item)
        raw = env.get(name, "").strip()
        if not raw:
            if is_required(item):
                missing.append(name)
            continue
        try:
            values[item.name] = _parse(types[item.name], raw)
        except ValueError as exc:
            malformed.append(f"{name}={raw!r} {exc}")
    if missing or malformed:
        problems = ([f"missing {', '.join(missing)}"] if missing else []) + malformed
        raise SettingsError(f"{getattr(cls, 'function', cls.__name__)}: {'; '.join(problems)}")
    return cls(**values)


def _parse(kind: Any, raw: str) -> Any:
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError("is not an integer") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError("is not a number") from None
    if kind is bool:
        value = raw.strip().lower()
        if value not in ("true", "false"):
            raise ValueError("is not true or false")
        return value == "true"
    if kind == tuple[str, ...]:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


class _Retention:
    retention_days: int

    @property
    def retention_seconds(self) -> int:
        return self.retention_days * 86400


@dataclass(frozen=True, kw_only=True)
class ApiSettings(_Retention):
    function: ClassVar[str] = "ApiFunction"
    messages_table: str = required("MESSAGES_TABLE")
    accounts_table: str = required("ACCOUNTS_TABLE")
    idempotency_table: str = required("IDEMPOTENCY_TABLE")
    contacts_table: str = required("CONTACTS_TABLE")
    workflows_table: str = required("WORKFLOWS_TABLE")
    outbound_queue_url: str = required("OUTBOUND_QUEUE_URL")
    notify_queue_url: str = required("NOTIFY_QUEUE_URL")
    notify_dlq_url: str = required("NOTIFY_DLQ_URL")
    workflow_events_queue_url: str = required("WORKFLOW_EVENTS_QUEUE_URL")
    channels_secret_id: str = required("CHANNELS_SECRET_ID")
    rate_limit_table: str = required("RATE_LIMIT_TABLE")
    account_rate_limit_per_second: int = optional("ACCOUNT_RATE_LIMIT_PER_SECOND", 30)
    auth_cache_ttl_seconds: int = optional("AUTH_CACHE_TTL_SECONDS", 60)
    allowed_private_webhook_hosts: tuple[str, ...] = optional("ALLOWED_PRIVATE_WEBHOOK_HOSTS", ())
    retention_days: int = optional("RETENTION_DAYS", 90)
    max_body_bytes: int = optional("MAX_BODY_BYTES", 64 * 1024)
    sender_concurrency: int = optional("SENDER_CONCURRENCY", 10)
    provider_connect_timeout: float = optional("PROVIDER_CONNECT_TIMEOUT", 3.05)
    provider_read_timeout: float = optional("PROVIDER_READ_TIMEOUT", 10.0)
    secrets_max_age_seconds: int = optional("SECRETS_MAX_AGE_SECONDS", 300)


@dataclass(frozen=True, kw_only=True)
class WebhooksSettings(_Retention):
    function: ClassVar[str] = "WebhooksFunction"
    messages_table: str = required("MESSAGES_TABLE")
    accounts_table: str = required("ACCOUNTS_TABLE")
    contacts_table: str = required("CONTACTS_TABLE")
    outbound_queue_url: str = required("OUTBOUND_QUEUE_URL")
    notify_queue_url: str = required("NOTIFY_QUEUE_URL")
    notify_dlq_url: str = required("NOTIFY_DLQ_URL")
    workflow_events_queue_url: str = required("WORKFLOW_EVENTS_QUEUE_URL")
    channels_secret_id: str = required("CHANNELS_SECRET_ID")
    viber_callback_allowed_cidrs: tuple[str, ...] = optional("VIBER_CALLBACK_ALLOWED_CIDRS", ())
    allow_unsigned_sms_webhooks: bool = optional("ALLOW_UNSIGNED_SMS_WEBHOOKS", False)
    retention_days: int = optional("RETENTION_DAYS", 90)
    auth_cache_ttl_seconds: int = optional("AUTH_CACHE_TTL_SECONDS", 60)  # owners' webhook settings, cached
    secrets_max_age_seconds: int = optional("SECRETS_MAX_AGE_SECONDS", 300)


@dataclass(frozen=True, kw_only=True)
class SenderSettings(_Retention):
    function: ClassVar[str] = "SenderFunction"
    messages_table: str = required("MESSAGES_TABLE")
    contacts_table: str = required("CONTACTS_TABLE")
    outbound_queue_url: str = required("OUTBOUND_QUEUE_URL")
    notify_queue_url: str = required("NOTIFY_QUEUE_URL")
    notify_dlq_url: str = required("NOTIFY_DLQ_URL")
    workflow_events_queue_url: str = required("WORKFLOW_EVENTS_QUEUE_URL")
    channels_secret_id: str = required("CHANNELS_SECRET_ID")
    retention_days: int = optional("RETENTION_DAYS", 90)
    send_max_attempts: int = optional("SEND_MAX_ATTEMPTS", 5)
    send_retry_base_seconds: int = optional("SEND_RETRY_BASE_SECONDS", 2)
    outbound_max_receive_count: int = optional("OUTBOUND_MAX_RECEIVE_COUNT", 8)
    sender_concurrency: int = optional("SENDER_CONCURRENCY", 10)
    # Most sender containers at once (the event source's MaximumConcurrency): each paces its share of a
    # provider's send rate limit (switchboard.adapters.providers.pacing).
    sender_containers: int = optional("SENDER_CONTAINERS", 1)
    # false: no pacing in this function (limits raised by the provider beyond the built-in figures;
    # the benchmarks of the sender's own overhead).
    provider_pacing: bool = optional("PROVIDER_PACING", True)
    provider_connect_timeout: float = optional("PROVIDER_CONNECT_TIMEOUT", 3.05)
    provider_read_timeout: float = optional("PROVIDER_READ_TIMEOUT", 10.0)
    secrets_max_age_seconds: int = optional("SECRETS_MAX_AGE_SECONDS", 300)
    # How long an SMS whose provider answer was lost waits for a delivery receipt (at most 900 s).
    unknown_outcome_window_seconds: int = optional("UNKNOWN_OUTCOME_WINDOW_SECONDS", 900)


@dataclass(frozen=True, kw_only=True)
class NotifierSettings(_Retention):
    function: ClassVar[str] = "NotifierFunction"
    messages_table: str = required("MESSAGES_TABLE")
    workflows_table: str = required("WORKFLOWS_TABLE")  # final reports' delivery attempts
    accounts_table: str = required("ACCOUNTS_TABLE")
    outbound_queue_url: str = required("OUTBOUND_QUEUE_URL")
    notify_queue_url: str = required("NOTIFY_QUEUE_URL")
    notify_dlq_url: str = required("NOTIFY_DLQ_URL")
    allowed_private_webhook_hosts: tuple[str, ...] = optional("ALLOWED_PRIVATE_WEBHOOK_HOSTS", ())
    auth_cache_ttl_seconds: int = optional("AUTH_CACHE_TTL_SECONDS", 60)
    retention_days: int = optional("RETENTION_DAYS", 90)


@dataclass(frozen=True, kw_only=True)
class WorkflowSettings(_Retention):
    function: ClassVar[str] = "WorkflowFunction"
    messages_table: str = required("MESSAGES_TABLE")
    workflows_table: str = required("WORKFLOWS_TABLE")
    outbound_queue_url: str = required("OUTBOUND_QUEUE_URL")
    notify_queue_url: str = required("NOTIFY_QUEUE_URL")
    notify_dlq_url: str = required("NOTIFY_DLQ_URL")
    workflow_events_queue_url: str = required("WORKFLOW_EVENTS_QUEUE_URL")
    retention_days: int = optional("RETENTION_DAYS", 90)


@dataclass(frozen=True, kw_only=True)
class ProvisioningSettings:
    """Accounts, applications and sender links, written by the CLI and the local stack (not a function)."""

    accounts_table: str = required("ACCOUNTS_TABLE")


@dataclass(frozen=True, kw_only=True)
class WebhookUrlSettings:
    """Hosts the operator tools accept as webhook targets although they are not public (the local sink)."""

    allowed_private_webhook_hosts: tuple[str, ...] = optional("ALLOWED_PRIVATE_WEBHOOK_HOSTS", ())


FUNCTION_SETTINGS: tuple[type, ...] = (ApiSettings, WebhooksSettings, SenderSettings, NotifierSettings, WorkflowSettings)
