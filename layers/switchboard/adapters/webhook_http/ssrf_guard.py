"""The SSRF guard for customer webhook URLs: only public http(s) endpoints may be called.

One strict parse of the URL (``parse_webhook_url``) gives the host, port and request target that
both the check and the connection use, so no second parser can read a different host out of the
same string. It refuses what parsers disagree on: user information (``user@host``), backslashes
(``http://127.0.0.1:3480\\@8.8.8.8/`` is host 8.8.8.8 to ``urlsplit`` and 127.0.0.1 to urllib3),
whitespace and control characters, percent-encoded hosts, and IPv4 addresses in any spelling but
dotted decimal (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``: the C resolver reads
them all as 127.0.0.1; the error names the address they stand for). Hosts are lower-cased and
IDNA-encoded, IPv6 literals compressed.

The host is resolved once (``resolve_webhook_target``) and every address it resolves to (A and AAAA)
must be globally routable. Loopback, private (RFC 1918, fc00::/7), link-local (169.254.0.0/16,
fe80::/10), CGNAT (100.64.0.0/10), multicast, reserved and unspecified addresses are refused, also
when hidden in an IPv6 form that carries an IPv4 address (``::ffff:127.0.0.1``, NAT64
``64:ff9b::/96``, 6to4). The delivery then connects to those checked addresses and nowhere else
(``pinned_connection``): a name that resolves differently a moment later (DNS rebinding) is never
looked up again for that delivery.

The check runs at registration (``check_webhook_url``) and again before every delivery, because DNS
can change.
"""
from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[..., list[tuple[Any, ...]]]

MAX_URL_LENGTH = 2000
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_PORT = re.compile(r"[0-9]{1,5}")
_HOST_NAME = re.compile(r"[a-z0-9_.-]+")
_DOTTED_QUAD = re.compile(r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])")


class UnsafeWebhookUrl(ValueError):
    """The URL must not be called; ``str(exc)`` says why (safe to show to the account owner)."""


@dataclass(frozen=True)
class WebhookUrl:
    """A webhook URL as the guard read it; the only reading the delivery uses."""

    scheme: str  # "http" or "https"
    host: str  # lower-case ASCII name, dotted-quad IPv4, or compressed IPv6 without brackets
    port: int  # the explicit port, else the scheme's default
    explicit_port: bool
    target: str  # the request target: path and query ("/" at least); a fragment is never sent

    @property
    def is_ipv6(self) -> bool:
        return ":" in self.host

    @property
    def url(self) -> str:
        """The URL rebuilt from these parts (what is requested)."""
        host = f"[{self.host}]" if self.is_ipv6 else self.host
        port = f":{self.port}" if self.explicit_port else ""
        return f"{self.scheme}://{host}{port}{self.target}"


@dataclass(frozen=True)
class WebhookTarget:
    """A parsed URL and the addresses its host resolved to, all checked: the only ones to connect to."""

    url: WebhookUrl
    addresses: tuple[str, ...]


def check_webhook_url(
    url: str, allowed_private_hosts: Iterable[str] = (), resolve: Resolver | None = None
) -> None:
    """Raise ``UnsafeWebhookUrl`` unless ``url`` is http(s) to a host with only public addresses.

    ``allowed_private_hosts`` holds ``host`` or ``host:port`` entries exempt from the address
    checks: ``host`` matches that host on any port, ``host:port`` only that port (the scheme's
    default port when the URL has none). Hosts compare case-insensitively; nothing else is
    normalised, so ``127.0.0.1`` does not exempt ``localhost``. An exempt host is not resolved here.
    """
    parsed = parse_webhook_url(url)
    if _is_allowed(parsed, allowed_private_hosts):
        return
    _checked_addresses(parsed, resolve)


def resolve_webhook_target(
    url: str, allowed_private_hosts: Iterable[str] = (), resolve: Resolver | None = None
) -> WebhookTarget:
    """``url`` parsed and resolved once, every address checked (``check_webhook_url``'s rules).

    An exempt host is resolved too (the delivery needs an address) but its addresses are not checked.
    """
    parsed = parse_webhook_url(url)
    if _is_allowed(parsed, allowed_private_hosts):
        literal = _literal(parsed.host)
        addresses = [literal] if literal is not None else _resolve(parsed.host, parsed.port, resolve)
        return WebhookTarget(parsed, _unique(addresses))
    return WebhookTarget(parsed, _unique(_checked_addresses(parsed, resolve)))


