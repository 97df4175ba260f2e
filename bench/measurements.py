"""The measurements ``make bench`` runs, in order, by the name ``--only`` takes."""
from __future__ import annotations

MEASUREMENTS: dict[str, str] = {
    "cold_start": "bench.cold_start",
    "send_overhead": "bench.send_overhead",
    "auth_probes": "bench.auth_probes",
    "batch_concurrency": "bench.batch_concurrency",
    "sender_cpu": "bench.sender_cpu",
    "aws_requests": "bench.aws_requests",
    "load_run": "bench.load_run",
    "load_faults": "bench.load_faults",
    "tenant_fairness": "bench.tenant_fairness",
}
# Run only when named in ``--only`` (``make bench-faults``): the fault run waits out the queues'
# visibility timeout for records whose processing failed, minutes the speed runs need not wait.
OPT_IN = frozenset({"load_faults"})


def parse_selection(only: str | None) -> list[str]:
    """The measurements named in ``--only`` (comma-separated), in suite order; without it all but ``OPT_IN``."""
    if not only:
        return [name for name in MEASUREMENTS if name not in OPT_IN]
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in MEASUREMENTS]
    if unknown:
        raise ValueError(f"unknown measurement(s): {', '.join(unknown)}; choose from {', '.join(MEASUREMENTS)}")
    return [name for name in MEASUREMENTS if name in wanted]
