"""Measurement: does a probe with an unknown API key take as long as a wrong secret for a known key?

If it did not, a prober could tell which API keys exist from the time a 401 takes. Both kinds of
probe are Basic credentials checked by the real ``Authenticator`` and ``AccountStore``:

- ``first_probe``: a fresh ``Authenticator`` each time, as a prober's first request finds a function
  with nothing cached: the account lookup (a hit for the known key, a miss for a new random
  unknown key), then the secret check. DynamoDB's answers come from memory, in DynamoDB's own item
  format (the stored account, or no item), so the figure is our code's work alone;
- ``first_probe.moto``: the same with moto answering the lookup in this process. moto spends far
  more CPU serialising a found item than saying "no item", which is moto's cost, not ours (AWS
  does that work on its side; on the wire the difference is a few hundred bytes of response), so
  this row has no target and is there to show it;
- ``cached_probe``: one warm ``Authenticator`` per kind whose lookup result is cached (the known
  account, and the unknown key's miss), a new wrong secret each time.

Samples are taken in interleaved blocks, alternating which kind goes first. Each row's value is the
slower kind's median and its baseline the faster kind's, so the ratio is the gap whichever way it
goes (1.0x: indistinguishable); the note says which kind was slower.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from bench.aws_sandbox import aws_sandbox
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from bench.stats import percentile
from tests.support.stores import AccountStore
from switchboard.adapters.dynamodb.account_items import ACCOUNT_PREFIX
from tests.support.lambdas import basic_auth
from tests.support.stores import wired_authenticator

TARGET_GAP = 1.1  # the slower kind's median at most 10 % above the faster one's
BLOCK = 50
UNKNOWN_KEY = "unknown_key"
WRONG_SECRET = "wrong_secret"


class MemoryAccounts(AccountStore):
    """The real store, its DynamoDB reads answered from ``items`` (pk -> item in DynamoDB's format)."""

    def __init__(self, items: dict[str, Any]) -> None:
        super().__init__()
        self._items = items

    def _get_raw(self, pk: str) -> dict[str, Any] | None:
        return self._items.get(pk)


def gap_measurement(
    name: str, unknown: list[float], wrong: list[float], what: str, target: float | None = TARGET_GAP
) -> Measurement:
    """The slower kind's median over the faster kind's, with a note naming which was slower."""
    medians = {UNKNOWN_KEY: percentile(unknown, 50), WRONG_SECRET: percentile(wrong, 50)}
    slower, faster = sorted(medians, key=lambda kind: medians[kind], reverse=True)
    note = (
        f"{what}; unknown key p50 {medians[UNKNOWN_KEY]:.3f} ms, wrong secret p50 {medians[WRONG_SECRET]:.3f} ms "
        f"({slower.replace('_', ' ')} slower); value = slower median, baseline = faster median"
    )
    return Measurement(
        name=name,
        value=medians[slower],
        unit="ms",
        runs=min(len(unknown), len(wrong)),
        baseline=medians[faster],
        target=target,
        note=note,
    )


def run(options: RunOptions) -> list[Measurement]:
    from switchboard.provisioning import provision_account

    per_kind = options.pick(full=2000, quick=400)
    with aws_sandbox():
        moto_store = AccountStore()
        api_key = provision_account(moto_store)["api_key"]
        memory_store = MemoryAccounts({ACCOUNT_PREFIX + api_key: moto_store._get_raw(ACCOUNT_PREFIX + api_key)})
        first_headers = {
            UNKNOWN_KEY: lambda: basic_auth(secrets.token_hex(4), secrets.token_hex(8)),  # a new key each time
            WRONG_SECRET: lambda: basic_auth(api_key, secrets.token_hex(8)),
        }

        progress(f"auth probes: {per_kind} first probes of each kind, lookups answered from memory")
        first = probes(per_kind, first_headers, lambda kind: fresh_authenticator(memory_store))
        progress(f"auth probes: {per_kind} first probes of each kind, lookups answered by moto")
        first_moto = probes(per_kind, first_headers, lambda kind: fresh_authenticator(moto_store))

        progress(f"auth probes: {per_kind} cached probes of each kind")
        cached_unknown_key = secrets.token_hex(4)
        cached_headers = {
            UNKNOWN_KEY: lambda: basic_auth(cached_unknown_key, secrets.token_hex(8)),
            WRONG_SECRET: first_headers[WRONG_SECRET],
        }
        warm = {kind: fresh_authenticator(moto_store) for kind in cached_headers}
        for kind, authenticator in warm.items():  # the lookup result goes into each warm cache, untimed
            probe(authenticator, cached_headers[kind]())
        cached = probes(per_kind, cached_headers, lambda kind: warm[kind])

    return [
        gap_measurement(
            "auth_probe.first_probe", first[UNKNOWN_KEY], first[WRONG_SECRET],
            "nothing cached: lookup + secret check, DynamoDB's answers from memory (our code only)",
        ),
        gap_measurement(
            "auth_probe.first_probe.moto", first_moto[UNKNOWN_KEY], first_moto[WRONG_SECRET],
            "the same with moto answering the lookup; no target: moto serialising a found item is its cost, not ours",
            target=None,
        ),
        gap_measurement("auth_probe.cached_probe", cached[UNKNOWN_KEY], cached[WRONG_SECRET], "lookup result cached"),
    ]


def fresh_authenticator(store: AccountStore) -> Any:
    from switchboard.auth import Authenticator

    return wired_authenticator(store)


def probe(authenticator: Any, header: str) -> float:
    """Milliseconds ``authenticator`` takes to refuse ``header``."""
    from switchboard.auth.failure import AuthenticationFailed

    start = time.perf_counter()
    try:
        authenticator.authenticate(header)
    except AuthenticationFailed:
        return (time.perf_counter() - start) * 1000
    raise RuntimeError("a probe was accepted")


def probes(
    per_kind: int, headers: dict[str, Callable[[], str]], authenticator_for: Callable[[str], Any]
) -> dict[str, list[float]]:
    """``per_kind`` timed refusals of each kind, interleaved (the header and authenticator made untimed)."""
    samples: dict[str, list[float]] = {kind: [] for kind in headers}

    def sample(kind: str) -> None:
        authenticator, header = authenticator_for(kind), headers[kind]()
        samples[kind].append(probe(authenticator, header))

    interleave(per_kind, sample)
    return samples


def interleave(per_kind: int, sample: Callable[[str], None]) -> None:
    """``per_kind`` samples of each kind in blocks of ``BLOCK``, alternating which kind goes first."""
    kinds = [UNKNOWN_KEY, WRONG_SECRET]
    for block_index in range(max(1, per_kind // BLOCK)):
        order = kinds if block_index % 2 == 0 else kinds[::-1]
        for kind in order:
            for _ in range(min(BLOCK, per_kind)):
                sample(kind)
