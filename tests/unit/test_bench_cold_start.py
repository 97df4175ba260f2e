"""The cold-start measurement's probe protocol and the environment it gives each function (no timing)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bench.cold_start import baseline_subject, function_subject, parse_elapsed_ms
from bench.template_functions import function_specs


def test_the_probe_output_is_read() -> None:
    assert parse_elapsed_ms("noise\nelapsed_ms 182.500\n") == 182.5
    with pytest.raises(ValueError):
        parse_elapsed_ms("nothing here")


def test_every_declared_function_gets_its_template_environment_and_lambdas(tmp_path: Path) -> None:
    specs = function_specs()
    assert specs
    for spec in specs.values():
        subject = function_subject(spec, tmp_path / "python")
        assert subject.argv[:2] == ("function", str(spec.config.code_dir))
        assert subject.argv[-1] == str(tmp_path / "python")  # the built layer, not layers/ in the source tree
        assert subject.env["AWS_LAMBDA_FUNCTION_NAME"] == spec.name
        assert subject.env["LAMBDA_TASK_ROOT"] == str(spec.config.code_dir)  # Tracer active, as deployed
        assert subject.env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(spec.config.memory_mb)
        assert spec.config.environment and all(subject.env[k] == v for k, v in spec.config.environment.items())


def test_probes_never_inherit_a_bytecode_switch_or_an_aws_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5010")
    env = baseline_subject(tmp_path).env
    assert "PYTHONDONTWRITEBYTECODE" not in env and "AWS_ENDPOINT_URL" not in env


def test_probes_see_the_layer_they_are_given_and_nothing_from_the_dev_virtualenv(tmp_path: Path) -> None:
    from bench.cold_start import run_probe

    layer = tmp_path / "python"
    (layer / "boto3").mkdir(parents=True)
    (layer / "boto3" / "__init__.py").write_text("def client(service):\n    return service\n")
    elapsed, _ = run_probe(baseline_subject(layer), tmp_path / "pycache")
    assert elapsed >= 0

    with pytest.raises(RuntimeError, match="No module named 'boto3'"):
        run_probe(baseline_subject(tmp_path / "empty"), tmp_path / "pycache")  # the venv's boto3 is not visible