def parse_webhook_url(url: str) -> WebhookUrl:
    """The strict reading of ``url`` (module docstring); ``UnsafeWebhookUrl`` when it has none."""
    if not isinstance(url, str) or not url:
        raise UnsafeWebhookUrl("webhook URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeWebhookUrl(f"webhook URL is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in url):
        raise UnsafeWebhookUrl("webhook URL must not contain whitespace or control characters")
    if "\\" in url:
        raise UnsafeWebhookUrl("webhook URL must not contain a backslash")
    scheme_match = _SCHEME.match(url)
    scheme = scheme_match.group(1).lower() if scheme_match else ""
    if scheme not in _DEFAULT_PORTS:
        raise UnsafeWebhookUrl("webhook URL must use http or https")
    rest = url[scheme_match.end():] if scheme_match else ""
    if not rest.startswith("//"):
        raise UnsafeWebhookUrl("webhook URL has no host")
    rest = rest[2:]
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    target = rest[len(authority):].split("#", 1)[0]
    if "@" in authority:
        raise UnsafeWebhookUrl("webhook URL must not contain user information (user:password@)")
    raw_host, port_text = _split_authority(authority)
    if not raw_host:
        raise UnsafeWebhookUrl("webhook URL has no host")
    host = _normalised_host(raw_host)
    if port_text:
        if not _PORT.fullmatch(port_text) or not 1 <= int(port_text) <= 65535:
            raise UnsafeWebhookUrl("webhook URL is malformed (bad port)")
        port, explicit = int(port_text), True
    else:
        port, explicit = _DEFAULT_PORTS[scheme], False
    if not target.startswith("/"):
        target = "/" + target
    return WebhookUrl(scheme, host, port, explicit, target)


def _split_authority(authority: str) -> tuple[str, str]:
    """(host, port text) of ``host[:port]`` or ``[v6][:port]``; the host keeps its brackets."""
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise UnsafeWebhookUrl("webhook URL is malformed (unclosed [)")
        host, after = authority[: end + 1], authority[end + 1 :]
        if after and not after.startswith(":"):
            raise UnsafeWebhookUrl("webhook URL is malformed")
        return host, after[1:]
    host, _, port = authority.partition(":")
    if ":" in port:
        raise UnsafeWebhookUrl("webhook URL is malformed (an IPv6 address must be in brackets)")
    return host, port


def _normalised_host(raw: str) -> str:
    if raw.startswith("["):
        return _ipv6_literal(raw[1:-1])
    if "%" in raw:
        raise UnsafeWebhookUrl("webhook host must not be percent-encoded")
    try:
        host = raw.encode("idna").decode("ascii").lower() if not raw.isascii() else raw.lower()
    except UnicodeError:
        raise UnsafeWebhookUrl("webhook host is not a valid host name") from None
    if not _HOST_NAME.fullmatch(host):
        raise UnsafeWebhookUrl("webhook host contains characters a host name cannot have")
    if not _DOTTED_QUAD.fullmatch(host):
        spelled = _inet_aton(host)
        if spelled is not None:
            reason = non_public_reason(spelled)
            if reason is not None:
                raise UnsafeWebhookUrl(f"webhook host {host} resolves to {spelled}, which is not public ({reason})")
            raise UnsafeWebhookUrl(f"webhook host {host} is an unusual spelling of {spelled}; write {spelled}")
    return host


def _ipv6_literal(text: str) -> str:
    address, percent, zone = text.partition("%")
    try:
        parsed = ipaddress.IPv6Address(address)
    except ValueError:
        raise UnsafeWebhookUrl("webhook URL is malformed (bad IPv6 address)") from None
    if percent:
        # A zone only exists for link-local and similar scopes: never a public target.
        reason = non_public_reason(parsed) or "has a zone id"
        raise UnsafeWebhookUrl(f"webhook host {text} is {parsed}, which is not public ({reason})")
    return parsed.compressed


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address a numeric host denotes in any form ``inet_aton`` accepts; ``None`` for a name."""
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


def _literal(host: str) -> str | None:
    try:
        return ipaddress.ip_address(host).compressed
    except ValueError:
        return None


def _is_allowed(url: WebhookUrl, allowed: Iterable[str]) -> bool:
    for entry in allowed:
        allowed_host, allowed_port = _split_host_port(entry.strip().lower())
        if allowed_host == url.host and (allowed_port is None or allowed_port == url.port):
            return True
    return False


def _split_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [v6] or [v6]:port
        host, _, rest = entry[1:].partition("]")
        host = _literal(host) or host
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    host, sep, port = entry.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, int(port)
    return entry, None


def _checked_addresses(url: WebhookUrl, resolve: Resolver | None) -> list[str]:
    literal = _literal(url.host)
    if literal is not None:
        reason = non_public_reason(ipaddress.ip_address(literal))
        if reason is not None:
            raise UnsafeWebhookUrl(f"webhook host {url.host} is not public ({reason})")
        return [literal]
    addresses = _resolve(url.host, url.port, resolve)
    for address in addresses:
        reason = non_public_reason(ipaddress.ip_address(address))
        if reason is not None:
            raise UnsafeWebhookUrl(f"webhook host {url.host} resolves to {address}, which is not public ({reason})")
    return addresses


def _resolve(host: str, port: int, resolve: Resolver | None) -> list[str]:
    lookup = resolve or socket.getaddrinfo  # looked up per call: tests patch socket.getaddrinfo
    try:
        infos = lookup(host, port, 0, socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError):
        raise UnsafeWebhookUrl(f"webhook host {host} does not resolve") from None
    addresses: list[str] = []
    for info in infos or ():
        try:
            addresses.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]).compressed)
        except (ValueError, IndexError, TypeError):
            raise UnsafeWebhookUrl(f"webhook host {host} resolves to an unusable address") from None
    if not addresses:
        raise UnsafeWebhookUrl(f"webhook host {host} does not resolve")
    return addresses


def _unique(addresses: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(addresses))


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
