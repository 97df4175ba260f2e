"""Reading ``python -X importtime`` output: where a function's cold start goes, in non-overlapping parts.

Inside the handler module's import, every module is one of:

- our code (the handler module, ``switchboard.*``): counted by its self time;
- a module our code imports directly (third-party or standard library): counted with everything
  it imports in turn (its cumulative time), and named with the module of ours that imports it;
- anything deeper inside such an import: already counted in the line above.

So the parts add up to the import, and each names a decision in our code ("``switchboard.x``
imports ``y``: 120 ms"), which is what to look at when a cold start regresses.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bench.stats import median

# "import time: <self us> | <cumulative us> | <2 spaces per nesting level><module>"
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\| ( *)(\S+)\s*$")
FIRST_PARTY_PACKAGES = ("switchboard",)


@dataclass(frozen=True)
class ModuleImport:
    module: str
    self_us: int  # time in the module's own body
    cumulative_us: int  # including what it imported
    depth: int  # 0: imported by the program itself
    importer: str | None  # the module whose import triggered this one


def parse_importtime(stderr: str) -> list[ModuleImport]:
    """Every ``import time:`` line of one run, with its importer.

    A module's line is printed when its import finishes, so its children come before it, one level deeper.
    """
    raw: list[tuple[str, int, int, int]] = []
    for line in stderr.splitlines():
        match = _LINE.match(line)
        if match:
            raw.append((match.group(4), int(match.group(1)), int(match.group(2)), len(match.group(3)) // 2))
    importers: list[str | None] = [None] * len(raw)
    pending: dict[int, list[int]] = {}  # depth -> indexes still waiting for their importer's line
    for index, (module, _, _, depth) in enumerate(raw):
        for child in pending.pop(depth + 1, []):
            importers[child] = module
        pending.setdefault(depth, []).append(index)
    return [ModuleImport(m, s, c, d, importers[i]) for i, (m, s, c, d) in enumerate(raw)]


def is_first_party(module: str, handler_module: str) -> bool:
    return module == handler_module or module.split(".", 1)[0] in FIRST_PARTY_PACKAGES


@dataclass(frozen=True)
class ImportCost:
    module: str
    microseconds: int
    importer: str | None  # None: our own code, counted by self time


def attributed_costs(
    imports: Sequence[ModuleImport], handler_module: str, first_party: Callable[[str], bool] | None = None
) -> list[ImportCost]:
    """The non-overlapping parts of the handler module's import (see the module docstring)."""
    ours = first_party or (lambda module: is_first_party(module, handler_module))
    root = next((i for i, m in enumerate(imports) if m.module == handler_module and m.depth == 0), None)
    if root is None:
        return []
    start = root
    while start > 0 and imports[start - 1].depth > 0:
        start -= 1
    costs = []
    for each in imports[start : root + 1]:
        if ours(each.module):
            costs.append(ImportCost(each.module, each.self_us, None))
        elif each.importer is not None and ours(each.importer):
            costs.append(ImportCost(each.module, each.cumulative_us, each.importer))
    return costs


@dataclass(frozen=True)
class RankedCost:
    module: str
    milliseconds: float  # median over the runs
    importer: str | None


def top_costs(runs: Iterable[Sequence[ImportCost]], top: int = 10) -> list[RankedCost]:
    """The ``top`` parts by median time over several runs (a part missing from a run counts 0)."""
    per_run = [{(c.module, c.importer): c.microseconds for c in run} for run in runs]
    keys = {key for run in per_run for key in run}
    ranked = [
        RankedCost(module, median([run.get((module, importer), 0) for run in per_run]) / 1000, importer)
        for module, importer in keys
    ]
    ranked.sort(key=lambda c: (-c.milliseconds, c.module))
    return ranked[:top]
