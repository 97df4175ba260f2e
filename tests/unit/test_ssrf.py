"""The SSRF guard: schemes, literal addresses in every form, names resolving to private addresses, the allow-list."""
from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from switchboard.adapters.webhook_http.ssrf_guard import UnsafeWebhookUrl, check_webhook_url

PUBLIC_V4 = "93.184.216.34"
PUBLIC_V6 = "2606:2800:220:1:248:1893:25c8:1946"


def resolver(*addresses: str) -> Callable[..., list[tuple]]:
    """A getaddrinfo stand-in answering every name with ``addresses`` (A and AAAA alike)."""
    calls: list[str] = []

    def resolve(host: str, port: int, *args: object) -> list[tuple]:
        calls.append(host)
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port)) for a in addresses
        ]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


def unresolvable(host: str, port: int, *args: object) -> list[tuple]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def refused(url: str, **kwargs: object) -> str:
    with pytest.raises(UnsafeWebhookUrl) as excinfo:
        check_webhook_url(url, **kwargs)  # type: ignore[arg-type]
    return str(excinfo.value)


def test_a_name_resolving_only_to_public_addresses_is_accepted() -> None:
    both, v4 = resolver(PUBLIC_V4, PUBLIC_V6), resolver(PUBLIC_V4)

    assert check_webhook_url("https://hooks.example.com/status?x=1", resolve=both) is None
    assert check_webhook_url("http://hooks.example.com:8443/status", resolve=v4) is None
    assert both.calls and v4.calls and set(both.calls + v4.calls) == {"hooks.example.com"}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url",
    [
        "ftp://hooks.example.com/x",
        "file:///etc/passwd",
        "gopher://hooks.example.com/",
        "javascript:alert(1)",
        "hooks.example.com/status",
        "//hooks.example.com/status",
    ],
)
def test_only_http_and_https_with_a_host(url: str) -> None:
    reason = refused(url, resolve=resolver(PUBLIC_V4))
    assert "http or https" in reason or "no host" in reason


def test_malformed_port_and_missing_host_are_refused() -> None:
    assert "malformed" in refused("http://hooks.example.com:99999/", resolve=resolver(PUBLIC_V4))
    assert "no host" in refused("http:///status", resolve=resolver(PUBLIC_V4))
    assert "empty" in refused("", resolve=resolver(PUBLIC_V4))


@pytest.mark.parametrize(
    "url, kind",
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.255.255.254:8080/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://169.254.1.1/", "link-local"),
        ("http://100.64.0.1/", "CGNAT"),
        ("http://100.127.255.254/", "CGNAT"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "private"),
        ("http://255.255.255.255/", "private"),
        ("http://[::1]/", "loopback"),
        ("http://[::]/", "unspecified"),
        ("http://[fc00::1]/", "private"),
        ("http://[fd12:3456::1]/", "private"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://[ff02::1]/", "multicast"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[::ffff:7f00:1]/", "loopback"),
        ("http://[::ffff:169.254.169.254]/", "link-local"),
        ("http://[::ffff:0:10.0.0.1]/", "private"),
        ("http://[64:ff9b::7f00:1]/", "loopback"),
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local"),
        ("http://[64:ff9b:1::1]/", "private"),
        ("http://[2002:7f00:1::1]/", "loopback"),
        ("http://[2001:db8::1]/", "private"),
    ],
)
def test_literal_addresses_that_are_not_public_are_refused(url: str, kind: str) -> None:
    # The resolver answers with a public address: the literal itself must be judged.
    assert kind in refused(url, resolve=resolver(PUBLIC_V4))


@pytest.mark.parametrize(
    "host",
    ["2130706433", "0x7f000001", "0X7F000001", "0177.0.0.1", "0177.0000.0000.0001", "127.1", "0x7f.1", "017700000001"],
)
def test_ipv4_literals_in_decimal_hex_and_octal_forms_are_refused(host: str) -> None:
    assert "loopback" in refused(f"http://{host}/", resolve=resolver(PUBLIC_V4))


def test_other_numeric_forms_are_judged_by_the_address_they_denote() -> None:
    assert "private" in refused("http://167772161/", resolve=resolver(PUBLIC_V4))  # 10.0.0.1
    assert "link-local" in refused("http://0xa9fea9fe/", resolve=resolver(PUBLIC_V4))  # 169.254.169.254
    assert "unspecified" in refused("http://0/", resolve=resolver(PUBLIC_V4))


def test_numeric_forms_are_refused_with_the_real_resolver_too() -> None:
    for host in ("2130706433", "0x7f000001", "0177.0.0.1", "127.1", "[::ffff:127.0.0.1]", "localhost"):
        assert "not public" in refused(f"http://{host}:9/")


def test_a_public_literal_is_accepted() -> None:
    assert check_webhook_url(f"http://{PUBLIC_V4}/", resolve=resolver(PUBLIC_V4)) is None
    assert check_webhook_url(f"http://[{PUBLIC_V6}]/", resolve=resolver(PUBLIC_V6)) is None


