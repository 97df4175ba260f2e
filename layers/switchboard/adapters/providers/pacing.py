"""Provider pacing: each provider credential's send rate limit, kept by every sender container.

A provider limits sends per credential (the SMS API per API key, Messenger per Page, Viber per
service, WhatsApp per business phone number): past it, it answers 429 (or the SMS API's status 1, "Throttled"), and a sender that retries
at once only feeds a retry storm. ``ProviderPacer`` is a token bucket per (provider, credential) in
the container's memory: a send waits for a token before its request goes out. The SenderFunction
runs at most ``QueueConsumerMaxConcurrency`` containers at once (the event source's
``MaximumConcurrency``), so each container keeps ``limit / containers`` and together they stay
within the provider's limit without a shared counter (a shared DynamoDB bucket would add a write per
send, which the cost per message cannot afford; docs/providers.md, "Pacing").

``switchboard.adapters.providers.transport`` paces every provider request through one pacer per
container. A provider's 429 with ``Retry-After`` pauses that credential in this container until then
(``pause``): the sends waiting for it, and the message itself (its SQS record comes back no earlier,
``SendResult.retry_after_seconds``), back off instead of retrying at once.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Sends per second per credential, as the providers publish them (docs/providers.md says which are verified).
PROVIDER_SEND_LIMITS: Mapping[str, float] = {"sms": 30.0, "messenger": 300.0, "viber": 100.0, "whatsapp": 80.0}
# Longest a send waits for its turn; past it the send goes back to the queue (a retry) instead.
MAX_WAIT_SECONDS = 5.0


@dataclass
class _Bucket:
    rate: float
    tokens: float
    updated: float
    paused_until: float = 0.0


class ProviderPacer:
    def __init__(
        self,
        limits: Mapping[str, float] = PROVIDER_SEND_LIMITS,
        containers: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        max_wait_seconds: float = MAX_WAIT_SECONDS,
    ) -> None:
        self._rates = {provider: limit / max(1, containers) for provider, limit in limits.items()}
        self._clock = clock
        self._sleep = sleep
        self._max_wait = max_wait_seconds
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._lock = threading.Lock()

    def rate(self, provider: str) -> float | None:
        """This container's sends per second per credential of ``provider`` (None: not paced)."""
        return self._rates.get(provider)

    def acquire(self, provider: str, credential: str) -> bool:
        """Wait for the credential's turn to send; False if that would take longer than the longest wait."""
        rate = self._rates.get(provider)
        if rate is None:
            return True
        with self._lock:
            bucket = self._bucket(provider, credential, rate)
            now = self._clock()
            bucket.tokens = min(max(rate, 1.0), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            # A token is taken now (possibly going negative): concurrent sends queue up in order.
            ready_at = max(bucket.paused_until, now + max(0.0, 1.0 - bucket.tokens) / rate)
            wait = ready_at - now
            if wait > self._max_wait:
                return False
            bucket.tokens -= 1.0
        if wait > 0:
            self._sleep(wait)
        return True

    def pause(self, provider: str, credential: str, seconds: float) -> None:
        """The provider said to wait ``seconds`` (429 Retry-After): no send on this credential before then."""
        rate = self._rates.get(provider)
        if rate is None or seconds <= 0:
            return
        with self._lock:
            bucket = self._bucket(provider, credential, rate)
            bucket.paused_until = max(bucket.paused_until, self._clock() + seconds)

    def _bucket(self, provider: str, credential: str, rate: float) -> _Bucket:
        key = (provider, credential)
        if key not in self._buckets:
            self._buckets[key] = _Bucket(rate=rate, tokens=max(rate, 1.0), updated=self._clock())
        return self._buckets[key]
