"""The results as one aligned text table (for the terminal) or a Markdown table (for the README).

``python -m bench.table [--markdown] [--no-details] [results.json]`` renders a saved
``bench/results.json`` (``--markdown --no-details`` is the README's table).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.results import RESULTS_PATH, Measurement, read_results

HEADERS = ("measurement", "value", "baseline", "ratio", "target", "ok", "runs", "note")


def format_number(value: float | None) -> str:
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 10 or value == int(value):
        return f"{value:.1f}".removesuffix(".0")
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def format_quantity(value: float | None, unit: str) -> str:
    text = format_number(value)
    return f"{text} {unit}" if value is not None and unit else text


def format_target(measurement: Measurement) -> str:
    target = measurement.target
    if target is None:
        return ""
    if measurement.baseline is not None:
        return f"<= {target:g}x"
    return f"= {target:g}" if target == 0 else f"<= {target:g}"


def format_ok(ok: bool | None) -> str:
    return "" if ok is None else ("PASS" if ok else "FAIL")


def row_of(measurement: Measurement) -> tuple[str, ...]:
    ratio = measurement.ratio
    note = measurement.note if measurement.error is None else f"error: {measurement.error}"
    return (
        measurement.name,
        format_quantity(measurement.value, measurement.unit),
        format_quantity(measurement.baseline, measurement.unit),
        "" if ratio is None else f"{ratio:.2f}x",
        format_target(measurement),
        format_ok(measurement.ok),
        str(measurement.runs) if measurement.runs else "",
        note,
    )


def text_table(rows: Sequence[tuple[str, ...]], headers: Sequence[str] = HEADERS) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    numeric = {1, 2, 3, 6}  # right-aligned columns

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if i in numeric else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headers), rule, *(line(r) for r in rows)])


def markdown_table(rows: Sequence[tuple[str, ...]], headers: Sequence[str] = HEADERS) -> str:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

    aligns = ["---" if i not in {1, 2, 3, 6} else "---:" for i in range(len(headers))]
    return "\n".join([line(headers), "|" + "|".join(aligns) + "|", *(line(r) for r in rows)])


def render(measurements: Sequence[Measurement], markdown: bool = False, details: bool = True) -> str:
    """The main table, then the detail rows (import-time breakdown, cost lines) under their own heading."""
    draw = markdown_table if markdown else text_table
    main = [row_of(m) for m in measurements if not m.detail]
    detail_rows = [row_of(m) for m in measurements if m.detail] if details else []
    parts = [draw(main)]
    if detail_rows:
        parts += ["", "**Details**" if markdown else "Details:", "", draw(detail_rows)]
    return "\n".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.table", description=__doc__)
    parser.add_argument("path", nargs="?", type=Path, default=RESULTS_PATH)
    parser.add_argument("--markdown", action="store_true", help="a Markdown table (for the README)")
    parser.add_argument("--no-details", action="store_true", help="only the main table")
    args = parser.parse_args(argv)
    print(render(read_results(args.path), markdown=args.markdown, details=not args.no_details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