@pytest.mark.parametrize(
    "addresses, kind",
    [
        (("127.0.0.1",), "loopback"),
        (("10.0.0.7",), "private"),
        (("169.254.169.254",), "link-local"),
        (("100.64.3.4",), "CGNAT"),
        (("::1",), "loopback"),
        (("fd00::5",), "private"),
        (("::ffff:192.168.0.1",), "private"),
        ((PUBLIC_V4, "10.0.0.7"), "private"),  # one private address among public ones is enough
        ((PUBLIC_V4, PUBLIC_V6, "fe80::1"), "link-local"),
    ],
)
def test_a_name_resolving_to_any_non_public_address_is_refused(addresses: tuple[str, ...], kind: str) -> None:
    reason = refused("https://rebind.example.com/hook", resolve=resolver(*addresses))
    assert kind in reason
    assert "rebind.example.com" in reason


def test_an_unresolvable_name_is_refused() -> None:
    assert "does not resolve" in refused("https://nowhere.example.invalid/", resolve=unresolvable)
    assert "does not resolve" in refused("https://empty.example.com/", resolve=resolver())


def test_the_resolver_is_asked_for_the_host_and_the_urls_port() -> None:
    seen: list[tuple[str, int]] = []

    def resolve(host: str, port: int, *args: object) -> list[tuple]:
        seen.append((host, port))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_V4, port))]

    check_webhook_url("https://Hooks.Example.com/x", resolve=resolve)
    check_webhook_url("http://hooks.example.com:8080/x", resolve=resolve)

    assert seen == [("hooks.example.com", 443), ("hooks.example.com", 8080)]


def test_allow_list_host_entry_exempts_that_host_on_any_port() -> None:
    resolve = resolver("127.0.0.1")
    check_webhook_url("http://sink.local:4000/status", ["sink.local"], resolve=resolve)
    check_webhook_url("http://SINK.local/status", ["sink.local"], resolve=resolve)
    assert resolve.calls == []  # type: ignore[attr-defined]
    assert "loopback" in refused("http://other.local/", allowed_private_hosts=["sink.local"], resolve=resolve)


def test_allow_list_host_port_entry_exempts_only_that_port() -> None:
    resolve = resolver("127.0.0.1")
    allowed = ["127.0.0.1:4000"]
    check_webhook_url("http://127.0.0.1:4000/status", allowed, resolve=resolve)
    assert "loopback" in refused("http://127.0.0.1:4001/status", allowed_private_hosts=allowed, resolve=resolve)
    assert "loopback" in refused("http://127.0.0.1/status", allowed_private_hosts=allowed, resolve=resolve)
    # Exact host comparison: another spelling of the same address is not exempt.
    assert "loopback" in refused("http://localhost:4000/status", allowed_private_hosts=allowed, resolve=resolve)
    assert "loopback" in refused("http://2130706433:4000/", allowed_private_hosts=allowed, resolve=resolve)


def test_allow_list_matches_the_default_port_and_ipv6_entries() -> None:
    resolve = resolver("::1")
    check_webhook_url("https://sink.local/status", ["sink.local:443"], resolve=resolve)
    check_webhook_url("http://[::1]:4000/status", ["[::1]:4000"], resolve=resolve)
    check_webhook_url("http://[::1]:5000/status", ["[::1]"], resolve=resolve)
    assert "loopback" in refused("http://[::1]:4001/", allowed_private_hosts=["[::1]:4000"], resolve=resolve)


def test_the_allow_list_does_not_lift_the_scheme_rule() -> None:
    assert "http or https" in refused("ftp://sink.local/", allowed_private_hosts=["sink.local"])


# ---------------------------------------------------------------------------- parser disagreements


@pytest.mark.parametrize(
    "url, reason",
    [
        # urlsplit reads host 8.8.8.8; urllib3 (as browsers do) reads 127.0.0.1:3480.
        ("http://127.0.0.1:3480\\@8.8.8.8/", "backslash"),
        ("http://8.8.8.8\\@127.0.0.1/", "backslash"),
        ("http://hooks.example.com\\/x", "backslash"),
        ("http://user@127.0.0.1/", "user information"),
        ("http://8.8.8.8:80@127.0.0.1/", "user information"),
        ("http://user:pass@hooks.example.com/", "user information"),  # even to a public host
        ("http://:@hooks.example.com/", "user information"),
        ("http://[::1]:80@8.8.8.8/", "user information"),
        ("http://8.8.8.8%2f@127.0.0.1/", "user information"),
        ("http://hooks.example.com\t@127.0.0.1/", "whitespace"),
        ("http://hooks.example.com\u00a0/", "whitespace"),
        ("http://hooks.example.com\x85/", "control"),
        ("http://127.0.0.1%2e/", "percent-encoded"),
        ("http://%31%32%37.0.0.1/", "percent-encoded"),
        ("http://[::1/", "malformed"),
        ("http://::1/", "malformed"),
        ("http://[::1]x/", "malformed"),
        ("http://[not-v6]/", "malformed"),
        ("http://hooks.example.com:８０/", "malformed"),  # full-width digits are not a port
        ("http://hooks.example.com:0/", "malformed"),
        ("http://hooks.example.com:+80/", "malformed"),
        ("http://hooks*.example.com/", "characters a host name cannot have"),
    ],
)
def test_urls_that_parsers_read_differently_are_refused(url: str, reason: str) -> None:
    resolve = resolver(PUBLIC_V4)
    assert reason in refused(url, resolve=resolve)
    assert resolve.calls == []  # type: ignore[attr-defined]  # refused before any lookup


