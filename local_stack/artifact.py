"""The shared layer as ``sam build`` makes it, for this machine, and the interpreter Lambda would run it in.

``sam build`` (``BuildMethod: python3.11``) pip-installs the layer's pinned, hashed requirements
(``layers/requirements.txt``, generated from ``requirements.lock`` by ``make lock``) as manylinux
wheels for the function architecture, then copies the layer's source (the ``switchboard`` package)
beside them into the layer's ``python/`` folder, which Lambda mounts at ``/opt/python``.
``build_layer`` does the same for this machine's architecture (arm64 binaries cannot load on x86_64
and the other way round). The installed dependencies are cached under ``build/artifact/``, keyed by
the requirements file's hash and the platform, so only a changed lock pays for pip; the source is
copied afresh on every call.

``lambda_python`` is the command of an interpreter whose ``sys.path`` is only the standard library
(``-I -S``: no site-packages, no ``PYTHON*`` variables, not the current directory): a process started
with it sees the function folder and the layer, as on Lambda, and nothing from the dev virtualenv.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_stack.template import LOCAL_REGION, ROOT

LAYER_SOURCE = ROOT / "layers"
LAYER_REQUIREMENTS = LAYER_SOURCE / "requirements.txt"
CACHE_ROOT = ROOT / "build" / "artifact"
PYTHON_VERSION = "3.11"
PYTHON_ABI = "cp311"
PIP_TIMEOUT_SECONDS = 600
# What ``sam build`` leaves out when it copies a code folder (aws-lambda-builders' python_pip workflow).
_NOT_COPIED = ("__pycache__", "*.pyc", "*.egg-info", "*.dist-info", ".DS_Store")
# Wheels ``sam build`` accepts for python3.11, whose runtime has glibc 2.26: manylinux up to 2_17.
_MANYLINUX_PLATFORMS = {
    "x86_64": ("manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"),
    "arm64": ("manylinux_2_17_aarch64", "manylinux2014_aarch64"),
}
_COMPLETE = ".complete"


def machine_architecture() -> str:
    """This machine's architecture as the template's ``Architecture`` parameter names it."""
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64"):
        return "x86_64"
    if machine in ("aarch64", "arm64"):
        return "arm64"
    raise RuntimeError(f"Lambda has no {machine} architecture: the layer cannot be built for this machine")


def pip_install_command(requirements: Path, target: Path, architecture: str) -> list[str]:
    """pip as ``sam build`` runs it for the layer: hash-checked, binary wheels for the Lambda platform."""
    platforms = [arg for name in _MANYLINUX_PLATFORMS[architecture] for arg in ("--platform", name)]
    return [
        sys.executable, "-m", "pip", "install",
        "--quiet", "--disable-pip-version-check", "--no-input", "--no-compile",
        "--require-hashes", "--only-binary=:all:",
        "--implementation", "cp", "--python-version", PYTHON_VERSION, "--abi", PYTHON_ABI, *platforms,
        "--target", str(target),
        "-r", str(requirements),
    ]  # fmt: skip


def dependencies_key(requirements: Path, architecture: str) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{architecture} {PYTHON_ABI}".encode())
    return digest.hexdigest()[:16]


@contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def installed_dependencies(
    requirements: Path = LAYER_REQUIREMENTS, cache_root: Path = CACHE_ROOT, architecture: str | None = None
) -> Path:
    """The layer's dependencies installed by pip into a folder, built once per requirements hash and platform.

    Safe to call from several processes at once: one builds, the others wait and reuse it.
    """
    architecture = architecture or machine_architecture()
    key = dependencies_key(requirements, architecture)
    folder = cache_root / f"dependencies-{architecture}-{key}"
    if (folder / _COMPLETE).is_file():
        return folder
    with _exclusive(cache_root / ".lock"):
        if (folder / _COMPLETE).is_file():
            return folder
        for stale in cache_root.glob(f"dependencies-{architecture}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        partial = Path(tempfile.mkdtemp(prefix=f"partial-{key}-", dir=cache_root))
        try:
            done = subprocess.run(
                pip_install_command(requirements, partial, architecture),
                capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise RuntimeError(f"pip could not install {requirements} for {architecture}:\n{done.stderr[-3000:]}")
            (partial / _COMPLETE).write_text(f"{requirements.name} {architecture} {PYTHON_ABI}\n")
            partial.rename(folder)
        finally:
            shutil.rmtree(partial, ignore_errors=True)
    return folder


def assemble_layer(destination: Path, dependencies: Path, source: Path = LAYER_SOURCE) -> Path:
    """The layer's ``python/`` folder under ``destination``: the source copied as ``sam build`` copies it,
    and each installed dependency linked in (the cached install is never written to)."""
    python_dir = destination / "python"
    shutil.copytree(source, python_dir, ignore=shutil.ignore_patterns(*_NOT_COPIED))
    for entry in dependencies.iterdir():
        if entry.name == _COMPLETE:
            continue
        link = python_dir / entry.name
        if link.exists():
            raise RuntimeError(f"{entry.name} is both in {source} and a dependency of the layer")
        link.symlink_to(entry, target_is_directory=entry.is_dir())
    return python_dir


def build_layer(destination: Path, architecture: str | None = None) -> Path:
    """The shared layer's ``python/`` folder for this machine (what Lambda mounts at ``/opt/python``)."""
    return assemble_layer(destination, installed_dependencies(architecture=architecture))


def lambda_python(*options: str) -> list[str]:
    """An interpreter with only the standard library on ``sys.path`` (``-I -S``); ``options`` go before the script."""
    return [sys.executable, "-I", "-S", *options]


def lambda_environment(function_name: str, memory_mb: int, task_root: str) -> dict[str, str]:
    """What the Lambda Python runtime sets for every invocation environment (credentials are dummies)."""
    return {
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_LAMBDA_FUNCTION_NAME": function_name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(memory_mb),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "LAMBDA_TASK_ROOT": task_root,
        "LAMBDA_RUNTIME_DIR": "/var/runtime",
        "AWS_ACCESS_KEY_ID": "lambda",
        "AWS_SECRET_ACCESS_KEY": "lambda",
        "AWS_SESSION_TOKEN": "lambda",
        "PATH": os.defpath,
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
    }
