"""ChannelLinkStore on the AccountsTable: create, read (cached), delete, and provisioning checks."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from switchboard.adapters import aws_clients as sb_aws
from switchboard import clock
from switchboard.domain.message import Channel
from tests.support.stores import AccountStore
from switchboard.domain.tenancy import UnknownAccount
from tests.support.stores import ChannelLinkStore
from switchboard.domain.tenancy import ChannelLink, LinkExists, UnknownApplication, UnknownLink, normalize_address
from switchboard.adapters.dynamodb.link_store import link_key, provision_link

PAGE = "107083064136738"


@pytest.fixture
def frozen_clock() -> Iterator[list[float]]:
    now = [1_795_780_800.0]
    clock.set_clock(lambda: now[0])
    yield now
    clock.set_clock(None)


def stored_item(aws, channel: str, address: str) -> dict | None:
    table = aws.env["ACCOUNTS_TABLE"]
    return aws.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": f"link#{channel}#{address}"}}).get("Item")


def test_link_get_and_unlink(aws) -> None:
    store = ChannelLinkStore()

    created = store.link(Channel.MESSENGER, PAGE, "acct0001", "app-1")

    assert created == ChannelLink(Channel.MESSENGER, PAGE, "acct0001", "app-1")
    item = stored_item(aws, "messenger", PAGE)
    assert item is not None and item["kind"] == {"S": "link"} and item["api_key"] == {"S": "acct0001"}
    assert ChannelLinkStore().get("messenger", PAGE) == created
    assert ChannelLinkStore().unlink(Channel.MESSENGER, PAGE) == created
    assert ChannelLinkStore().get(Channel.MESSENGER, PAGE) is None


def test_account_links_have_no_application(aws) -> None:
    ChannelLinkStore().link("sms", "+447700900100", "acct0001")

    link = ChannelLinkStore().get(Channel.SMS, "447700900100")

    assert link == ChannelLink(Channel.SMS, "447700900100", "acct0001", None)
    assert link.to_dict() == {"channel": "sms", "address": "447700900100", "api_key": "acct0001"}
    assert "application_id" not in stored_item(aws, "sms", "447700900100")  # type: ignore[operator]


def test_links_are_never_overwritten(aws) -> None:
    store = ChannelLinkStore()
    store.link(Channel.VIBER, "16273", "acct0001")

    with pytest.raises(LinkExists):
        store.link(Channel.VIBER, "16273", "acct0002")
    assert ChannelLinkStore().get(Channel.VIBER, "16273").api_key == "acct0001"  # type: ignore[union-attr]


def test_unlink_checks_the_owner_when_asked(aws) -> None:
    store = ChannelLinkStore()
    store.link(Channel.VIBER, "16273", "acct0001")

    with pytest.raises(UnknownLink):
        store.unlink(Channel.VIBER, "16273", api_key="acct0002")
    with pytest.raises(UnknownLink):
        store.unlink(Channel.VIBER, "99999")
    assert store.unlink(Channel.VIBER, "16273", api_key="acct0001").api_key == "acct0001"


def test_lookups_are_cached_for_a_minute(aws, frozen_clock: list[float]) -> None:
    reader, writer = ChannelLinkStore(), ChannelLinkStore()
    assert reader.get(Channel.MESSENGER, PAGE) is None  # the miss is cached too
    writer.link(Channel.MESSENGER, PAGE, "acct0001")

    frozen_clock[0] += 59
    assert reader.get(Channel.MESSENGER, PAGE) is None
    frozen_clock[0] += 1
    assert reader.get(Channel.MESSENGER, PAGE) == ChannelLink(Channel.MESSENGER, PAGE, "acct0001")

    writer.unlink(Channel.MESSENGER, PAGE)
    assert reader.get(Channel.MESSENGER, PAGE) is not None  # still cached
    reader.clear_cache()
    assert reader.get(Channel.MESSENGER, PAGE) is None


def test_cached_reads_make_no_dynamodb_call(aws, frozen_clock: list[float], monkeypatch: pytest.MonkeyPatch) -> None:
    store = ChannelLinkStore()
    store.link(Channel.MESSENGER, PAGE, "acct0001")
    calls: list[str] = []
    client = sb_aws.client("dynamodb")
    original = client.get_item
    monkeypatch.setattr(client, "get_item", lambda **kw: calls.append(kw["Key"]["pk"]["S"]) or original(**kw))

    for _ in range(3):
        assert store.get(Channel.MESSENGER, PAGE) is not None

    assert calls == []  # the link() call primed the cache


def test_the_store_remembers_its_own_writes(aws) -> None:
    store = ChannelLinkStore()
    assert store.get(Channel.SMS, "447700900100") is None

    store.link(Channel.SMS, "447700900100", "acct0001")

    assert store.get(Channel.SMS, "447700900100") is not None


@pytest.mark.parametrize(
    ("channel", "address", "expected"),
    [
        (Channel.SMS, "+447700900100", "447700900100"),
        ("sms", " 447700900100 ", "447700900100"),
        ("sms", "Acme", "Acme"),
        ("sms", " Acme  Ltd ", "Acme Ltd"),
        ("sms", "ACME2", "ACME2"),
        ("sms", "1" * 10 + "A", "1" * 10 + "A"),
        ("messenger", PAGE, PAGE),
        ("viber_service_msg", "16273", "16273"),
    ],
)
def test_addresses_are_normalized(channel: Channel | str, address: str, expected: str) -> None:
    assert normalize_address(channel, address) == expected


@pytest.mark.parametrize(
    ("channel", "address"),
    [("sms", ""), ("sms", "1" * 16), ("sms", "A" * 12), ("sms", "+Acme"), ("sms", "Acme-Ltd"), ("sms", "123 456"),
     ("sms", "Acmé"), ("sms", "\u0661\u0662\u0663"), ("messenger", "page-1"), ("messenger", "\u0661\u0662"),
     ("viber_service_msg", ""), ("whatsapp", "Acme"), ("whatsapp", "1" * 16), ("mms", "1"),
     ("viber_service", "16273")],
)
def test_bad_addresses_and_channels(channel: str, address: str) -> None:
    with pytest.raises(ValueError):
        normalize_address(channel, address)


def test_bad_addresses_are_never_looked_up(aws) -> None:
    assert ChannelLinkStore().get("messenger", "page-1") is None
    assert ChannelLinkStore().get("mms", "1") is None


def test_link_key() -> None:
    assert link_key(Channel.VIBER, "16273") == "link#viber_service_msg#16273"
    assert link_key(Channel.SMS, "Acme Ltd") == "link#sms#acme ltd"


# -- alphanumeric SMS sender ids ---------------------------------------------------------------


def test_a_sender_id_is_linked_as_given_and_owned_case_insensitively(aws) -> None:
    created = ChannelLinkStore().link(Channel.SMS, "Acme", "acct0001")

    assert created == ChannelLink(Channel.SMS, "Acme", "acct0001")
    assert stored_item(aws, "sms", "acme")["address"] == {"S": "Acme"}  # type: ignore[index]
    for spelling in ("Acme", "ACME", "acme", " aCmE "):
        assert ChannelLinkStore().get(Channel.SMS, spelling) == created
        assert ChannelLinkStore().is_linked_to("acct0001", Channel.SMS, spelling)
        assert not ChannelLinkStore().is_linked_to("acct0002", Channel.SMS, spelling)


def test_one_brand_has_one_owner_whatever_the_case(aws) -> None:
    store = ChannelLinkStore()
    store.link(Channel.SMS, "Acme", "acct0001")

    with pytest.raises(LinkExists) as refused:
        store.link(Channel.SMS, "ACME", "acct0002")

    assert str(refused.value) == "sms address ACME is linked already"  # says nothing of the owner
    assert refused.value.existing == ChannelLink(Channel.SMS, "Acme", "acct0001")  # for operators
    assert ChannelLinkStore().unlink(Channel.SMS, "aCmE", api_key="acct0001").address == "Acme"


# -- ownership on the send path ----------------------------------------------------------------


def test_is_linked_to_only_for_the_owning_account(aws) -> None:
    writer = ChannelLinkStore()
    writer.link(Channel.MESSENGER, PAGE, "acct0001", "app-1")
    writer.link(Channel.SMS, "+447700900100", "acct0001")
    reader = ChannelLinkStore()

    assert reader.is_linked_to("acct0001", Channel.MESSENGER, PAGE)  # whichever application the link names
    assert reader.is_linked_to("acct0001", "sms", "447700900100")
    assert not reader.is_linked_to("acct0002", Channel.MESSENGER, PAGE)
    assert not reader.is_linked_to("acct0001", Channel.VIBER, "16273")  # not linked at all
    assert not reader.is_linked_to("acct0001", Channel.MESSENGER, "page-1")  # not even an address


def test_ownership_costs_one_read_per_account_and_address_a_minute(
    aws, frozen_clock: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    ChannelLinkStore().link(Channel.SMS, "Acme", "acct0001")
    reads: list[str] = []
    client = sb_aws.client("dynamodb")
    original = client.get_item
    monkeypatch.setattr(client, "get_item", lambda **kw: reads.append(kw["Key"]["pk"]["S"]) or original(**kw))
    store = ChannelLinkStore()

    for _ in range(3):
        assert store.is_linked_to("acct0001", Channel.SMS, "Acme")
        assert not store.is_linked_to("acct0002", Channel.SMS, "Acme")
    assert reads == ["link#sms#acme", "link#sms#acme"]  # once for each account, then cached

    frozen_clock[0] += 60
    assert store.is_linked_to("acct0001", Channel.SMS, "Acme")
    assert len(reads) == 3


def test_an_accounts_first_probe_reads_even_when_another_account_just_used_the_address(
    aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer's timing must not reveal that someone else sends from an address."""
    ChannelLinkStore().link(Channel.VIBER, "16273", "acct0001")
    store = ChannelLinkStore()
    assert store.is_linked_to("acct0001", Channel.VIBER, "16273")
    assert store.get(Channel.VIBER, "16273") is not None  # the inbound cache is warm too
    reads: list[str] = []
    client = sb_aws.client("dynamodb")
    original = client.get_item
    monkeypatch.setattr(client, "get_item", lambda **kw: reads.append(kw["Key"]["pk"]["S"]) or original(**kw))

    assert not store.is_linked_to("acct0002", Channel.VIBER, "16273")
    assert not store.is_linked_to("acct0002", Channel.VIBER, "99999")

    assert reads == ["link#viber_service_msg#16273", "link#viber_service_msg#99999"]


