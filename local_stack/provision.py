"""The demo account and application, created through the same provisioning code the CLI uses."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from local_stack.simulators import (
    DEMO_PAGE_ID,
    DEMO_SMS_NUMBER,
    DEMO_SMS_SENDER_ID,
    DEMO_VIBER_SERVICE_ID,
    DEMO_WHATSAPP_NUMBER,
)

DEMO_APPLICATION_NAME = "Switchboard demo"
# (channel, address) of every sender the demo account owns: only it may send from them, and inbound
# messages to them reach the demo application's inbound URL.
DEMO_SENDERS: tuple[tuple[str, str], ...] = (
    ("messenger", DEMO_PAGE_ID),
    ("viber_service_msg", DEMO_VIBER_SERVICE_ID),
    ("sms", DEMO_SMS_NUMBER),
    ("sms", DEMO_SMS_SENDER_ID),
    ("whatsapp", DEMO_WHATSAPP_NUMBER),
)
# The demo account's own request limit, far above the deployment default (AccountRateLimitPerSecond):
# the load run and the integration tests send with it and must measure the stack, not the limit.
DEMO_RATE_LIMIT_PER_SECOND = 100_000


@dataclass(frozen=True)
class DemoCredentials:
    api_key: str
    api_secret: str
    signature_secret: str
    application_id: str
    private_key_path: str


def provision_demo(inbound_url: str, status_url: str, private_key_out: Path) -> DemoCredentials:
    """An account and an application whose webhooks go to ``inbound_url`` / ``status_url``.

    Needs the functions' environment (table names, AWS endpoint) in ``os.environ``.
    """
    from switchboard.provisioning import account_store, provision_account, provision_application

    store = account_store()
    account = provision_account(
        store, inbound_url=inbound_url, status_url=status_url, rate_limit_per_second=DEMO_RATE_LIMIT_PER_SECOND
    )
    private_key_out.unlink(missing_ok=True)
    application = provision_application(
        store,
        account["api_key"],
        DEMO_APPLICATION_NAME,
        inbound_url=inbound_url,
        status_url=status_url,
        private_key_out=private_key_out,
    )
    return DemoCredentials(
        api_key=account["api_key"],
        api_secret=account["api_secret"],
        signature_secret=account["signature_secret"],
        application_id=application["application_id"],
        private_key_path=str(Path(application["private_key_path"]).resolve()),
    )


def demo_is_usable(credentials: DemoCredentials) -> bool:
    """The account takes these credentials, the application is the account's, and its key file is there."""
    from switchboard.provisioning import account_store

    store = account_store()
    account = store.get_account(credentials.api_key)
    application = store.get_application(credentials.application_id)
    return (
        account is not None
        and account.secret_matches(credentials.api_secret)
        and application is not None
        and application.api_key == credentials.api_key
        and Path(credentials.private_key_path).is_file()
    )


def link_demo_channels(credentials: DemoCredentials, senders: Iterable[tuple[str, str]] = DEMO_SENDERS) -> None:
    """Link each ``(channel, address)`` to the demo account and application (see ``DEMO_SENDERS``)."""
    link_senders(credentials.api_key, senders, credentials.application_id)


def link_new_demo_channels(credentials: DemoCredentials) -> None:
    """On a restored state: link the demo senders added since it was saved (those already linked stay)."""
    from switchboard.domain.tenancy import LinkExists

    for sender in DEMO_SENDERS:
        try:
            link_senders(credentials.api_key, [sender], credentials.application_id)
        except LinkExists:
            continue


def link_senders(api_key: str, senders: Iterable[tuple[str, str]], application_id: str | None = None) -> None:
    """Give an account its ``(channel, address)`` senders, as ``switchboard links create`` does.

    An address is a Messenger page id, a Viber service id, an SMS number or an alphanumeric SMS
    sender id. Needs the functions' environment in ``os.environ``, as ``provision_demo`` does.
    """
    from switchboard.adapters.dynamodb.link_store import provision_link
    from switchboard.provisioning import account_store, link_store

    accounts = account_store()
    links = link_store(accounts)
    for channel, address in senders:
        provision_link(accounts, links, channel, address, api_key, application_id)
