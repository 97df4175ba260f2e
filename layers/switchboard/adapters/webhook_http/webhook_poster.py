"""One webhook POST: SSRF check, exact body bytes, strict timeouts, no redirects.

Any 2xx answer is a delivery. Everything else is a failed attempt the caller retries: another
status (3xx included), a timeout, a connection error, or a URL the SSRF guard refuses now.

The URL is parsed and its host resolved once, by the guard; the POST goes to the addresses it
checked (``pinned_connection``), so the host is never looked up again between check and connection.
Redirects are never followed: the guard checked the URL we were given, and following a
``Location`` could reach an internal host it never saw.
"""
from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import requests

from switchboard.adapters.webhook_http.pinned_connection import pinned_request, webhook_session
from switchboard.adapters.webhook_http.ssrf_guard import Resolver, UnsafeWebhookUrl, resolve_webhook_target
from switchboard.domain.webhook_post import PostResult

CONNECT_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 15.0
# The longest one delivery attempt is allowed to need: connect and read, plus resolving the host and
# recording the attempt. The notifier starts no attempt with less than this left before its timeout.
ATTEMPT_SECONDS = CONNECT_TIMEOUT_SECONDS + READ_TIMEOUT_SECONDS + 4.0
USER_AGENT = "switchboard-webhooks/0.1"
# The answer's body is read only so the connection can be reused; a longer one is cut off.
MAX_RESPONSE_BYTES = 64 * 1024
POOL_SIZE = 20  # connections kept per webhook host
TARGET_POOLS = 100  # webhook hosts whose connections are kept


@lru_cache(maxsize=1)
def shared_session() -> requests.Session:
    """One keep-alive session per process, shared by the notifier's worker threads.

    It keeps a connection pool per webhook host (the most recent ``TARGET_POOLS`` of them).
    """
    return webhook_session(pool_connections=TARGET_POOLS, pool_maxsize=POOL_SIZE)


class WebhookPoster:
    def __init__(
        self,
        session: requests.Session | None = None,
        allowed_private_hosts: Iterable[str] = (),
        resolve: Resolver | None = None,
        connect_timeout: float = CONNECT_TIMEOUT_SECONDS,
        read_timeout: float = READ_TIMEOUT_SECONDS,
    ) -> None:
        self._session = session or shared_session()  # another session must come from ``webhook_session``
        self._allowed_private_hosts = tuple(allowed_private_hosts)
        self._resolve = resolve
        self._timeout = (connect_timeout, read_timeout)

    def post(self, url: str, body: bytes, authorization: str) -> PostResult:
        try:
            target = resolve_webhook_target(url, self._allowed_private_hosts, self._resolve)
        except UnsafeWebhookUrl as refused:
            return PostResult(False, error=f"unsafe url: {refused}")
        headers = {
            "Content-Type": "application/json",
            "Authorization": authorization,
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
        }
        request = pinned_request(target, "POST", headers, body)
        try:
            response = self._session.send(request, timeout=self._timeout, allow_redirects=False, stream=True)
        except requests.Timeout:
            return PostResult(False, error="timeout")
        except requests.ConnectionError:
            return PostResult(False, error="connection error")
        except requests.RequestException as exc:
            return PostResult(False, error=f"request failed ({type(exc).__name__})")
        try:
            _drain(response)
        finally:
            response.close()
        if 200 <= response.status_code < 300:
            return PostResult(True, http_status=response.status_code)
        if response.is_redirect:
            return PostResult(False, http_status=response.status_code, error="redirect not followed")
        return PostResult(False, http_status=response.status_code, error=f"http {response.status_code}")


def _drain(response: requests.Response) -> None:
    read = 0
    try:
        for chunk in response.iter_content(chunk_size=8192):
            read += len(chunk)
            if read >= MAX_RESPONSE_BYTES:
                return
    except requests.RequestException:
        return  # the status line is what counts; a broken body does not change the outcome