def test_an_unlinked_address_stops_being_the_old_owners_in_this_store_at_once(aws) -> None:
    store = ChannelLinkStore()
    store.link(Channel.SMS, "447700900100", "acct0001")
    assert store.is_linked_to("acct0001", Channel.SMS, "447700900100")

    store.unlink(Channel.SMS, "447700900100")

    assert not store.is_linked_to("acct0001", Channel.SMS, "447700900100")


def test_links_of_lists_one_accounts_links_only(aws) -> None:
    store = ChannelLinkStore()
    store.link(Channel.SMS, "Acme", "acct0001", "app-1")
    store.link(Channel.MESSENGER, PAGE, "acct0001")
    store.link(Channel.SMS, "+447700900100", "acct0001")
    store.link(Channel.VIBER, "16273", "acct0002")
    AccountStore().create_account()  # other kinds of item in the table are skipped

    assert ChannelLinkStore().links_of("acct0001") == [
        ChannelLink(Channel.MESSENGER, PAGE, "acct0001"),
        ChannelLink(Channel.SMS, "447700900100", "acct0001"),
        ChannelLink(Channel.SMS, "Acme", "acct0001", "app-1"),
    ]
    assert ChannelLinkStore().links_of("nobody00") == []


# -- provisioning -----------------------------------------------------------------------------


