"""One measurement in a process of its own: ``python -m bench.worker <name> --out <file> [--quick]``.

Writes the measurement's rows as JSON to ``--out`` (or ``{"error": ...}`` when it could not run).
Its stdout carries the functions' logs (the parent sends it to a file); progress and tracebacks go
to stderr. SIGTERM is turned into ``KeyboardInterrupt`` so that cleanup (stopping a local stack,
servers) runs however the run is stopped.
"""
from __future__ import annotations

import argparse
import importlib
import json
import signal
import sys
import traceback
from pathlib import Path
from types import FrameType

from bench.measurements import MEASUREMENTS
from bench.results import results_document
from bench.run_options import RunOptions


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.worker")
    parser.add_argument("name", choices=sorted(MEASUREMENTS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with SIGINT ignored
    try:
        module = importlib.import_module(MEASUREMENTS[args.name])
        rows = module.run(RunOptions(quick=args.quick))
    except Exception as exc:  # noqa: BLE001 - reported as the measurement's error row
        traceback.print_exc()
        args.out.write_text(json.dumps({"error": f"{type(exc).__name__}: {exc}"}), encoding="utf-8")
        return 1
    args.out.write_text(json.dumps(results_document(rows)), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
