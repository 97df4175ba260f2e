"""HTTP to the providers: one keep-alive session per provider, and the failure policy every adapter shares.

``requests`` is imported on first use so the API function, which only checks sender configuration,
does not pay for it at cold start.

Policy (applied before and after an adapter reads the provider's body). A failure is classified by
whether the request may have reached the provider, since only a request that certainly did not can
be sent again without risking a second delivery:

- failed before the request was sent (DNS failure, connection refused, connect timeout, TLS
  handshake failure): RETRY 1100;
- failed after it may have been sent (read timeout, connection reset or a protocol error while
  sending the body or reading the answer): UNKNOWN 1100;
- a provider URL that cannot be requested (bad ``api_base``): REJECTED 1030;
- HTTP 429: RETRY 1000, whatever the body says, carrying the ``Retry-After`` wait when there is one;
  the credential is then paused for that long in this container (``pacing``);
- HTTP 503: the adapter's reading if it is a retry or a specific rejection, else RETRY 1100 (the
  server says it did not handle the request);
- any other HTTP 5xx: the adapter's reading is kept only when it is a retry or a specific rejection
  (any code but 1030), that is the provider's own answer saying it did not take the message; an
  acceptance, an unknown provider code or a body that is not the provider's (a gateway's 502/504)
  becomes UNKNOWN 1100: a proxy's 5xx can follow a request the provider accepted;
- any other status: the adapter's reading stands (an unparsable body is REJECTED 1030).

Where a request failed is not in the exception's type: a TLS handshake the server breaks off is a
``ConnectionError`` like a reset while reading the answer, and one it never answers is a
``ReadTimeout`` like a slow answer. So the sessions' connections record, per thread, whether the
request's connection was open (``connected``: connected and handshaken, or a kept-alive one reused)
when the failure happened; only a failure before that point is certainly unsent. When no
connection of ours ran (a test double of the session), urllib3's wrapping decides: a failure to
open a connection comes wrapped in ``MaxRetryError`` (read retries are off).

Request URLs are never logged or put in a reason: the Messenger one carries the page access token.

Every request with a ``credential`` first waits for that credential's turn (``pacing.ProviderPacer``,
the provider's send rate limit shared out between the sender's containers); one that would wait too
long is not sent and comes back as RETRY 1000, so the queue holds it instead of the container.

The pool size, timeouts and number of sender containers are the SenderFunction's settings: its composition module calls
``configure`` once before the first send; a send before that fails loudly instead of guessing.
"""
from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from switchboard.adapters.providers.pacing import ProviderPacer
from switchboard.domain.error_codes import COMMUNICATION_FAILED, INTERNAL_ERROR, THROTTLED
from switchboard.domain.sending import SendOutcome, SendResult, rejected, retry, unknown
from switchboard.observability import logger

if TYPE_CHECKING:
    import requests

_sessions: dict[str, "requests.Session"] = {}
_sessions_lock = threading.Lock()


@dataclass(frozen=True)
class ProviderHttp:
    pool_size: int  # connections kept per provider: the sender's concurrency
    connect_timeout: float
    read_timeout: float
    containers: int = 1  # sender containers at most (MaximumConcurrency): each paces 1/containers of a limit
    pacing: bool = True  # False: sends never wait for a provider's rate limit (a 429 still backs off)


_http: ProviderHttp | None = None
_pacer: ProviderPacer | None = None


def configure(http: ProviderHttp) -> None:
    """Use ``http`` for every later session and request (sessions made before are closed)."""
    global _http, _pacer
    _http = http
    _pacer = ProviderPacer(containers=http.containers) if http.pacing else None
    reset_sessions()


def configure_once(http: ProviderHttp) -> None:
    """``configure(http)`` unless provider HTTP is configured already (a function that only sometimes
    calls a provider, such as the API marking a WhatsApp message read, keeps the sender's settings)."""
    if _http is None:
        configure(http)


def timeouts() -> tuple[float, float]:
    """``(connect, read)`` seconds of the configured provider HTTP, for calls that are not sends."""
    config = _configured()
    return config.connect_timeout, config.read_timeout


def _configured() -> ProviderHttp:
    if _http is None:
        raise RuntimeError("provider HTTP is not configured: call transport.configure() (the sender's composition does)")
    return _http


@dataclass(frozen=True)
class ProviderReply:
    status_code: int
    body: Any  # the parsed JSON body, or None when it is not JSON


Interpreter = Callable[[ProviderReply], SendResult]