def make_account_and_app(accounts: AccountStore) -> tuple[str, str]:
    account, _ = accounts.create_account()
    app = accounts.create_application(account.api_key, "app", "-----BEGIN PUBLIC KEY-----")
    return account.api_key, app.application_id


def test_provision_link_for_an_account_and_its_application(aws) -> None:
    accounts = AccountStore()
    api_key, app_id = make_account_and_app(accounts)

    link = provision_link(accounts, ChannelLinkStore(), "messenger", PAGE, api_key, app_id)

    assert link == ChannelLink(Channel.MESSENGER, PAGE, api_key, app_id)
    assert ChannelLinkStore().get(Channel.MESSENGER, PAGE) == link


def test_provision_link_refuses_unknown_accounts_and_foreign_applications(aws) -> None:
    accounts = AccountStore()
    api_key, _ = make_account_and_app(accounts)
    _, foreign_app = make_account_and_app(accounts)

    with pytest.raises(UnknownAccount):
        provision_link(accounts, ChannelLinkStore(), "sms", "447700900100", "nobody00")
    with pytest.raises(UnknownApplication):
        provision_link(accounts, ChannelLinkStore(), "sms", "447700900100", api_key, foreign_app)
    with pytest.raises(UnknownApplication):
        provision_link(accounts, ChannelLinkStore(), "sms", "447700900100", api_key, "no-such-app")
    assert ChannelLinkStore().get(Channel.SMS, "447700900100") is None
