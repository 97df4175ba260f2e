"""Measurement 1: cold start of every function the template declares, against ``import boto3`` + one client.

Each sample is a fresh interpreter (``cold_start_probe.py``) timing the import of the handler
module, which builds what the module builds at load time (Powertools Logger/Tracer/Metrics, the
API resolver, ...). It measures the artifact we ship: the interpreter sees only the standard
library, the function folder and the shared layer built from the lock as ``sam build`` builds it
(``local_stack.artifact``, for this machine's architecture), never the dev virtualenv; the baseline
imports the layer's boto3. The process gets the function's environment from the template plus what
Lambda sets, so Powertools behaves as deployed (Tracer active, as ``Tracing: Active``).

Fairness: every subject shares one bytecode cache (``-X pycache_prefix``) filled by a discarded
warm-up run, so no sample pays for compiling; samples go round-robin over the subjects, in a
rotating order, so a noisy moment hurts them all alike.
"""
from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bench.import_times import attributed_costs, parse_importtime, top_costs
from bench.results import Measurement
from bench.run_options import RunOptions, progress
from bench.stats import median
from bench.template_functions import FunctionSpec, function_specs
from local_stack.artifact import build_layer, lambda_environment, lambda_python

PROBE = Path(__file__).resolve().with_name("cold_start_probe.py")
BASELINE_SERVICE = "dynamodb"
TARGET_RATIO = 1.5
PROBE_TIMEOUT_SECONDS = 120
IMPORT_TIME_RUNS = 3
TOP_MODULES = 10


@dataclass(frozen=True)
class Subject:
    name: str
    argv: tuple[str, ...]  # after the probe's path
    env: Mapping[str, str]


def function_subject(spec: FunctionSpec, layer_dir: Path) -> Subject:
    """The handler's import with the built layer: nothing but the Lambda runtime's variables and the function's own."""
    config = spec.config
    env = {
        **lambda_environment(spec.name, config.memory_mb, str(config.code_dir)),
        **config.environment,
        "_HANDLER": config.handler,
    }
    attribute = config.handler.rpartition(".")[2]
    argv = ("function", str(config.code_dir), spec.handler_module, attribute, str(layer_dir))
    return Subject(spec.name, argv, env)


def baseline_subject(layer_dir: Path) -> Subject:
    env = lambda_environment("Baseline", 512, tempfile.gettempdir())
    return Subject(f"boto3 + {BASELINE_SERVICE} client", ("boto3-client", BASELINE_SERVICE, str(layer_dir)), env)


def run_probe(subject: Subject, pycache_dir: Path, importtime: bool = False) -> tuple[float, str]:
    """(elapsed ms, stderr) of one fresh interpreter."""
    command = lambda_python("-X", f"pycache_prefix={pycache_dir}", *(("-X", "importtime") if importtime else ()))
    command += [str(PROBE), *subject.argv]
    done = subprocess.run(
        command, env=dict(subject.env), capture_output=True, text=True, timeout=PROBE_TIMEOUT_SECONDS, check=False
    )
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise RuntimeError(f"{subject.name}: cold-start probe failed (exit {done.returncode}): {tail}")
    return parse_elapsed_ms(done.stdout), done.stderr


def parse_elapsed_ms(stdout: str) -> float:
    for line in stdout.splitlines():
        key, _, value = line.partition(" ")
        if key == "elapsed_ms":
            return float(value)
    raise ValueError(f"no elapsed_ms in the probe's output: {stdout!r}")


def sample_round_robin(subjects: list[Subject], runs: int, pycache_dir: Path) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {s.name: [] for s in subjects}
    for subject in subjects:  # warm-up: fills the bytecode cache; discarded
        run_probe(subject, pycache_dir)
    for round_index in range(runs):
        shift = round_index % len(subjects)
        for subject in subjects[shift:] + subjects[:shift]:
            samples[subject.name].append(run_probe(subject, pycache_dir)[0])
        progress(f"cold start: round {round_index + 1}/{runs}")
    return samples


def run(options: RunOptions) -> list[Measurement]:
    runs = options.pick(full=11, quick=7)
    specs = list(function_specs().values())
    progress("cold start: building the layer from the lock")
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as pycache, tempfile.TemporaryDirectory(
        prefix="bench-layer-"
    ) as layer_root:
        layer_dir = build_layer(Path(layer_root))
        baseline = baseline_subject(layer_dir)
        subjects = [baseline, *(function_subject(spec, layer_dir) for spec in specs)]
        progress(f"cold start: {len(specs)} functions + baseline, {runs} fresh processes each")
        pycache_dir = Path(pycache)
        samples = sample_round_robin(subjects, runs, pycache_dir)
        baseline_ms = median(samples[baseline.name])
        measurements = [
            Measurement(
                name=f"cold_start.{spec.name}",
                value=median(samples[spec.name]),
                unit="ms",
                runs=runs,
                baseline=baseline_ms,
                target=TARGET_RATIO,
                note=f"median of {runs} fresh interpreters; baseline: import boto3 + one {BASELINE_SERVICE} client",
            )
            for spec in specs
        ]
        slowest = max(specs, key=lambda spec: median(samples[spec.name]))
        measurements += import_breakdown(slowest, layer_dir, pycache_dir)
    return measurements


def import_breakdown(spec: FunctionSpec, layer_dir: Path, pycache_dir: Path) -> list[Measurement]:
    """Where the slowest function's cold start goes (median of a few ``-X importtime`` runs)."""
    progress(f"cold start: import-time breakdown of {spec.name}")
    subject = function_subject(spec, layer_dir)
    runs = [
        attributed_costs(parse_importtime(run_probe(subject, pycache_dir, importtime=True)[1]), spec.handler_module)
        for _ in range(IMPORT_TIME_RUNS)
    ]
    return [
        Measurement(
            name=f"cold_start.{spec.name}.import.{rank}.{cost.module}",
            value=cost.milliseconds,
            unit="ms",
            runs=IMPORT_TIME_RUNS,
            note=f"imported by {cost.importer}, with what it imports" if cost.importer else "our code, self time",
            detail=True,
        )
        for rank, cost in enumerate(top_costs(runs, TOP_MODULES), start=1)
    ]
