"""The tenants the attacks involve: the stack's demo account (the victim) and accounts made for the attacks.

New accounts are made as an operator makes them, with the CLI's provisioning functions
(``switchboard.provisioning``, and ``switchboard.adapters.dynamodb.link_store`` through the local stack's
``link_senders``) run against the stack's moto server. Each
gets an application with its own key pair, one SMS number linked to it (a sender it owns), and
webhook URLs at the stack's webhook sink under ``/tenants/<name>/`` so what reaches it can be told
apart from the demo account's webhooks.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local_stack.simulators import DEMO_PAGE_ID, DEMO_SMS_NUMBER, DEMO_SMS_SENDER_ID, DEMO_VIBER_SERVICE_ID
from tests.support.stack import RunningStack
# What the rate limit lets a test account do (the attribute and value the rate-limit contract names),
# so attacks sent back to back are never throttled unless a test asks for a low limit.
RATE_LIMIT_ATTRIBUTE = "rate_limit_per_second"
UNTHROTTLED_PER_SECOND = 100_000
LOCAL_REGION = "us-east-1"


@dataclass(frozen=True)
class Tenant:
    """An account with its credentials, one application and the senders it owns."""

    name: str
    api_key: str
    api_secret: str
    signature_secret: str
    application_id: str
    private_key_path: str
    sms_number: str  # a number linked to this account
    page_id: str | None = None  # a Messenger page linked to it (the demo account only)
    viber_service_id: str | None = None
    sender_id: str | None = None  # an alphanumeric SMS sender ID linked to it

    @property
    def auth(self) -> tuple[str, str]:
        return (self.api_key, self.api_secret)

    def private_key_pem(self) -> bytes:
        return Path(self.private_key_path).read_bytes()

    def sink_path(self, kind: str) -> str:
        """The sink path of this tenant's ``status`` or ``inbound`` webhooks (new tenants only)."""
        return f"/tenants/{self.name}/{kind}"


def demo_tenant(stack: RunningStack) -> Tenant:
    """The stack's demo account: it owns the demo page, Viber service, SMS number and sender ID."""
    return Tenant(
        name="demo",
        api_key=stack.api_key,
        api_secret=stack.api_secret,
        signature_secret=stack.signature_secret,
        application_id=stack.application_id,
        private_key_path=stack.private_key_path,
        sms_number=DEMO_SMS_NUMBER,
        page_id=DEMO_PAGE_ID,
        viber_service_id=DEMO_VIBER_SERVICE_ID,
        sender_id=DEMO_SMS_SENDER_ID,
    )


def sink_netloc(stack: RunningStack) -> str:
    """``host:port`` of the webhook sink: the demo account's status URL points at it."""
    item = accounts_item(stack, stack.api_key)
    return urlsplit(item["status_url"]["S"]).netloc


def accounts_table(stack: RunningStack) -> str:
    return stack.outputs()["AccountsTableName"]


def accounts_item(stack: RunningStack, api_key: str) -> dict[str, Any]:
    return stack.boto3_client("dynamodb").get_item(
        TableName=accounts_table(stack), Key={"pk": {"S": f"account#{api_key}"}}, ConsistentRead=True
    )["Item"]


def set_rate_limit(stack: RunningStack, api_key: str, per_second: int) -> None:
    """The account's own request limit (read by the API when it first authenticates the account)."""
    stack.boto3_client("dynamodb").update_item(
        TableName=accounts_table(stack),
        Key={"pk": {"S": f"account#{api_key}"}},
        UpdateExpression="SET #limit = :limit",
        ExpressionAttributeNames={"#limit": RATE_LIMIT_ATTRIBUTE},
        ExpressionAttributeValues={":limit": {"N": str(per_second)}},
    )


def unique_sms_number() -> str:
    """A 15-digit number no other test links or sends to."""
    return "4477" + "".join(secrets.choice("0123456789") for _ in range(11))


@contextmanager
def stack_aws(stack: RunningStack) -> Iterator[None]:
    """This process's ``switchboard`` code talks to the stack's moto server, as the CLI does, until the block ends.

    The webhook sink is the stack's one private webhook host (``AllowedPrivateWebhookHosts``), so URLs
    at the sink pass the SSRF guard here as they do in the stack. Everything is put back afterwards:
    unit tests running later in this process must not reach the stack.
    """
    from switchboard.adapters import aws_clients as aws
    wanted = {
        "AWS_ENDPOINT_URL": stack.aws_endpoint_url,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "ACCOUNTS_TABLE": accounts_table(stack),
        "ALLOWED_PRIVATE_WEBHOOK_HOSTS": sink_netloc(stack),
    }
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    aws.reset_clients()
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        aws.reset_clients()


def provision_tenant(
    stack: RunningStack, name: str, key_dir: Path, rate_limit_per_second: int = UNTHROTTLED_PER_SECOND
) -> Tenant:
    """A new account, its application and a linked SMS number, with webhooks at the sink under ``/tenants/<name>/``."""
    from local_stack.provision import link_senders
    from switchboard.provisioning import provision_account, provision_application
    from tests.support.stores import AccountStore

    base = f"http://{sink_netloc(stack)}/tenants/{name}"
    inbound_url, status_url = f"{base}/inbound", f"{base}/status"
    number = unique_sms_number()
    with stack_aws(stack):
        store = AccountStore()
        account = provision_account(store, inbound_url=inbound_url, status_url=status_url)
        # Before the account's first request: the API caches an account once it has read it.
        set_rate_limit(stack, account["api_key"], rate_limit_per_second)
        application = provision_application(
            store,
            account["api_key"],
            f"{name} application",
            inbound_url=inbound_url,
            status_url=status_url,
            private_key_out=key_dir / f"{name}.key",
        )
        link_senders(account["api_key"], [("sms", number)], application["application_id"])
    return Tenant(
        name=name,
        api_key=account["api_key"],
        api_secret=account["api_secret"],
        signature_secret=account["signature_secret"],
        application_id=application["application_id"],
        private_key_path=application["private_key_path"],
        sms_number=number,
    )
