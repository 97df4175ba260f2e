"""HTTP to the providers: one keep-alive session per provider, and the failure policy every adapter shares.

``requests`` is imported on first use so the API function, which only checks sender configuration,
does not pay for it at cold start.

Policy (applied before and after an adapter reads the provider's body):

- timeout or connection failure: RETRY 1100;
- a provider URL that cannot be requested (bad ``api_base``): REJECTED 1030;
- HTTP 429: RETRY 1000, whatever the body says;
- HTTP 5xx: the adapter's reading is kept only when it is a retry or a specific rejection (any code
  but 1030); an acceptance, an unknown provider code or an unparsable body becomes RETRY 1100;
- any other status: the adapter's reading stands (an unparsable body is REJECTED 1030).

Request URLs are never logged or put in a reason: the Messenger one carries the page access token.

The pool size and timeouts are the SenderFunction's settings: its composition module calls
``configure`` once before the first send; a send before that fails loudly instead of guessing.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from switchboard.domain.error_codes import COMMUNICATION_FAILED, INTERNAL_ERROR, THROTTLED
from switchboard.domain.sending import SendOutcome, SendResult, rejected, retry
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


_http: ProviderHttp | None = None


def configure(http: ProviderHttp) -> None:
    """Use ``http`` for every later session and request (sessions made before are closed)."""
    global _http
    _http = http
    reset_sessions()


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
    import requests
    from requests.adapters import HTTPAdapter

    # Retries go through the queue with back-off, never inside one attempt.
    adapter = HTTPAdapter(pool_maxsize=_configured().pool_size, max_retries=0)
    new = requests.Session()
    new.mount("https://", adapter)
    new.mount("http://", adapter)
    return new


def post(
    provider: str,
    url: str,
    interpret: Interpreter,
    *,
    message_uuid: str,
    params: dict[str, str] | None = None,
    json: dict[str, Any] | None = None,
    data: dict[str, str] | None = None,
) -> SendResult:
    """POST to the provider and turn the outcome into a ``SendResult`` with ``interpret`` and the policy above."""
    import requests

    log_keys = {"provider": provider, "message_uuid": message_uuid}
    config = _configured()
    try:
        response = session(provider).post(
            url,
            params=params,
            json=json,
            data=data,
            timeout=(config.connect_timeout, config.read_timeout),
        )
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
        logger.error("provider URL is misconfigured", extra=log_keys)
        return rejected(INTERNAL_ERROR, f"{provider} api_base is misconfigured")
    except requests.exceptions.Timeout as exc:
        logger.warning("provider request timed out", extra={**log_keys, "failure": type(exc).__name__})
        return retry(COMMUNICATION_FAILED, f"{provider} timed out")
    except requests.exceptions.RequestException as exc:
        logger.warning("provider request failed", extra={**log_keys, "failure": type(exc).__name__})
        return retry(COMMUNICATION_FAILED, f"{provider} connection failed ({type(exc).__name__})")

    status = response.status_code
    if status == 429:
        result = retry(THROTTLED, f"{provider} returned HTTP 429")
    else:
        result = interpret(ProviderReply(status, _json_or_none(response)))
        if status >= 500 and not _trusted_on_server_error(result):
            detail = f"{provider} returned HTTP {status}"
            if result.error_reason:
                detail = f"{detail} ({result.error_reason})"
            result = retry(COMMUNICATION_FAILED, detail)
    _log_result(result, status, log_keys)
    return result


def unparsable(provider: str, reply: ProviderReply) -> SendResult:
    """The reading of a body that is not the provider's documented shape (made a retry on 5xx)."""
    return rejected(INTERNAL_ERROR, f"unrecognised {provider} response (HTTP {reply.status_code})")


def _trusted_on_server_error(result: SendResult) -> bool:
    if result.outcome is SendOutcome.RETRY:
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
    outcome = {"http_status": http_status, "outcome": result.outcome.value, "error_code": result.error_code}
    logger.info("provider did not accept the message", extra={**log_keys, **outcome})
