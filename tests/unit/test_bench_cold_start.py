"""The cold-start measurement's probe protocol and the environment it gives each function (no timing)."""
from __future__ import annotations

import pytest

from bench.cold_start import baseline_subject, function_subject, parse_elapsed_ms
from bench.template_functions import function_specs


def test_the_probe_output_is_read() -> None:
    assert parse_elapsed_ms("noise\nelapsed_ms 182.500\n") == 182.5
    with pytest.raises(ValueError):
        parse_elapsed_ms("nothing here")


def test_every_declared_function_gets_its_template_environment_and_lambdas() -> None:
    for spec in function_specs().values():
        subject = function_subject(spec)
        assert subject.argv[:2] == ("function", str(spec.config.code_dir))
        assert subject.env["AWS_LAMBDA_FUNCTION_NAME"] == spec.name
        assert subject.env["LAMBDA_TASK_ROOT"] == str(spec.config.code_dir)  # Tracer active, as deployed
        assert subject.env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == str(spec.config.memory_mb)
        assert all(subject.env[k] == v for k, v in spec.config.environment.items())


def test_probes_never_inherit_a_bytecode_switch_or_an_aws_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5010")
    env = baseline_subject().env
    assert "PYTHONDONTWRITEBYTECODE" not in env and "AWS_ENDPOINT_URL" not in env
