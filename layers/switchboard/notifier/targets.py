"""Where a webhook goes and what signs it, resolved when it is delivered.

Status webhooks: the message's v1 ``webhook_url``, else its application's status URL (JWT-sent
messages), else its account's status URL. Inbound webhooks: the application's inbound URL, else
the account's. The account's signature secret signs every webhook of the account: the one in effect
when the webhook is delivered (after ``switchboard accounts rotate-signature-secret``, the new
secret from its effective time on, the old one before; a retry is signed anew).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from switchboard import clock
from switchboard.domain.notification import INBOUND_URL

if TYPE_CHECKING:
    from switchboard.domain.tenancy import Account, Application

FROM_MESSAGE = "webhook_url"
FROM_APPLICATION = "application"
FROM_ACCOUNT = "account"


class AccountLookup(Protocol):
    """Cached account and application lookups (today ``switchboard.auth.authenticator.Authenticator``)."""

    def account(self, api_key: str) -> Account | None: ...

    def application(self, application_id: str) -> Application | None: ...


@dataclass(frozen=True)
class ResolvedTarget:
    url: str | None  # None: nowhere to send it
    source: str | None  # FROM_MESSAGE | FROM_APPLICATION | FROM_ACCOUNT
    signature_secret: str | None
    api_key: str
    application_id: str | None
    problem: str | None = None  # why url is None


class WebhookTargets:
    def __init__(self, accounts: AccountLookup) -> None:
        self._accounts = accounts

    def resolve(self, target: dict[str, Any]) -> ResolvedTarget:
        api_key = str(target.get("api_key", ""))
        application_id = target.get("application_id") or None
        account = self._accounts.account(api_key) if api_key else None
        if account is None:
            return ResolvedTarget(None, None, None, api_key, application_id, problem="account not found")
        signature_secret = account.signature_secret_at(clock.now())
        url_kind = target.get("url_kind")
        candidates: list[tuple[str, str | None]] = []
        if url_kind != INBOUND_URL:
            candidates.append((FROM_MESSAGE, target.get("webhook_url")))
        if application_id:
            application = self._accounts.application(application_id)
            if application is not None and application.api_key == api_key:
                candidates.append((FROM_APPLICATION, _url_of(application, url_kind)))
        candidates.append((FROM_ACCOUNT, _url_of(account, url_kind)))
        for source, url in candidates:
            if url:
                return ResolvedTarget(url, source, signature_secret, api_key, application_id)
        return ResolvedTarget(None, None, signature_secret, api_key, application_id, problem="no webhook URL configured")


def _url_of(owner: Account | Application, url_kind: object) -> str | None:
    return owner.inbound_url if url_kind == INBOUND_URL else owner.status_url
