"""The metric list is the one source: the template's dashboard is generated from it, the code emits
only metrics it names (with the dimensions it gives), and each new metric reaches its EMF document."""
from __future__ import annotations

import ast
import importlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from local_stack.template import TEMPLATE_PATH, load_template, resources_of_type
from switchboard import metric_catalog
from switchboard.domain.message import Channel
from switchboard.domain.provider_events import StatusReceipt, WatermarkReceipt
from switchboard.metric_catalog import BY_NAME, METRICS, SERVICES, emit
from switchboard.receipts import ingestion
from switchboard.receipts.inbound_intake import InboundEffect
from switchboard.receipts.inbound_routing import UNLINKED
from switchboard.receipts.status_machine import ReceiptEffect, ReceiptResult
from switchboard.sender import outcome_metrics
from tests.support.api_client import Api
from tests.support.request_bodies import MESSENGER_V01, SMS_V1
from tools import dashboard

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted((ROOT / "layers" / "switchboard").rglob("*.py")) + sorted((ROOT / "functions").rglob("*.py"))
# Where the code emits metrics whose names are computed; each is checked below by what it can emit.
COMPUTED_EMITTERS = {"sender/outcome_metrics.py", "receipts/ingestion.py"}


def emf_documents(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if '"_aws"' in line]


def dimension_set(document: dict[str, Any]) -> set[str]:
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    (dimensions,) = directive["Dimensions"]
    return set(dimensions)


# -- the template ---------------------------------------------------------------------------------


def test_the_templates_dashboard_and_metric_alarms_are_what_the_list_generates() -> None:
    text = TEMPLATE_PATH.read_text(encoding="utf-8")

    assert dashboard.rewritten(text) == text, "template.yaml is out of date: run `make dashboard`"


def test_a_dashboard_edited_by_hand_is_caught() -> None:
    text = TEMPLATE_PATH.read_text(encoding="utf-8")
    edited = text.replace('MetricName=\\"accepted\\"', 'MetricName=\\"acepted\\"', 1)

    assert edited != text
    assert dashboard.rewritten(edited) != edited


def test_every_listed_metric_has_a_graph_and_every_graph_names_listed_metrics() -> None:
    graphed = [name for graph in dashboard.GRAPHS for name in graph.metrics]

    assert sorted(graphed) == sorted(BY_NAME)


def test_each_graph_searches_the_exact_dimension_set_the_code_emits() -> None:
    assert dashboard.search(BY_NAME["accepted"], "Sum") == (
        "SEARCH('{Switchboard,api_version,channel,service} MetricName=\"accepted\"', 'Sum', 60)"
    )


def test_the_service_dimension_of_each_function_is_the_templates() -> None:
    functions = resources_of_type(load_template(), "AWS::Serverless::Function")
    from_template = {
        name: function["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        for name, function in functions.items()
    }

    assert from_template == SERVICES


def test_every_function_queue_and_channel_has_its_alarm() -> None:
    template = load_template()
    alarms = set(resources_of_type(template, "AWS::CloudWatch::Alarm"))
    functions = set(resources_of_type(template, "AWS::Serverless::Function"))
    queues = {name for name, queue in resources_of_type(template, "AWS::SQS::Queue").items() if "RedrivePolicy" in queue["Properties"]}

    assert {f"{name}ErrorRateAlarm" for name in functions} <= alarms
    assert {f"{name}AgeAlarm" for name in queues} <= alarms
    assert {"SmsRejectionSpikeAlarm", "MessengerRejectionSpikeAlarm", "ViberServiceMsgRejectionSpikeAlarm"} <= alarms
    for name in alarms:
        actions = template["Resources"][name]["Properties"]["AlarmActions"]
        assert actions == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}


# -- the code emits listed metrics only -------------------------------------------------------------


def _calls(path: Path) -> list[ast.Call]:
    return [node for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(node, ast.Call)]


