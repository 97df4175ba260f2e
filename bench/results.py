"""One measured figure, its baseline and target, and ``bench/results.json``.

A target is an upper bound. With a baseline it bounds the ratio ``value / baseline`` (measured in
the same run); without one it bounds the value itself (e.g. lost messages: at most 0).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS_PATH = Path(__file__).resolve().parent / "results.json"
JSON_DECIMALS = 4


def ratio_of(value: float | None, baseline: float | None) -> float | None:
    if value is None or baseline is None or baseline <= 0:
        return None
    return value / baseline


def within_target(value: float | None, baseline: float | None, target: float | None) -> bool | None:
    """None without a target; otherwise whether the ratio (with a baseline) or the value is at most it.

    A figure with a target that could not be measured does not meet it.
    """
    if target is None:
        return None
    bounded = ratio_of(value, baseline) if baseline is not None else value
    return bounded is not None and bounded <= target


@dataclass(frozen=True)
class Measurement:
    name: str  # dotted: "<measurement>.<subject>[.<statistic>]"
    value: float | None  # None: no figure (an error row, or a run that did not settle: see ``note``)
    unit: str
    runs: int  # repetitions behind the figure (processes, invocations, batches, messages)
    baseline: float | None = None  # same unit as ``value``
    target: float | None = None
    note: str = ""
    detail: bool = False  # printed below the main table (e.g. the import-time breakdown)
    error: str | None = None  # the measurement could not run

    @property
    def ratio(self) -> float | None:
        return ratio_of(self.value, self.baseline)

    @property
    def ok(self) -> bool | None:
        if self.error is not None:
            return False
        return within_target(self.value, self.baseline, self.target)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "value": _rounded(self.value),
            "unit": self.unit,
            "baseline": _rounded(self.baseline),
            "ratio": _rounded(self.ratio),
            "target": self.target,
            "ok": self.ok,
            "runs": self.runs,
        }
        if self.note:
            doc["note"] = self.note
        if self.detail:
            doc["detail"] = True
        if self.error is not None:
            doc["error"] = self.error
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "Measurement":
        return cls(
            name=doc["name"],
            value=doc["value"],
            unit=doc["unit"],
            runs=int(doc.get("runs", 0)),
            baseline=doc.get("baseline"),
            target=doc.get("target"),
            note=doc.get("note", ""),
            detail=bool(doc.get("detail", False)),
            error=doc.get("error"),
        )


def failed_measurement(name: str, error: str) -> Measurement:
    """A row saying that measurement ``name`` could not run."""
    return Measurement(name=f"{name}.error", value=None, unit="", runs=0, error=error)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), JSON_DECIMALS)


def results_document(measurements: Iterable[Measurement]) -> list[dict[str, Any]]:
    return [m.to_json() for m in measurements]


def write_results(measurements: Iterable[Measurement], path: Path = RESULTS_PATH) -> None:
    """Written whole or not at all."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(results_document(measurements), indent=2) + "\n", encoding="utf-8")
    partial.replace(path)


def read_results(path: Path = RESULTS_PATH) -> list[Measurement]:
    return [Measurement.from_json(doc) for doc in json.loads(path.read_text(encoding="utf-8"))]