def redact(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced, for provider messages that may echo a credential."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return text


def session(provider: str) -> "requests.Session":
    """The provider's session, created on first use and reused by every later (warm) invocation."""
    existing = _sessions.get(provider)
    if existing is not None:
        return existing
    with _sessions_lock:
        if provider not in _sessions:
            _sessions[provider] = _new_session()
        return _sessions[provider]


def reset_sessions() -> None:
    """Close and forget every session (``configure`` does, so new settings apply)."""
    with _sessions_lock:
        for each in _sessions.values():
            each.close()
        _sessions.clear()


def _new_session() -> "requests.Session":
    # Retries go through the queue with back-off, never inside one attempt.
    adapter = _tracking_adapter_class()(pool_maxsize=_configured().pool_size, max_retries=0)
    new = _provider_session_class()()
    new.mount("https://", adapter)
    new.mount("http://", adapter)
    return new


@functools.cache
def _provider_session_class() -> type:
    """A ``requests.Session`` that reads the environment's request settings once per provider origin.

    A plain session honours ``HTTPS_PROXY`` / ``NO_PROXY`` and ``REQUESTS_CA_BUNDLE`` by reading the
    whole process environment on every request (``merge_environment_settings``), which cost about a
    third of a provider call's CPU time, and looks for a ``.netrc`` file on disk (two file system
    calls, each letting another thread take the interpreter lock). The environment and files of a
    function do not change while it runs, so the answers for an origin (scheme, host and port;
    ``NO_PROXY`` and ``.netrc`` depend on the host) are kept and reused. A call that passes its own
    proxies, stream, verify, cert or auth is handled afresh.
    """
    from urllib.parse import urlsplit

    import requests
    import requests.utils

    def unchanged(prepared: Any) -> Any:
        """No credentials (what a missing ``.netrc`` entry means), as an auth callable."""
        return prepared

    class ProviderSession(requests.Session):
        def __init__(self) -> None:
            super().__init__()
            self._environment: dict[tuple[str, str], dict[str, Any]] = {}
            self._netrc: dict[tuple[str, str], Any] = {}

        def prepare_request(self, request: Any) -> Any:
            if request.auth or self.auth or not self.trust_env:
                return super().prepare_request(request)
            parts = urlsplit(request.url)
            origin = (parts.scheme, parts.netloc)
            if origin not in self._netrc:
                self._netrc[origin] = requests.utils.get_netrc_auth(request.url)
            # With credentials set, the plain session does not look for a .netrc file itself.
            request.auth = self._netrc[origin] or unchanged
            return super().prepare_request(request)

        def merge_environment_settings(
            self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any
        ) -> dict[str, Any]:
            if proxies or stream is not None or verify is not None or cert is not None or not self.trust_env:
                return super().merge_environment_settings(url, proxies, stream, verify, cert)
            parts = urlsplit(url)
            origin = (parts.scheme, parts.netloc)
            settings = self._environment.get(origin)
            if settings is None:
                settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
                self._environment[origin] = settings
            # Copies: requests hands these on to the adapter and redirect handling.
            return {**settings, "proxies": dict(settings["proxies"])}

    return ProviderSession


# -- where a request got to -------------------------------------------------------------------

_PENDING = "pending"  # no connection work of ours has run for this request yet
_CONNECTING = "connecting"  # resolving, connecting or in the TLS handshake: nothing sent
_CONNECTED = "connected"  # the connection is open: any byte of the request may have left

_stage = threading.local()


def _set_stage(stage: str) -> None:
    _stage.value = stage


def _current_stage() -> str:
    return getattr(_stage, "value", _PENDING)


@functools.cache
def _tracking_adapter_class() -> type:
    """An ``HTTPAdapter`` whose connections record the request's stage (built on first use: lazy imports)."""
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Tracking:
        sock: Any

        def connect(self) -> None:
            _set_stage(_CONNECTING)
            super().connect()  # type: ignore[misc]
            _set_stage(_CONNECTED)

        def request(self, *args: Any, **kwargs: Any) -> Any:
            if self.sock is not None:  # a kept-alive connection, reused
                _set_stage(_CONNECTED)
            return super().request(*args, **kwargs)  # type: ignore[misc]

    class TrackingHTTPConnection(Tracking, HTTPConnection):
        pass

    class TrackingHTTPSConnection(Tracking, HTTPSConnection):
        pass

    class TrackingHTTPPool(HTTPConnectionPool):
        ConnectionCls = TrackingHTTPConnection

    class TrackingHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = TrackingHTTPSConnection

    class TrackingAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {"http": TrackingHTTPPool, "https": TrackingHTTPSPool}

    return TrackingAdapter


def post(
    provider: str,
    url: str,
    interpret: Interpreter,
    *,
    message_uuid: str,
    params: dict[str, str] | None = None,
    json: dict[str, Any] | None = None,
    data: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    credential: str | None = None,
) -> SendResult:
    """POST to the provider and turn the outcome into a ``SendResult`` with ``interpret`` and the policy above.

    ``credential`` (the API key, Page or service the request is sent as) is what the provider's rate
    limit counts: the request waits for its turn first.
    """
    import requests

    log_keys = {"provider": provider, "message_uuid": message_uuid}
    config = _configured()
    if credential and _pacer is not None and not _pacer.acquire(provider, credential):
        logger.info("provider send rate reached; queued again", extra=log_keys)
        return retry(THROTTLED, f"{provider} send rate limit reached in this sender")
    _set_stage(_PENDING)
    try:
        response = session(provider).post(
            url,
            params=params,
            json=json,
            data=data,
            headers=headers,
            timeout=(config.connect_timeout, config.read_timeout),
        )
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        logger.error("provider URL is misconfigured", extra=log_keys)
        return rejected(INTERNAL_ERROR, f"{provider} api_base is misconfigured")
    except requests.exceptions.RequestException as exc:
        return _failure(provider, exc, log_keys, _current_stage())

    status = response.status_code
    if status == 429:
        wait = retry_after_seconds(response.headers.get("Retry-After"))
        if credential and _pacer is not None and wait is not None:
            _pacer.pause(provider, credential, wait)
        result = replace(retry(THROTTLED, f"{provider} returned HTTP 429"), retry_after_seconds=wait)
    else:
        result = interpret(ProviderReply(status, _json_or_none(response)))
        if status >= 500 and not _trusted_on_server_error(result):
            detail = f"{provider} returned HTTP {status}"
            if result.error_reason:
                detail = f"{detail} ({result.error_reason})"
            result = retry(COMMUNICATION_FAILED, detail) if status == 503 else unknown(COMMUNICATION_FAILED, detail)
    _log_result(result, status, log_keys)
    return result


MAX_RETRY_AFTER_SECONDS = 900.0  # SQS's longest delay


def retry_after_seconds(header: str | None, now: float | None = None) -> float | None:
    """A 429's ``Retry-After`` (seconds, or an HTTP date) as seconds within 0..900; None when absent or unreadable."""
    if not header:
        return None
    text = header.strip()
    try:
        seconds = float(text)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            when = parsedate_to_datetime(text).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        seconds = when - (time.time() if now is None else now)
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_SECONDS)