def _called(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _module_of(path: Path) -> Any:
    relative = path.relative_to(ROOT / "layers").with_suffix("")
    return importlib.import_module(".".join(relative.parts))


def _names(node: ast.expr, path: Path) -> list[str] | None:
    """The string keys of a dict literal (constants, or module-level names resolved); None if computed."""
    if not isinstance(node, ast.Dict):
        return None
    names = []
    for key in node.keys:
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.append(key.value)
        elif isinstance(key, ast.Name):
            names.append(getattr(_module_of(path), key.id))
        else:
            return None
    return names


def test_every_add_metric_call_names_a_listed_metric_with_its_unit() -> None:
    found = []
    for path in SOURCES:
        if path.name == "metric_catalog.py":
            continue
        for call in _calls(path):
            if _called(call) != "add_metric":
                continue
            keywords = {k.arg: k.value for k in call.keywords}
            name, unit = keywords.get("name"), keywords.get("unit")
            assert isinstance(name, ast.Constant), f"{path}:{call.lineno}: add_metric with a computed name: use metric_catalog.emit"
            assert name.value in BY_NAME, f"{path}:{call.lineno}: metric {name.value!r} is not in metric_catalog.METRICS"
            assert isinstance(unit, ast.Constant) and unit.value == BY_NAME[name.value].unit, f"{path}:{call.lineno}"
            found.append(name.value)
    assert {"accepted", "workflow_started", "rate_limited"} <= set(found)


def test_every_emit_call_names_listed_metrics_with_their_dimensions() -> None:
    computed = set()
    literal = []
    for path in SOURCES:
        if path.name == "metric_catalog.py":
            continue
        for call in _calls(path):
            if _called(call) != "emit" or not call.args:
                continue
            names, dimensions = _names(call.args[0], path), _names(call.args[1], path)
            if names is None or dimensions is None:
                computed.add(str(path.relative_to(ROOT / "layers" / "switchboard")))
                continue
            for name in names:
                assert name in BY_NAME, f"{path}:{call.lineno}: metric {name!r} is not in metric_catalog.METRICS"
                assert set(BY_NAME[name].dimensions) == set(dimensions), f"{path}:{call.lineno}: {name} dimensions"
                literal.append(name)
    assert computed == COMPUTED_EMITTERS
    assert {"webhook_delivery", "webhook_attempt", "webhook_refused"} <= set(literal)


def test_the_sender_outcomes_are_listed_metrics() -> None:
    for name in (*outcome_metrics.OUTCOMES, outcome_metrics.PROVIDER_LATENCY):
        assert BY_NAME[name].dimensions == ("channel",)
        assert BY_NAME[name].function == "SenderFunction"
    assert BY_NAME[outcome_metrics.REJECTED_BY_CODE].dimensions == ("channel", "error_code")


def test_every_provider_event_effect_is_a_listed_metric() -> None:
    effects = [f"receipt_{e.value}" for e in ReceiptEffect]
    effects += [f"watermark_{e.value}" for e in ReceiptEffect if e is not ReceiptEffect.PART_DELIVERED]
    effects += [f"inbound_{e.value}" for e in InboundEffect] + [f"inbound_{UNLINKED}"]

    for name in effects:
        assert BY_NAME[name].dimensions == ("provider",)


# -- what reaches the log ----------------------------------------------------------------------------


def test_emit_writes_one_emf_document_with_the_service_dimension(capsys: pytest.CaptureFixture[str]) -> None:
    emit({"status_transition": 2}, {"channel": "sms", "status": "delivered"})

    [document] = emf_documents(capsys.readouterr().out)
    assert document["status_transition"] == [2.0]
    assert dimension_set(document) == {"service", "channel", "status"}
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == metric_catalog.NAMESPACE


@pytest.mark.parametrize(
    ("values", "dimensions", "error"),
    [
        ({"acepted": 1}, {"channel": "sms", "api_version": "v1"}, "metric 'acepted' is not in"),
        ({"accepted": 1}, {"channel": "sms"}, "takes dimensions ('channel', 'api_version')"),
    ],
)
def test_an_unlisted_metric_or_wrong_dimensions_is_logged_not_emitted_and_not_raised(
    capsys: pytest.CaptureFixture[str], values: dict[str, int], dimensions: dict[str, str], error: str
) -> None:
    emit(values, dimensions)

    out = capsys.readouterr().out
    assert emf_documents(out) == []
    [line] = [json.loads(line) for line in out.splitlines()]
    assert line["level"] == "ERROR" and error in line["error"]


class Statuses:
    def __init__(self, receipt: ReceiptResult, watermark: list[ReceiptResult]) -> None:
        self.receipt, self.watermark = receipt, watermark

    def apply_receipt(self, receipt: StatusReceipt) -> ReceiptResult:
        return self.receipt

    def apply_watermark(self, receipt: WatermarkReceipt) -> list[ReceiptResult]:
        return self.watermark


def test_applied_receipts_and_watermarks_are_status_transitions_by_channel_and_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    statuses = Statuses(
        ReceiptResult(ReceiptEffect.APPLIED, "u-1", "delivered"),
        [ReceiptResult(ReceiptEffect.APPLIED, "u-2", "read"), ReceiptResult(ReceiptEffect.DUPLICATE, "u-3", "read")],
    )
    events = [
        StatusReceipt(Channel.SMS, "p-1", "delivered", 1.0),
        WatermarkReceipt("page", "psid", "read", 1000, 1.0),
    ]

    effects = ingestion.Ingestion(statuses, inbound=None).apply(events)  # type: ignore[arg-type]
    ingestion.emit_metrics("sms", effects)

    documents = emf_documents(capsys.readouterr().out)
    transitions = {(d["channel"], d["status"]): d["status_transition"] for d in documents if "status_transition" in d}
    assert transitions == {("sms", "delivered"): [1.0], ("messenger", "read"): [1.0]}
    [effect_document] = [d for d in documents if "provider" in d]
    assert (effect_document["receipt_applied"], effect_document["watermark_applied"]) == ([1.0], [1.0])
    assert effect_document["watermark_duplicate"] == [1.0]
    for document in documents:
        names = [m["Name"] for m in document["_aws"]["CloudWatchMetrics"][0]["Metrics"]]
        for name in names:
            assert dimension_set(document) == {"service", *BY_NAME[name].dimensions}


def test_accepted_messages_are_counted_by_channel_and_api_version(
    aws: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = Api(aws, tmp_path)
    capsys.readouterr()

    assert api.call("POST", "/v1/messages", SMS_V1)[0] == 202
    assert api.call("POST", "/v0.1/messages", MESSENGER_V01)[0] == 202

    documents = [d for d in emf_documents(capsys.readouterr().out) if "accepted" in d]
    assert [(d["channel"], d["api_version"], d["accepted"]) for d in documents] == [
        ("sms", "v1", [1.0]), ("messenger", "v0.1", [1.0])
    ]
    for document in documents:
        assert dimension_set(document) == {"service", "channel", "api_version"}


def test_the_catalog_is_one_entry_per_name() -> None:
    assert len(BY_NAME) == len(METRICS)
    assert Counter(m.name for m in METRICS).most_common(1)[0][1] == 1


def test_every_metric_and_alarm_is_documented_in_operations_md() -> None:
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    alarms = resources_of_type(load_template(), "AWS::CloudWatch::Alarm")

    assert [m.name for m in METRICS if f"`{m.name}`" not in text] == []
    undocumented = [
        name for name in alarms
        if f"`{name}`" not in text and not (name.endswith("ErrorRateAlarm") and "`<Function>ErrorRateAlarm`" in text)
    ]
    assert undocumented == []
