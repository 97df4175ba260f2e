"""Benchmark figures: ratio and target arithmetic, the results.json shape, and the table."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.measurements import MEASUREMENTS, parse_selection
from bench.results import (
    Measurement,
    failed_measurement,
    ratio_of,
    read_results,
    within_target,
    write_results,
)
from bench.table import format_number, markdown_table, render, row_of

REQUIRED_KEYS = {"name", "value", "unit", "baseline", "ratio", "target", "ok", "runs"}


def test_ratio_is_value_over_baseline() -> None:
    assert ratio_of(150.0, 100.0) == 1.5
    assert ratio_of(None, 100.0) is None
    assert ratio_of(150.0, None) is None
    assert ratio_of(150.0, 0.0) is None


@pytest.mark.parametrize(
    ("value", "baseline", "target", "ok"),
    [
        (150.0, 100.0, 1.5, True),  # exactly on the target passes
        (151.0, 100.0, 1.5, False),
        (0.0, None, 0, True),  # without a baseline the target bounds the value
        (1.0, None, 0, False),
        (None, 100.0, 1.5, False),  # a target that could not be measured is not met
        (None, None, 0, False),
        (150.0, 100.0, None, None),  # no target, no verdict
    ],
)
def test_within_target(value: float | None, baseline: float | None, target: float | None, ok: bool | None) -> None:
    assert within_target(value, baseline, target) is ok


def test_a_measurement_serialises_every_required_key() -> None:
    doc = Measurement("cold_start.ApiFunction", 300.0, "ms", 11, baseline=200.0, target=1.5).to_json()
    assert REQUIRED_KEYS <= doc.keys()
    assert doc["ratio"] == 1.5
    assert doc["ok"] is True
    assert doc["runs"] == 11
    json.dumps(doc)  # plain JSON


def test_an_error_row_fails_and_a_row_without_a_figure_or_target_has_no_verdict() -> None:
    assert failed_measurement("load_run", "boom").ok is False
    assert failed_measurement("load_run", "boom").to_json()["error"] == "boom"
    row = Measurement("load_run.time_to_settle", None, "s", 200, note="did not settle: stalled")
    assert row.ok is None and row.value is None


def test_results_round_trip_through_the_file(tmp_path: Path) -> None:
    rows = [
        Measurement("a.b", 1.23456789, "ms", 7, baseline=1.0, target=1.5, note="n"),
        Measurement("a.c", None, "calls", 0, note="no figure: x"),
        Measurement("a.d", 2.0, "ms", 3, detail=True),
    ]
    path = tmp_path / "results.json"
    write_results(rows, path)
    docs = json.loads(path.read_text())
    assert isinstance(docs, list) and len(docs) == 3
    assert all(REQUIRED_KEYS <= doc.keys() for doc in docs)
    assert docs[0]["value"] == 1.2346  # rounded for the file
    assert read_results(path)[2].detail is True


def test_the_table_marks_pass_fail_and_the_target_kind() -> None:
    passing = row_of(Measurement("x", 120.0, "ms", 7, baseline=100.0, target=1.5))
    assert passing[3:6] == ("1.20x", "<= 1.5x", "PASS")
    failing = row_of(Measurement("lost", 2.0, "messages", 10, target=0))
    assert failing[4:6] == ("= 0", "FAIL")


def test_detail_rows_are_rendered_under_their_own_heading() -> None:
    text = render([Measurement("main", 1.0, "ms", 1), Measurement("extra", 2.0, "ms", 1, detail=True)])
    main, details = text.split("Details:")
    assert "main" in main and "extra" not in main
    assert "extra" in details


def test_markdown_escapes_pipes() -> None:
    table = markdown_table([("a|b", "1")], headers=("name", "value"))
    assert "a\\|b" in table


@pytest.mark.parametrize(
    ("value", "text"), [(1234.5, "1,234"), (182.34, "182.3"), (2.0, "2"), (1.234, "1.23"), (0.1234, "0.123")]
)
def test_number_formatting(value: float, text: str) -> None:
    assert format_number(value) == text


def test_selection_keeps_the_suite_order_and_refuses_unknown_names() -> None:
    assert parse_selection(None) == [name for name in MEASUREMENTS if name != "load_faults"]  # opt-in only
    assert parse_selection("load_run, cold_start") == ["cold_start", "load_run"]
    assert parse_selection("load_faults") == ["load_faults"]
    with pytest.raises(ValueError):
        parse_selection("cold_start,warm_start")
