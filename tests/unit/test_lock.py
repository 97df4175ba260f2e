"""One lock: ``requirements.lock`` pins the dev environment, and the layer's requirements are exactly its runtime part.

``make lock`` writes both files; these tests fail when they drift apart, when the layer lacks a
runtime dependency (or carries a dev-only one), or when this environment is not the locked one.
"""
from __future__ import annotations

import tomllib
from collections.abc import Iterable
from importlib import metadata

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement

from tests.support.requirements_lock import DEV_LOCK, LAYER_REQUIREMENTS, ROOT, Pin, canonical_name, read_pins

# The environments the layer is built for: Lambda's python3.11 on either architecture.
LAMBDA_ENVIRONMENTS = [
    {
        **default_environment(),
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "python_version": "3.11",
        "python_full_version": "3.11.13",
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": machine,
    }
    for machine in ("aarch64", "x86_64")
]


@pytest.fixture(scope="module")
def lock() -> dict[str, Pin]:
    return read_pins(DEV_LOCK)


@pytest.fixture(scope="module")
def layer() -> dict[str, Pin]:
    return read_pins(LAYER_REQUIREMENTS)


def _project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]


def runtime_requirements() -> list[Requirement]:
    return [Requirement(r) for r in _project()["dependencies"]]


def _applies(requirement: Requirement, environment: dict[str, str], extras: Iterable[str]) -> bool:
    if requirement.marker is None:
        return True
    return any(requirement.marker.evaluate({**environment, "extra": extra}) for extra in (*extras, ""))


def installed_closure(roots: list[Requirement], environment: dict[str, str]) -> set[str]:
    """Every distribution ``roots`` need in ``environment``, from the installed packages' metadata."""
    names: set[str] = set()
    visited: set[tuple[str, frozenset[str]]] = set()
    pending = [r for r in roots if _applies(r, environment, ())]
    while pending:
        requirement = pending.pop()
        key = (canonical_name(requirement.name), frozenset(requirement.extras))
        if key in visited:
            continue
        visited.add(key)
        names.add(key[0])
        for text in metadata.requires(requirement.name) or []:
            dependency = Requirement(text)
            if _applies(dependency, environment, requirement.extras):
                pending.append(dependency)
    return names


def test_every_layer_pin_is_the_dev_locks_pin_with_the_same_hashes(lock: dict[str, Pin], layer: dict[str, Pin]) -> None:
    drifted = {name: (pin, lock.get(name)) for name, pin in layer.items() if lock.get(name) != pin}
    assert drifted == {}, "layers/requirements.txt differs from requirements.lock: run `make lock`"


@pytest.mark.parametrize("environment", LAMBDA_ENVIRONMENTS, ids=lambda e: e["platform_machine"])
def test_the_layer_holds_exactly_what_the_runtime_dependencies_need(
    layer: dict[str, Pin], environment: dict[str, str]
) -> None:
    needed = installed_closure(runtime_requirements(), environment)
    assert set(layer) == needed


def test_boto3_and_botocore_are_bundled_at_the_tested_versions(layer: dict[str, Pin]) -> None:
    # The runtime's own boto3 cannot be known or tested here: the layer brings the pair the tests use.
    for name in ("boto3", "botocore"):
        assert layer[name].version == metadata.version(name), name


def test_this_environment_runs_the_locked_versions(lock: dict[str, Pin]) -> None:
    here = default_environment()
    expected = {name: pin.version for name, pin in lock.items() if not pin.marker or _marker_holds(pin, here)}
    installed = {name: _installed_version(name) for name in expected}
    assert {n: (v, installed[n]) for n, v in expected.items() if installed[n] != v} == {}, (
        "the virtualenv is not the locked one: `make` reinstalls it from requirements.lock"
    )


def _marker_holds(pin: Pin, environment: dict[str, str]) -> bool:
    return Requirement(f"{pin.name}; {pin.marker}").marker.evaluate(environment)  # type: ignore[union-attr]


def _installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def test_the_lock_satisfies_every_requirement_of_pyproject(lock: dict[str, Pin]) -> None:
    project = _project()
    requirements = [Requirement(r) for r in (*project["dependencies"], *project["optional-dependencies"]["dev"])]
    unmet = [str(r) for r in requirements if canonical_name(r.name) not in lock or not r.specifier.contains(
        lock[canonical_name(r.name)].version, prereleases=True
    )]
    assert unmet == []


def test_the_lock_files_pin_with_hashes_only() -> None:
    # read_pins refuses unpinned or hash-less lines; both files must parse and be non-trivial.
    assert len(read_pins(DEV_LOCK)) > len(read_pins(LAYER_REQUIREMENTS)) > 5
