"""An HTTP transport that connects only to addresses the SSRF guard checked.

``requests`` and urllib3 would resolve a URL's host again when they open a connection, after the
guard looked at it: a name answering a public address to the check and a private one to the
connection (DNS rebinding) would reach an internal host. Here the guard's ``WebhookTarget`` travels
with the request (``PinnedRequest``) and the adapter opens its sockets to ``target.addresses``
themselves, never resolving anything. The connection still speaks to the host by name: the
``Host`` header, TLS SNI and certificate verification all use the URL's host.

Connection pools are keyed by scheme, host, port and the set of checked addresses, so keep-alive
connections to one webhook host are reused from one delivery to the next while its DNS answer
stays the same (in any order), and a changed answer gets a new pool whose sockets go to the new,
checked addresses. Proxies are never used: a proxy would resolve the name itself.
"""
from __future__ import annotations

import socket
from collections import namedtuple
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.poolmanager import PoolKey, PoolManager, _default_key_normalizer

from switchboard.adapters.webhook_http.ssrf_guard import WebhookTarget

_PINNED = "pinned_addresses"
PinnedPoolKey = namedtuple("PinnedPoolKey", (*PoolKey._fields, f"key_{_PINNED}"))  # type: ignore[misc]


class PinnedRequest(requests.PreparedRequest):
    """A prepared request that may only be sent to the addresses ``target`` was checked at."""

    def __init__(self, target: WebhookTarget) -> None:
        super().__init__()
        self.target = target

    def copy(self) -> PinnedRequest:
        duplicate = PinnedRequest(self.target)
        duplicate.__dict__.update(super().copy().__dict__)
        return duplicate


def pinned_request(target: WebhookTarget, method: str, headers: dict[str, str], body: bytes) -> PinnedRequest:
    request = PinnedRequest(target)
    request.prepare(method=method, url=target.url.url, headers=headers, data=body)
    return request


def open_socket(
    addresses: tuple[str, ...],
    port: int,
    timeout: Any,
    source_address: tuple[str, int] | None = None,
    socket_options: Any = None,
) -> socket.socket:
    """A TCP socket to the first of ``addresses`` that accepts, tried in order; no name lookups."""
    last_error: OSError = OSError("no checked address to connect to")
    for address in addresses:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            for option in socket_options or ():
                sock.setsockopt(*option)
            if timeout is None or isinstance(timeout, (int, float)):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect((address, port))
            return sock
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error


class _PinnedConnectionMixin:
    """Replaces urllib3's ``_new_conn`` (resolve ``host``, connect) by a connect to the pinned addresses."""

    host: str
    port: int
    timeout: Any
    source_address: tuple[str, int] | None
    socket_options: Any

    def __init__(self, *args: Any, pinned_addresses: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_addresses = pinned_addresses

    def _new_conn(self) -> socket.socket:
        try:
            return open_socket(self.pinned_addresses, self.port, self.timeout, self.source_address, self.socket_options)
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc  # type: ignore[arg-type]


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


def _pinned_pool_key(request_context: dict[str, Any]) -> PoolKey:
    """The pool key: urllib3's, plus the checked addresses as a set (a rotated DNS answer is the same pool).

    The pool itself keeps them in the resolver's order of preference, as first seen.
    """
    context = {**request_context, _PINNED: frozenset(request_context.get(_PINNED) or ())}
    return _default_key_normalizer(PinnedPoolKey, context)


class _PinnedPoolManager(PoolManager):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool_classes_by_scheme = {"http": _PinnedHTTPConnectionPool, "https": _PinnedHTTPSConnectionPool}
        self.key_fn_by_scheme = {"http": _pinned_pool_key, "https": _pinned_pool_key}


class PinnedAddressAdapter(HTTPAdapter):
    """Sends ``PinnedRequest``s to their checked addresses; refuses any other request."""

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        self._pool_connections = connections
        self._pool_maxsize = maxsize
        self._pool_block = block
        self.poolmanager = _PinnedPoolManager(num_pools=connections, maxsize=maxsize, block=block, **pool_kwargs)

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        target = getattr(request, "target", None)
        if not isinstance(target, WebhookTarget) or not target.addresses:
            raise ValueError("a webhook request must carry the addresses its URL was checked at")
        _, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        pool_kwargs[_PINNED] = target.addresses
        url = target.url
        return {"scheme": url.scheme, "host": url.host, "port": url.port}, pool_kwargs

    def get_connection_with_tls_context(
        self, request: requests.PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> HTTPConnectionPool:
        return super().get_connection_with_tls_context(request, verify, None, cert)

    def request_url(self, request: requests.PreparedRequest, proxies: Any) -> str:
        return super().request_url(request, None)


def webhook_session(pool_connections: int, pool_maxsize: int, verify: bool | str = True) -> requests.Session:
    """A session whose every request must be a ``PinnedRequest``; ``verify`` as in ``requests``."""
    session = requests.Session()
    session.trust_env = False  # no proxies, no .netrc credentials from the environment
    session.verify = verify
    adapter = PinnedAddressAdapter(pool_connections=pool_connections, pool_maxsize=pool_maxsize, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
