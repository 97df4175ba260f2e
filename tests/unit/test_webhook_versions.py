"""Which webhook shape goes out (2018 or v1), where the owner's choice is kept, and the bodies the notifier sends.

The rule (docs/webhooks.md): the message's ``webhook_version``; else the owner's explicit setting
(the application's for JWT traffic, else its account's; the account's for Basic traffic), stamped
on the record when it is made; else a status follows the API version the message was sent with and
an inbound message gets the 2018 shape. Every body published here is validated against the schema
of its shape (tests/contract/schemas).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import responses

from switchboard import provisioning
from switchboard.cli import main
from switchboard.domain.message import Channel, Endpoint, Principal
from switchboard.domain.notification import Notification
from switchboard.domain.provider_events import InboundMessage
from switchboard.domain.tenancy import Account, Application, ChannelLink, NoSuchApplication, UnknownAccount
from switchboard.notifier.delivery import DeliveryOutcome, Notifier
from switchboard.notifier.publisher import NotificationPublisher
from switchboard.notifier.targets import WebhookTargets
from switchboard.receipts.inbound_routing import InboundService
from switchboard.adapters.webhook_http.webhook_poster import WebhookPoster
from tests.support.builders import messenger_message, sms_message
from tests.support.fakes.receipts import FakeIntake
from tests.support.stores import AccountStore, MessagesTable, wired_authenticator
from tests.support.webhook_schemas import schema_errors

T0 = 1_790_000_000.0
OCCURRED = "2026-09-21T14:13:20.000Z"
STATUS_URL = "https://hooks.example.com/status"


class Sink:
    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self.workflow_events: list[tuple[str, str]] = []

    def send(self, notification: Notification, delay_seconds: int = 0) -> None:
        self.sent.append(notification)

    def status_changed(self, record: dict[str, Any], state: str) -> None:
        self.workflow_events.append((record["message_uuid"], state))


def status_webhook(record: dict[str, Any], state: str = "delivered", error: dict | None = None) -> dict[str, Any]:
    sink = Sink()
    NotificationPublisher(sink, sink).status_changed(record, state, OCCURRED, error)
    (notification,) = sink.sent
    return notification.body


def inbound_webhook(record: dict[str, Any]) -> dict[str, Any]:
    sink = Sink()
    NotificationPublisher(sink, sink).inbound_received(record)
    (notification,) = sink.sent
    return notification.body


# (from, to) of an outbound message per channel, as stored.
ENDPOINTS = {
    "sms": ({"type": "sms", "number": "447700900001"}, {"type": "sms", "number": "447700900000"}),
    "messenger": ({"type": "messenger", "id": "107083064136738"}, {"type": "messenger", "id": "1234567890"}),
    "viber_service_msg": (
        {"type": "viber_service_msg", "id": "16273"}, {"type": "viber_service_msg", "number": "447700900000"}
    ),
}


def outbound(channel: str = "messenger", api_version: str = "v0.1", **extra: Any) -> dict[str, Any]:
    sender, recipient = ENDPOINTS[channel]
    return {
        "message_uuid": "aaaaaaaa-bbbb-4ccc-8ddd-000000000001",
        "channel": channel,
        "from": sender,
        "to": recipient,
        "api_version": api_version,
        "api_key": "abcd1234",
        **extra,
    }


def shape_of(body: dict[str, Any]) -> str:
    return "v1" if isinstance(body["to"], str) else "v0.1"


# -- the rule, on the bodies the publisher queues --------------------------------------------------

STATUS_RULE = [
    # (api version, message's webhook_version, owner's setting) -> shape
    ("v1", None, None, "v1"),
    ("v0.1", None, None, "v0.1"),
    ("beta", None, None, "v0.1"),
    ("v0.1", None, "v1", "v1"),
    ("beta", None, "v1", "v1"),
    ("v1", None, "v0.1", "v0.1"),
    ("v1", "v0.1", None, "v0.1"),
    ("v1", "v1", "v0.1", "v1"),
    ("v1", "v0.1", "v1", "v0.1"),
]


@pytest.mark.parametrize("api_version,message_version,owner_version,expected", STATUS_RULE)
def test_status_webhooks_take_the_shape_the_rule_gives(api_version, message_version, owner_version, expected) -> None:
    extra = {}
    if message_version:
        extra["webhook_version"] = message_version
    if owner_version:
        extra["owner_webhook_version"] = owner_version
    record = outbound("messenger", api_version, client_ref="order-7", **extra)

    body = status_webhook(record, "rejected", {"code": 1300, "reason": "Not part of the provider network"})

    assert shape_of(body) == expected
    assert schema_errors(expected, "status", "messenger", body) == []
    if expected == "v1":
        assert body["error"]["title"] == "1300" and body["channel"] == "messenger"
    else:
        assert body["error"] == {"code": 1300, "reason": "Not part of the provider network"}


@pytest.mark.parametrize("channel", ["sms", "messenger", "viber_service_msg"])
def test_every_channels_v1_status_validates(channel: str) -> None:
    record = outbound(channel, "v1", provider_message_id="p-1")
    for state in ("submitted", "delivered", "undeliverable"):
        error = {"code": 1100, "reason": "Communication Failed"} if state == "undeliverable" else None
        body = status_webhook(record, state, error)
        assert schema_errors("v1", "status", channel, body) == [], (state, body)


def test_a_v1_sms_status_reports_its_part_count_and_network() -> None:
    multipart = outbound("sms", "v1", provider_message_id="0A00001", sms_part_count=3, network_code="23410")
    single = outbound("sms", "v1", provider_message_id="0A00002")
    never_sent = outbound("sms", "v1")

    delivered = status_webhook(multipart)
    assert delivered["sms"] == {"count_total": "3"}
    assert delivered["destination"] == {"network_code": "23410"}
    assert schema_errors("v1", "status", "sms", delivered) == []
    assert status_webhook(single)["sms"] == {"count_total": "1"}
    rejected = status_webhook(never_sent, "rejected", {"code": 1050, "reason": "Number barred"})
    assert "sms" not in rejected and "destination" not in rejected
    # The 2018 shape has no such fields.
    assert "sms" not in status_webhook({**multipart, "api_version": "v0.1"})


def test_a_step_of_a_v1_failover_carries_the_workflow_object() -> None:
    record = outbound("messenger", "v1", workflow_uuid="cccccccc-dddd-4eee-8fff-000000000001", workflow_step=1)

    body = status_webhook(record)

    assert body["workflow"] == {
        "workflow_id": "cccccccc-dddd-4eee-8fff-000000000001", "status": "in_progress", "items_number": "2"
    }
    assert schema_errors("v1", "status", "messenger", body) == []


def inbound_record(channel: str = "messenger", **extra: Any) -> dict[str, Any]:
    ours, user = ENDPOINTS[channel]
    if channel == "sms":
        user = {"type": "sms", "number": "447700900003"}
    record = {
        "message_uuid": "bbbbbbbb-cccc-4ddd-8eee-000000000001",
        "direction": "inbound",
        "channel": channel,
        "from": user,
        "to": ours,
        "content": {"type": "text", "text": "hello there"},
        "timestamp": OCCURRED,
        "api_key": "abcd1234",
    }
    return record | extra


@pytest.mark.parametrize("channel", ["sms", "messenger"])
def test_inbound_webhooks_are_2018_unless_the_owner_chose_v1(channel: str) -> None:
    plain = inbound_webhook(inbound_record(channel))
    chosen_v1 = inbound_webhook(inbound_record(channel, owner_webhook_version="v1"))
    chosen_v0_1 = inbound_webhook(inbound_record(channel, owner_webhook_version="v0.1"))

    assert shape_of(plain) == shape_of(chosen_v0_1) == "v0.1"
    assert schema_errors("v0.1", "inbound", channel, plain) == []
    assert shape_of(chosen_v1) == "v1"
    assert chosen_v1["message_type"] == "text" and chosen_v1["text"] == "hello there"
    assert schema_errors("v1", "inbound", channel, chosen_v1) == []


# -- where the owner's choice is kept and how it reaches the record ---------------------------------


def test_the_account_and_application_settings_are_stored_and_changed(aws, now) -> None:
    store = AccountStore()
    account, _ = store.create_account(status_url=STATUS_URL)
    app = store.create_application(account.api_key, "app", "pem", webhook_version="v1")
    assert store.get_application(app.application_id).webhook_version == "v1"
    assert store.get_account(account.api_key).webhook_version is None

    assert store.set_webhook_version(account.api_key, "v1").webhook_version == "v1"
    assert store.get_account(account.api_key).webhook_version == "v1"
    assert store.set_webhook_version(account.api_key, None).webhook_version is None

    changed = store.update_application(app.application_id, {"webhook_version": "v0.1", "status_url": STATUS_URL})
    assert (changed.webhook_version, changed.status_url) == ("v0.1", STATUS_URL)
    removed = store.update_application(app.application_id, {"webhook_version": None})
    assert removed.webhook_version is None and removed.status_url == STATUS_URL
    assert store.get_application(app.application_id).webhook_version is None


def test_bad_settings_and_unknown_owners_are_refused(aws, now) -> None:
    store = AccountStore()
    account, _ = store.create_account()
    with pytest.raises(ValueError, match="unknown webhook version"):
        store.set_webhook_version(account.api_key, "v2")
    with pytest.raises(ValueError, match="unknown webhook version"):
        store.create_application(account.api_key, "app", "pem", webhook_version="2018")
    with pytest.raises(UnknownAccount):
        store.set_webhook_version("ffffffff", "v1")
    with pytest.raises(NoSuchApplication):
        store.update_application("11111111-2222-4333-8444-555555555555", {"webhook_version": "v1"})
    with pytest.raises(ValueError, match="nothing to change"):
        provisioning.update_application(store, "11111111-2222-4333-8444-555555555555")


def test_basic_and_jwt_principals_carry_the_owners_setting_onto_the_record(aws, now, tmp_path: Path) -> None:
    store = AccountStore()
    created = provisioning.provision_account(store)
    api_key = created["api_key"]
    with_version = provisioning.provision_application(store, api_key, "v1 app", private_key_out=tmp_path, webhook_version="v1")
    without = provisioning.provision_application(store, api_key, "plain app", private_key_out=tmp_path)
    store.set_webhook_version(api_key, "v0.1")
    authenticator = wired_authenticator(store, cache_ttl_seconds=0)

    basic = authenticator.authenticate(requests.auth._basic_auth_str(api_key, created["api_secret"]))
    def bearer(app: dict[str, Any]) -> Principal:
        key = Path(app["private_key_path"]).read_bytes()
        return authenticator.authenticate("Bearer " + provisioning.generate_jwt(app["application_id"], key))

    assert basic.webhook_version == "v0.1"  # the account's
    assert bearer(with_version).webhook_version == "v1"  # the application's own
    assert bearer(without).webhook_version == "v0.1"  # no choice of its own: its account's

    messages = MessagesTable()
    messages.create("aaaaaaaa-bbbb-4ccc-8ddd-000000000011", messenger_message(), bearer(with_version))
    messages.create("aaaaaaaa-bbbb-4ccc-8ddd-000000000012", sms_message(), Principal(api_key))
    stamped = messages.get("aaaaaaaa-bbbb-4ccc-8ddd-000000000011")
    assert stamped["owner_webhook_version"] == "v1"
    assert "owner_webhook_version" not in messages.get("aaaaaaaa-bbbb-4ccc-8ddd-000000000012")
    # A v0.1 request of a v1 application: its status webhooks are v1.
    assert shape_of(status_webhook(stamped, "submitted")) == "v1"


class Owners:
    def __init__(self, accounts: dict[str, Account], applications: dict[str, Application]) -> None:
        self.accounts, self.applications, self.reads = accounts, applications, 0

    def account(self, api_key: str) -> Account | None:
        self.reads += 1
        return self.accounts.get(api_key)

    def application(self, application_id: str) -> Application | None:
        self.reads += 1
        return self.applications.get(application_id)


class Links:
    def __init__(self, link: ChannelLink) -> None:
        self.link = link

    def get(self, channel: Any, address: str) -> ChannelLink | None:
        return self.link


def account(api_key: str, version: str | None) -> Account:
    return Account(api_key, "salt", "hash", "secret", None, None, webhook_version=version)


def application(application_id: str, api_key: str, version: str | None) -> Application:
    return Application(application_id, api_key, "app", "pem", None, None, webhook_version=version)


def inbound_to_page() -> InboundMessage:
    return InboundMessage(
        channel=Channel.MESSENGER, sender=Endpoint(type="messenger", id="psid-1"),
        recipient=Endpoint(type="messenger", id="page-1"), content={"type": "text", "text": "hi"},
        occurred_at=T0, provider_message_id="m-1",
    )


@pytest.mark.parametrize(
    "link_application,app_version,account_version,expected",
    [
        ("app-1", "v1", "v0.1", "v1"),  # the application's own choice
        ("app-1", None, "v1", "v1"),  # none of its own: the account's
        (None, "v1", None, None),  # linked to the account only: the application does not count
        ("app-2", "v1", None, None),  # another account's application: ignored
        ("app-1", None, None, None),
    ],
)
def test_an_inbound_message_records_its_owners_setting(link_application, app_version, account_version, expected) -> None:
    owners = Owners(
        {"acct1111": account("acct1111", account_version)},
        {"app-1": application("app-1", "acct1111", app_version), "app-2": application("app-2", "other999", "v1")},
    )
    intake = FakeIntake()
    service = InboundService(Links(ChannelLink(Channel.MESSENGER, "page-1", "acct1111", link_application)), intake, owners)

    service.accept(inbound_to_page())

    assert intake.webhook_versions == [expected]


def test_the_inbound_store_keeps_the_owners_setting(aws, now) -> None:
    record = MessagesTable().create_inbound(
        "bbbbbbbb-cccc-4ddd-8eee-000000000021", inbound_to_page(), "abcd1234", None, None, webhook_version="v1"
    )
    assert record["owner_webhook_version"] == "v1"
    assert shape_of(inbound_webhook(record)) == "v1"


# -- the command line ------------------------------------------------------------------------------


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert (code, err) == (0, ""), err
    return json.loads(out)


@pytest.mark.usefixtures("env_restored")
def test_the_cli_sets_and_changes_the_webhook_version(aws, now, local_dir: Path, tmp_path: Path, capsys) -> None:
    where = ("--local-dir", str(local_dir))
    created = cli(capsys, "accounts", "create", *where)
    api_key = created["api_key"]

    app = cli(capsys, "apps", "create", *where, "--api-key", api_key, "--name", "shop", "--webhook-version", "v1",
              "--private-key-out", str(tmp_path))
    assert app["webhook_version"] == "v1"
    updated = cli(capsys, "apps", "update", *where, "--application-id", app["application_id"],
                  "--webhook-version", "v0.1", "--status-url", STATUS_URL)
    assert updated == {"application_id": app["application_id"], "inbound_url": None, "status_url": STATUS_URL,
                       "webhook_version": "v0.1"}
    reset = cli(capsys, "apps", "update", *where, "--application-id", app["application_id"],
                "--webhook-version", "default", "--status-url", "default")
    assert (reset["webhook_version"], reset["status_url"]) == (None, None)
    assert cli(capsys, "accounts", "set-webhook-version", *where, "--api-key", api_key,
               "--webhook-version", "v1") == {"api_key": api_key, "webhook_version": "v1"}
    assert AccountStore().get_account(api_key).webhook_version == "v1"

    assert main(["apps", "update", *where, "--application-id", app["application_id"], "--webhook-version", "v2"]) == 2
    assert main(["apps", "update", *where, "--application-id", app["application_id"]]) == 1
    capsys.readouterr()


# -- the notifier signs whatever shape it sends the same way ----------------------------------------


def test_a_v1_body_is_posted_signed_with_its_payload_hash(aws, now) -> None:
    store = AccountStore()
    owner, _ = store.create_account(status_url=STATUS_URL)
    record = outbound("sms", "v1", api_key=owner.api_key, provider_message_id="0A1", sms_part_count=2)
    sink = Sink()
    NotificationPublisher(sink, sink).status_changed(record, "delivered", OCCURRED)
    (note,) = sink.sent
    assert shape_of(note.body) == "v1"

    class Attempts:
        def record_webhook_attempt(self, *args: Any, **kwargs: Any) -> bool:
            return True

    resolve = lambda host, port, *a: [(2, 1, 6, "", ("93.184.216.34", port))]  # noqa: E731
    notifier = Notifier(
        WebhookTargets(wired_authenticator(store)),
        WebhookPoster(session=requests.Session(), resolve=resolve),
        queues=None,  # type: ignore[arg-type]  # a delivery that succeeds queues nothing
        attempts=Attempts(),
    )
    with responses.RequestsMock() as http:
        http.post(STATUS_URL, status=200)
        assert notifier.deliver(note) is DeliveryOutcome.DELIVERED
        (call,) = http.calls
    posted = call.request.body
    assert json.loads(posted) == note.body
    token = call.request.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, owner.signature_secret, algorithms=["HS256"])
    assert claims["payload_hash"] == hashlib.sha256(posted).hexdigest()
    assert schema_errors("v1", "status", "sms", json.loads(posted)) == []
