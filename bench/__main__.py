"""``python -m bench`` (``make bench``): run the benchmark suite, print one table, write ``bench/results.json``.

Options: ``--only cold_start,send_overhead,...`` runs some measurements; ``--quick`` uses fewer
repetitions and a smaller load (a smoke run, not figures to quote); ``--strict`` exits 1 when a
target is missed. The exit status is 1 when a measurement could not run.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType

from bench.measurements import MEASUREMENTS, parse_selection
from local_stack.child import stop_process
from bench.results import RESULTS_PATH, Measurement, failed_measurement, write_results
from bench.table import render

ROOT = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT_SECONDS = {"load_run": 900, "load_faults": 900, "tenant_fairness": 900}
DEFAULT_WORKER_TIMEOUT_SECONDS = 600


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_measurement(name: str, quick: bool, scratch: Path) -> list[Measurement]:
    """Run one measurement in its own process; a failure becomes an error row, never an exception.

    The worker's progress (stderr) shows live; its stdout, the functions' JSON logs, goes to a file.
    """
    out, log_path = scratch / f"{name}.json", scratch / f"{name}.log"
    command = [sys.executable, "-m", "bench.worker", name, "--out", str(out)] + (["--quick"] if quick else [])
    timeout = WORKER_TIMEOUT_SECONDS.get(name, DEFAULT_WORKER_TIMEOUT_SECONDS)
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, stdout=log)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        return [failed_measurement(name, f"did not finish within {timeout} s")]
    finally:
        stop_process(process)  # a no-op once it has exited; stops it on a timeout or Ctrl-C
    elapsed = time.monotonic() - started
    document = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {"error": f"exit {process.returncode}"}
    if isinstance(document, dict):
        print(f"{name}: could not run ({elapsed:.0f} s): {document['error']}", file=sys.stderr)
        return [failed_measurement(name, str(document["error"])[:300])]
    print(f"{name}: done in {elapsed:.0f} s", file=sys.stderr)
    return [Measurement.from_json(doc) for doc in document]


def header(quick: bool, selected: list[str]) -> str:
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mode = "quick (smoke run: fewer repetitions, smaller load)" if quick else "full"
    machine = f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs"
    return f"Switchboard benchmarks, {now}, {mode}, {machine}; measurements: {', '.join(selected)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated subset of: {', '.join(MEASUREMENTS)}")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and a smaller load (smoke run)")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument("--output", type=Path, default=RESULTS_PATH, help=f"results file (default {RESULTS_PATH})")
    args = parser.parse_args(argv)
    try:
        selected = parse_selection(args.only)
    except ValueError as exc:
        parser.error(str(exc))
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored

    rows: list[Measurement] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-") as scratch:
            for name in selected:
                print(f"{name}: running", file=sys.stderr)
                rows += run_measurement(name, args.quick, Path(scratch))
    except KeyboardInterrupt:
        print("interrupted; no results written", file=sys.stderr)
        return 130

    write_results(rows, args.output)
    print(header(args.quick, selected))
    print()
    print(render(rows))
    print()
    print(f"Written to {args.output}")
    if any(m.error for m in rows):
        return 1
    if args.strict and any(m.ok is False for m in rows):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
