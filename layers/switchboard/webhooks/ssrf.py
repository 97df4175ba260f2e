"""The SSRF guard for customer webhook URLs: only public http(s) endpoints may be called.

A URL is refused unless every address its host resolves to (A and AAAA) is globally routable.
Loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16, fe80::/10), CGNAT
(100.64.0.0/10), multicast, reserved and unspecified addresses are refused, also when hidden in an
IPv6 form that carries an IPv4 address (``::ffff:127.0.0.1``, NAT64 ``64:ff9b::/96``, 6to4).

IPv4 literals are also parsed the way the C resolver does (``2130706433``, ``0x7f000001``,
``0177.0.0.1``, ``127.1``), so the verdict does not depend on what a given resolver does with them.

The check runs at registration and again before every delivery, because DNS can change. A name can
still change between the check and the connection (DNS rebinding with a zero TTL); closing that gap
would mean connecting to the checked address itself, which this module does not do.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")


class UnsafeWebhookUrl(ValueError):
    """The URL must not be called; ``str(exc)`` says why (safe to show to the account owner)."""


def check_webhook_url(
    url: str, allowed_private_hosts: Iterable[str] = (), resolve: Resolver | None = None
) -> None:
    """Raise ``UnsafeWebhookUrl`` unless ``url`` is http(s) to a host with only public addresses.

    ``allowed_private_hosts`` holds ``host`` or ``host:port`` entries exempt from the address
    checks: ``host`` matches that host on any port, ``host:port`` only that port (the scheme's
    default port when the URL has none). Hosts compare case-insensitively; nothing else is
    normalised, so ``127.0.0.1`` does not exempt ``localhost``.
    """
    host, port = _parse(url)
    if _is_allowed(host, port, allowed_private_hosts):
        return
    literal = _ip_literal(host)
    if literal is not None:
        _refuse_if_not_public(literal, host)
    for address in _resolve(host, port, resolve or socket.getaddrinfo):  # looked up per call: patchable
        _refuse_if_not_public(address, host)


def _parse(url: str) -> tuple[str, int]:
    if not isinstance(url, str) or not url:
        raise UnsafeWebhookUrl("webhook URL is empty")
    try:
        parts = urlsplit(url)
        explicit_port = parts.port
    except ValueError:
        raise UnsafeWebhookUrl("webhook URL is malformed") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise UnsafeWebhookUrl("webhook URL must use http or https")
    host = (parts.hostname or "").lower()
    if not host:
        raise UnsafeWebhookUrl("webhook URL has no host")
    return host, explicit_port if explicit_port is not None else _DEFAULT_PORTS[scheme]


def _is_allowed(host: str, port: int, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        allowed_host, allowed_port = _split_host_port(entry.strip().lower())
        if allowed_host == host and (allowed_port is None or allowed_port == port):
            return True
    return False


def _split_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [v6] or [v6]:port
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return entry, None


def _ip_literal(host: str) -> IpAddress | None:
    """The address a numeric host denotes, in any form ``inet_aton`` accepts; ``None`` for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError, UnicodeError):
        return None


def _resolve(host: str, port: int, resolve: Resolver) -> list[IpAddress]:
    try:
        infos = resolve(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise UnsafeWebhookUrl(f"webhook host {host} does not resolve") from None
    addresses: list[IpAddress] = []
    for info in infos or ():
        try:
            addresses.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
        except (ValueError, IndexError, TypeError):
            raise UnsafeWebhookUrl(f"webhook host {host} resolves to an unusable address") from None
    if not addresses:
        raise UnsafeWebhookUrl(f"webhook host {host} does not resolve")
    return addresses


def _refuse_if_not_public(address: IpAddress, host: str) -> None:
    reason = non_public_reason(address)
    if reason is not None:
        raise UnsafeWebhookUrl(f"webhook host {host} resolves to {address}, which is not public ({reason})")


def non_public_reason(address: IpAddress) -> str | None:
    """Why ``address`` must not be called (``"loopback"``, ``"private"``, ...), or ``None`` if it is public."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return non_public_reason(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "shared (CGNAT)"
    if isinstance(address, ipaddress.IPv6Address) and address in _NAT64_LOCAL_USE:
        return "private"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "non-global"
    return None


def _embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, translated, NAT64, 6to4), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64_WELL_KNOWN or address in _IPV4_TRANSLATED:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour
