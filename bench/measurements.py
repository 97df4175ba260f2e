"""The measurements ``make bench`` runs, in order, by the name ``--only`` takes."""
from __future__ import annotations

MEASUREMENTS: dict[str, str] = {
    "cold_start": "bench.cold_start",
    "send_overhead": "bench.send_overhead",
    "auth_probes": "bench.auth_probes",
    "batch_concurrency": "bench.batch_concurrency",
    "aws_requests": "bench.aws_requests",
    "load_run": "bench.load_run",
    "tenant_fairness": "bench.tenant_fairness",
}


def parse_selection(only: str | None) -> list[str]:
    """The measurements named in ``--only`` (comma-separated), in suite order; all of them without it."""
    if not only:
        return list(MEASUREMENTS)
    wanted = [name.strip() for name in only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in MEASUREMENTS]
    if unknown:
        raise ValueError(f"unknown measurement(s): {', '.join(unknown)}; choose from {', '.join(MEASUREMENTS)}")
    return [name for name in MEASUREMENTS if name in wanted]
