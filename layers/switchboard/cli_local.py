"""``switchboard local ...``: commands that only make sense against the local stack.

    switchboard local add-sender --api-key KEY --channel messenger|viber_service_msg|sms|whatsapp [--address ID]
                                 [--application-id ID]

gives a local account a sender of its own, as the demo account has: a simulated Messenger page (with
a page access token), Viber service, SMS number or WhatsApp business number (with a phone number id
and an access token) is added to the local channels secret, which the
provider simulators serve, and linked to the account, so the account may send from it and inbound
messages to it reach the account (or the application). Without ``--address`` a new one is made up.
The local functions re-read the channels secret every 2 s (``SECRETS_MAX_AGE_SECONDS`` is short
locally); the command returns once they have, so the sender can be used as soon as it returns.
"""
from __future__ import annotations

import argparse
import json
import secrets
import string
import time
from typing import Any

CHANNELS = ("messenger", "viber_service_msg", "sms", "whatsapp")
WHATSAPP_NUMBER_ID_DIGITS = 15
PAGE_ID_DIGITS = 15
SERVICE_ID_DIGITS = 5
SMS_NUMBER_PREFIX = "4477009"  # the UK's drama range, as the demo number; 5 more random digits
SMS_NUMBER_DIGITS = 5
PAGE_TOKEN_PREFIX = "EAA"  # as Facebook's page access tokens start
PAGE_TOKEN_LENGTH = 60
NEW_ADDRESS_ATTEMPTS = 5
# How long the local functions keep the channels secret cached (the local stack's SECRETS_MAX_AGE_SECONDS,
# local_stack.stack.LOCAL_FUNCTION_ENVIRONMENT): the command returns once they have re-read it.
LOCAL_SECRETS_MAX_AGE_SECONDS = 2


def add_parser(commands: Any, parent: argparse.ArgumentParser, parser_class: type[argparse.ArgumentParser]) -> None:
    """The ``local`` group, under the CLI's ``commands``; ``parent`` holds the target options."""
    local = commands.add_parser("local", help="the local stack only: simulated senders for your own accounts")
    local_cmds = local.add_subparsers(dest="command", required=True, metavar="{add-sender}", parser_class=parser_class)
    add = local_cmds.add_parser(
        "add-sender",
        parents=[parent],
        help="give a local account its own simulated page, Viber service or SMS number; prints JSON",
        description=(
            "Adds a Messenger page, Viber service or SMS number to the local stack's channels secret (the "
            "provider simulators serve it like the demo ones) and links it to the account: the account may "
            "send from it, and inbound messages to it reach the account's (or the application's) inbound URL."
        ),
    )
    add.add_argument("--api-key", required=True, metavar="KEY", help="the account that gets the sender")
    add.add_argument("--channel", required=True, choices=CHANNELS, help="the channel of the sender")
    add.add_argument(
        "--address", metavar="ID",
        help="the page id, Viber service id or SMS number (digits, a leading + is dropped); default: a new one",
    )
    add.add_argument("--application-id", metavar="ID", help="the account's application whose inbound URL gets messages")


def run(args: argparse.Namespace, accounts: Any, channels_secret_id: str) -> dict[str, Any]:
    from switchboard.adapters import aws_clients
    from switchboard.adapters.dynamodb.link_store import provision_link
    from switchboard.domain.tenancy import LinkExists
    from switchboard.provisioning import link_store

    links = link_store(accounts)
    client = aws_clients.client("secretsmanager")
    attempts = 1 if args.address else NEW_ADDRESS_ATTEMPTS
    for attempt in range(attempts):
        address = args.address or new_address(args.channel)
        try:
            link = provision_link(accounts, links, args.channel, address, args.api_key, args.application_id)
            break
        except LinkExists:
            if args.address or attempt == attempts - 1:
                raise
    try:
        channels = json.loads(client.get_secret_value(SecretId=channels_secret_id)["SecretString"])
        updated = with_sender(channels, link.channel.value, link.address)
        client.put_secret_value(SecretId=channels_secret_id, SecretString=json.dumps(updated))
    except Exception:
        links.unlink(link.channel, link.address, api_key=link.api_key)  # no half-added sender
        raise
    time.sleep(LOCAL_SECRETS_MAX_AGE_SECONDS + 0.5)  # until every function's cached secret has expired
    return link.to_dict()


def new_address(channel: str) -> str:
    if channel == "messenger":
        return secrets.choice("123456789") + _digits(PAGE_ID_DIGITS - 1)
    if channel == "viber_service_msg":
        return secrets.choice("123456789") + _digits(SERVICE_ID_DIGITS - 1)
    return SMS_NUMBER_PREFIX + _digits(SMS_NUMBER_DIGITS)


def with_sender(channels: dict[str, Any], channel: str, address: str) -> dict[str, Any]:
    """The channels secret with the sender added (an SMS number needs no entry: the SMS API takes any)."""
    if channel == "messenger":
        pages = channels.setdefault("messenger", {}).setdefault("pages", {})
        pages.setdefault(address, new_page_token())
    elif channel == "whatsapp":
        numbers = channels.setdefault("whatsapp", {}).setdefault("numbers", {})
        numbers.setdefault(address, {
            "phone_number_id": secrets.choice("123456789") + _digits(WHATSAPP_NUMBER_ID_DIGITS - 1),
            "access_token": new_page_token(),
        })
    elif channel == "viber_service_msg":
        service_ids = channels.setdefault("viber", {}).setdefault("service_ids", [])
        if address not in [str(s) for s in service_ids]:
            service_ids.append(address)
    return channels


def new_page_token() -> str:
    alphabet = string.ascii_letters + string.digits
    return PAGE_TOKEN_PREFIX + "".join(secrets.choice(alphabet) for _ in range(PAGE_TOKEN_LENGTH))


def _digits(count: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(count))
