"""Moved: accounts and applications to ``switchboard.domain.tenancy``, their storage to
``switchboard.adapters.dynamodb.account_store``. This module is removed when the restructuring completes.
"""
from __future__ import annotations

from switchboard.adapters import aws_clients
from switchboard.adapters.dynamodb import account_store
from switchboard.adapters.dynamodb.account_items import ACCOUNT_PREFIX, APPLICATION_PREFIX  # noqa: F401
from switchboard.adapters.dynamodb.account_store import ConcurrentChange  # noqa: F401
from switchboard.config import settings
from switchboard.domain.tenancy import (  # noqa: F401
    API_SECRET_LENGTH,
    DUMMY_HASH,
    DUMMY_SALT,
    MAX_GRACE_SECONDS,
    MAX_RATE_LIMIT_PER_SECOND,
    Account,
    Application,
    NoSuchApplication,
    SecretHasher,
    UnknownAccount,
    check_rate_limit,
    hash_api_secret,
    new_api_key,
    new_api_secret,
    new_signature_secret,
)


class AccountStore(account_store.AccountStore):
    """The account store on the settings' AccountsTable, looking the client up at every use as before."""

    def __init__(self, table_name: str | None = None) -> None:
        super().__init__(aws_clients.DeferredClient("dynamodb"), table_name or settings().accounts_table)
