"""Reading ``python -X importtime`` output into non-overlapping parts of a cold start."""
from __future__ import annotations

from bench.import_times import attributed_costs, parse_importtime, top_costs

# Children are printed before their importer, one level (two spaces) deeper.
SAMPLE = """import time: self [us] | cumulative | imported package
import time:       100 |        100 | encodings
import time:        50 |         50 |       botocore.utils
import time:       200 |        250 |     botocore
import time:        30 |        280 |   boto3
import time:        10 |         10 |         jwt.algorithms
import time:        20 |         30 |       jwt
import time:         5 |         35 |     switchboard.notifier.webhook_signing
import time:        40 |         40 |     aws_lambda_powertools
import time:         7 |         82 |   switchboard
import time:         3 |        365 | app
"""

def test_each_line_knows_its_importer() -> None:
    parsed = {m.module: m for m in parse_importtime(SAMPLE)}
    assert parsed["botocore"].importer == "boto3"
    assert parsed["botocore.utils"].importer == "botocore"
    assert parsed["jwt"].importer == "switchboard.notifier.webhook_signing"
    assert parsed["boto3"].importer == "app"
    assert parsed["app"].importer is None and parsed["app"].depth == 0


def test_costs_are_our_modules_self_time_and_what_they_import_directly() -> None:
    costs = {(c.module, c.importer): c.microseconds for c in attributed_costs(parse_importtime(SAMPLE), "app")}
    assert costs == {
        ("boto3", "app"): 280,
        ("switchboard.notifier.webhook_signing", None): 5,
        ("jwt", "switchboard.notifier.webhook_signing"): 30,
        ("aws_lambda_powertools", "switchboard"): 40,
        ("switchboard", None): 7,
        ("app", None): 3,
    }
    assert "encodings" not in {module for module, _ in costs}  # interpreter start-up, before the import


def test_top_costs_take_the_median_over_runs() -> None:
    run = attributed_costs(parse_importtime(SAMPLE), "app")
    slower = [type(c)(c.module, c.microseconds * 3, c.importer) for c in run]
    ranked = top_costs([run, run, slower], top=2)
    assert [c.module for c in ranked] == ["boto3", "aws_lambda_powertools"]
    assert ranked[0].milliseconds == 0.28


def test_an_import_that_never_happened_gives_nothing() -> None:
    assert attributed_costs(parse_importtime(SAMPLE), "other_module") == []