@pytest.mark.parametrize(
    "url, kind",
    [
        ("http://①②⑦.0.0.1/", "loopback"),  # IDNA maps these digits to 127.0.0.1
        ("http://１２７．０．０．１/", "loopback"),  # full-width digits and dots
        ("http://127.000.000.001/", "loopback"),  # zero-padded parts are octal to the C resolver
        ("http://0x7f.0.0.1/", "loopback"),
        ("http://0x0a.1/", "private"),
        ("http://[::127.0.0.1]/", "reserved"),  # IPv4-compatible (deprecated) form
        ("http://[::ffff:a9fe:a9fe]/", "link-local"),
        ("http://[64:ff9b::a00:1]/", "private"),  # NAT64 of 10.0.0.1
        ("http://[64:ff9b::c0a8:101]/", "private"),  # NAT64 of 192.168.1.1
        ("http://[2002:a00:1::1]/", "private"),  # 6to4 of 10.0.0.1
        ("http://[2002:a9fe:a9fe::1]/", "link-local"),  # 6to4 of 169.254.169.254
        ("http://[::ffff:100.64.0.1]/", "CGNAT"),
        ("http://[0:0:0:0:0:ffff:7f00:1]/", "loopback"),
    ],
)
def test_every_spelling_of_a_non_public_address_is_refused(url: str, kind: str) -> None:
    reason = refused(url, resolve=resolver(PUBLIC_V4))
    assert kind in reason and "not public" in reason


def test_a_public_address_in_an_unusual_spelling_is_refused_with_its_dotted_form() -> None:
    # 1572395042 is 93.184.216.34: connecting there would send "Host: 1572395042".
    for host in ("1572395042", "0x5db8d822", "93.184.55330", "0135.0270.0330.042"):
        assert "write 93.184.216.34" in refused(f"http://{host}/", resolve=resolver(PUBLIC_V4))


def test_the_one_reading_of_a_url() -> None:
    from switchboard.adapters.webhook_http.ssrf_guard import parse_webhook_url

    parsed = parse_webhook_url("HTTPS://Hooks.EXAMPLE.com:8443/a/b?x=1&y=@z#fragment@127.0.0.1")
    assert (parsed.scheme, parsed.host, parsed.port, parsed.explicit_port, parsed.target) == (
        "https", "hooks.example.com", 8443, True, "/a/b?x=1&y=@z"
    )
    assert parsed.url == "https://hooks.example.com:8443/a/b?x=1&y=@z"
    assert parse_webhook_url("http://hooks.example.com?q=1").url == "http://hooks.example.com/?q=1"
    assert parse_webhook_url("http://[0:0::0:1]:8080").url == "http://[::1]:8080/"
    assert parse_webhook_url("https://bücher.example.com/x").host == "xn--bcher-kva.example.com"
    assert parse_webhook_url("http://hooks.example.com:/x").port == 80


def test_the_target_carries_every_checked_address_and_the_resolver_is_asked_once() -> None:
    from switchboard.adapters.webhook_http.ssrf_guard import resolve_webhook_target

    resolve = resolver(PUBLIC_V4, PUBLIC_V6, PUBLIC_V4)
    target = resolve_webhook_target("https://hooks.example.com/x", resolve=resolve)

    assert target.addresses == (PUBLIC_V4, PUBLIC_V6)
    assert target.url.host == "hooks.example.com"
    assert resolve.calls == ["hooks.example.com"]  # type: ignore[attr-defined]


def test_a_literal_target_is_its_own_address_without_a_lookup() -> None:
    from switchboard.adapters.webhook_http.ssrf_guard import resolve_webhook_target

    resolve = resolver("10.0.0.1")
    assert resolve_webhook_target(f"http://{PUBLIC_V4}:8080/", resolve=resolve).addresses == (PUBLIC_V4,)
    assert resolve_webhook_target(f"http://[{PUBLIC_V6}]/", resolve=resolve).addresses == (PUBLIC_V6,)
    assert resolve.calls == []  # type: ignore[attr-defined]


def test_an_allowed_host_is_resolved_for_the_delivery_but_not_checked() -> None:
    from switchboard.adapters.webhook_http.ssrf_guard import resolve_webhook_target

    resolve = resolver("127.0.0.1")
    target = resolve_webhook_target("http://sink.local:4000/status", ["sink.local:4000"], resolve=resolve)
    assert target.addresses == ("127.0.0.1",)
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        resolve_webhook_target("http://sink.local:4001/status", ["sink.local:4000"], resolve=resolve)