def _failure(
    provider: str, exc: "requests.exceptions.RequestException", log_keys: dict[str, str], stage: str
) -> SendResult:
    """A request that raised: RETRY if it certainly was not sent, else UNKNOWN (module docstring)."""
    import requests

    failure = {**log_keys, "failure": type(exc).__name__, "stage": stage}
    if not_sent(exc, stage):
        logger.warning("provider request failed before it was sent", extra=failure)
        if isinstance(exc, requests.exceptions.Timeout):
            return retry(COMMUNICATION_FAILED, f"{provider} connect timed out")
        return retry(COMMUNICATION_FAILED, f"{provider} connection failed ({type(exc).__name__})")
    logger.warning("provider request failed after it may have been sent; outcome unknown", extra=failure)
    if isinstance(exc, requests.exceptions.Timeout):
        return unknown(COMMUNICATION_FAILED, f"{provider} did not answer in time")
    return unknown(COMMUNICATION_FAILED, f"{provider} connection lost before the answer ({type(exc).__name__})")


def not_sent(exc: BaseException, stage: str = _PENDING) -> bool:
    """Whether ``exc`` failed the request before any of it can have reached the provider.

    By the stage our connections recorded: while connecting (DNS, refused, unreachable, connect
    timeout, TLS handshake) it was not sent; once connected it may have been. With no stage recorded,
    a connect timeout or a failure wrapped in urllib3's ``MaxRetryError`` was not sent; anything else
    may have been (the safe side: it is not sent again).
    """
    import requests
    from urllib3.exceptions import MaxRetryError

    if stage == _CONNECTING:
        return True
    if stage == _CONNECTED:
        return False
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    return isinstance(exc, requests.exceptions.ConnectionError) and any(
        isinstance(arg, MaxRetryError) for arg in exc.args
    )


def unparsable(provider: str, reply: ProviderReply) -> SendResult:
    """The reading of a body that is not the provider's documented shape (made a retry on 5xx)."""
    return rejected(INTERNAL_ERROR, f"unrecognised {provider} response (HTTP {reply.status_code})")


def _trusted_on_server_error(result: SendResult) -> bool:
    if result.outcome in (SendOutcome.RETRY, SendOutcome.UNKNOWN):
        return True
    return result.outcome is SendOutcome.REJECTED and result.error_code != INTERNAL_ERROR


def _json_or_none(response: "requests.Response") -> Any:
    try:
        return response.json()
    except ValueError:  # requests' JSONDecodeError derives from ValueError
        return None


def _log_result(result: SendResult, http_status: int, log_keys: dict[str, str]) -> None:
    if result.outcome is SendOutcome.ACCEPTED:
        logger.debug("provider accepted the message", extra={**log_keys, "http_status": http_status})
        return
    if result.outcome is SendOutcome.UNKNOWN:
        extra = {**log_keys, "http_status": http_status, "outcome": result.outcome.value}
        logger.warning("provider answer does not say whether it took the message", extra=extra)
        return
    outcome = {"http_status": http_status, "outcome": result.outcome.value, "error_code": result.error_code}
    logger.info("provider did not accept the message", extra={**log_keys, **outcome})
