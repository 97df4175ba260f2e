"""Account and application items of the AccountsTable as attribute values and as domain objects.

Items hold only strings, numbers and booleans; numbers are read as ``float`` (``_optional_int``
narrows the ones that are whole numbers).
"""
from __future__ import annotations

from typing import Any

from switchboard.domain.tenancy import DUMMY_HASH, DUMMY_SALT, Account, Application

ACCOUNT_PREFIX = "account#"
APPLICATION_PREFIX = "application#"


def attribute_value(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": repr(float(value)) if isinstance(value, float) else str(value)}
    return {"S": str(value)}


def plain_values(item: dict[str, Any]) -> dict[str, Any]:
    """An item's string, number and boolean attributes as Python values."""
    plain: dict[str, Any] = {}
    for name, value in item.items():
        if "S" in value:
            plain[name] = value["S"]
        elif "N" in value:
            plain[name] = float(value["N"])
        elif "BOOL" in value:
            plain[name] = bool(value["BOOL"])
    return plain


def _optional_float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _optional_int(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def account_from(item: dict[str, Any]) -> Account:
    return Account(
        api_key=item["api_key"],
        secret_salt=item["secret_salt"],
        secret_hash=item["secret_hash"],
        signature_secret=item["signature_secret"],
        inbound_url=item.get("inbound_url"),
        status_url=item.get("status_url"),
        disabled=item.get("disabled") is True,
        previous_secret_salt=item.get("previous_secret_salt"),
        previous_secret_hash=item.get("previous_secret_hash"),
        previous_secret_expires_at=_optional_float(item.get("previous_secret_expires_at")),
        next_signature_secret=item.get("next_signature_secret"),
        next_signature_secret_effective_at=_optional_float(item.get("next_signature_secret_effective_at")),
        rate_limit_per_second=_optional_int(item.get("rate_limit_per_second")),
        webhook_version=item.get("webhook_version") or None,
    )


def application_from(item: dict[str, Any]) -> Application:
    return Application(
        application_id=item["application_id"],
        api_key=item["api_key"],
        name=item["name"],
        public_key_pem=item["public_key_pem"],
        inbound_url=item.get("inbound_url"),
        status_url=item.get("status_url"),
        second_public_key_pem=item.get("second_public_key_pem") or None,
        webhook_version=item.get("webhook_version") or None,
    )


# What create_account stores, for get_account to convert when there is no item (values never used).
STAND_IN_ACCOUNT_ITEM: dict[str, Any] = {
    name: {"S": value}
    for name, value in {
        "pk": ACCOUNT_PREFIX + "00000000",
        "kind": "account",
        "api_key": "00000000",
        "secret_salt": DUMMY_SALT,
        "secret_hash": DUMMY_HASH,
        "signature_secret": "0" * 64,
        "status_url": "https://stand-in.invalid/status",
        "created_at": "1970-01-01T00:00:00.000Z",
    }.items()
}
