"""An account with one application that owns the local stack's demo senders, for the tests and the bench."""
from __future__ import annotations

from pathlib import Path
from typing import Any


def provision_sender_owner(private_key_out: Path, rate_limit_per_second: int, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(account, application) from the product's own provisioning; the application's key goes to ``private_key_out``.

    Needs the functions' environment (table names, AWS) in ``os.environ``. The account owns
    ``local_stack.provision.DEMO_SENDERS`` (the demo page, Viber service, SMS number and "Acme").
    """
    from local_stack.provision import DEMO_SENDERS, link_senders
    from switchboard.provisioning import provision_account, provision_application
    from tests.support.stores import AccountStore

    store = AccountStore()
    account = provision_account(store, rate_limit_per_second=rate_limit_per_second)
    application = provision_application(store, account["api_key"], name, private_key_out=private_key_out)
    link_senders(account["api_key"], DEMO_SENDERS)
    return account, application
