"""The template's functions as Lambda sees them (``function_configs``), and ``LocalFunction``: one
imported into this process and invoked the way Lambda invokes it. The local stack itself runs every
function on instances of their own (``local_stack.function_instances``); the benchmarks' sandboxes
and unit tests use ``LocalFunction``.

An invocation runs on its own thread so the function's ``Timeout`` can be enforced (the thread of
a timed-out invocation cannot be killed: it is left to finish in the background, its result
dropped). The return value goes through JSON as the Python runtime serialises it (``Decimal`` as
a number), so a handler that returns something Lambda could not serialise fails here too.

``LocalFunction``s share this process, hence its environment and the shared layer's modules: handler
code must be safe to run on several threads at once.
"""

from __future__ import annotations

import decimal
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar, Protocol

from local_stack.template import (
    LOCAL_ACCOUNT,
    LOCAL_REGION,
    ROOT,
    LocalResources,
    function_environment,
    resolve,
    resources_of_type,
)

logger = logging.getLogger(__name__)

FUNCTION_TYPE = "AWS::Serverless::Function"
LAYER_TYPE = "AWS::Serverless::LayerVersion"
# Lambda's own defaults when neither the function nor Globals set them.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_SECONDS = 3

Handler = Callable[[Any, Any], Any]


class FunctionError(Exception):
    """The invocation failed: the handler raised, or returned something Lambda cannot serialise."""


class FunctionTimeout(FunctionError):
    """The invocation ran past the time it was given."""


class Invocable(Protocol):
    name: str
    timeout_seconds: float
    # True when invocations run in this process next to other functions' (module state is shared);
    # ``local_stack.function_instances`` runs each in an instance process of its own.
    shares_process: bool

    def invoke(self, event: Any, time_limit: float | None = None) -> Any: ...


class LambdaContext:
    """What the Python runtime passes as ``context``."""

    def __init__(self, function_name: str, memory_mb: int, timeout_seconds: float) -> None:
        now = time.time()
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = memory_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"{datetime.fromtimestamp(now, timezone.utc):%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = now + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.time()) * 1000))


@dataclass
class LocalFunction:
    """A function invoked in this process (the benchmarks' sandboxes and unit tests use it)."""

    shares_process: ClassVar[bool] = True
    name: str
    handler: Handler
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    # One event at a time, as one Lambda instance handles them: the handlers' module-level state
    # (the Powertools resolver's current event, batch processors) is per instance, not per thread.
    _busy: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def invoke(self, event: Any, time_limit: float | None = None) -> Any:
        """The handler's JSON-round-tripped result, or ``FunctionError``.

        ``time_limit`` (seconds) stops waiting earlier than the function's own timeout, as an
        API Gateway integration timeout does.
        """
        limit = self.timeout_seconds if time_limit is None else min(time_limit, self.timeout_seconds)
        outcome: dict[str, Any] = {}
        self._busy.acquire()
        context = LambdaContext(self.name, self.memory_mb, self.timeout_seconds)  # the clock starts now

        def run() -> None:
            try:
                outcome["result"] = runtime_json(self.handler(event, context))
            except BaseException as exc:  # noqa: BLE001 - reported to the caller as Lambda reports it
                outcome["error"] = exc
                outcome["traceback"] = traceback.format_exc()
            finally:
                self._busy.release()  # a timed-out handler keeps its instance busy until it returns

        thread = threading.Thread(target=run, name=f"{self.name}-{context.aws_request_id[:8]}", daemon=True)
        thread.start()
        thread.join(limit)
        if thread.is_alive():
            logger.error("%s %s Task timed out after %.2f seconds", self.name, context.aws_request_id, limit)
            raise FunctionTimeout(f"{self.name} timed out after {limit:.2f} seconds")
        if "error" in outcome:
            error = outcome["error"]
            logger.error(
                "%s %s failed: %s\n%s", self.name, context.aws_request_id, error, outcome["traceback"].rstrip()
            )
            raise FunctionError(f"{self.name}: {type(error).__name__}: {error}") from error
        return outcome.get("result")


    def wait_until_idle(self, timeout: float) -> bool:
        """True once no invocation is running (a timed-out one included); False after ``timeout`` seconds."""
        if not self._busy.acquire(timeout=max(0.0, timeout)):
            return False
        self._busy.release()
        return True


def runtime_json(result: Any) -> Any:
    """A handler's result as the Python runtime serialises it (``Decimal`` as a number), read back."""
    return json.loads(json.dumps(result, default=_runtime_json_default))


def _runtime_json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


@dataclass(frozen=True)
class FunctionConfig:
    """One ``AWS::Serverless::Function`` as this process runs it (Globals merged in)."""

    name: str
    code_dir: Path
    handler: str  # "module.attribute", relative to code_dir
    memory_mb: int
    timeout_seconds: int
    environment: dict[str, str] = field(default_factory=dict)
    layer_dirs: tuple[Path, ...] = ()


def function_property(template: dict[str, Any], logical_id: str, key: str, default: Any = None) -> Any:
    """A function's own property, else the one from ``Globals.Function``, else ``default``."""
    own = template["Resources"][logical_id].get("Properties", {})
    if key in own:
        return own[key]
    return template.get("Globals", {}).get("Function", {}).get(key, default)


def function_configs(template: dict[str, Any], local: LocalResources, root: Path = ROOT) -> dict[str, FunctionConfig]:
    layers = resources_of_type(template, LAYER_TYPE)
    configs = {}
    for logical_id in resources_of_type(template, FUNCTION_TYPE):
        layer_ids = [_referenced_id(layer) for layer in function_property(template, logical_id, "Layers", [])]
        layer_dirs = tuple(
            (root / layers[layer_id]["Properties"]["ContentUri"]).resolve()
            for layer_id in layer_ids
            if layer_id in layers
        )
        configs[logical_id] = FunctionConfig(
            name=logical_id,
            code_dir=(root / function_property(template, logical_id, "CodeUri")).resolve(),
            handler=function_property(template, logical_id, "Handler"),
            memory_mb=int(resolve(function_property(template, logical_id, "MemorySize", DEFAULT_MEMORY_MB), local)),
            timeout_seconds=int(
                resolve(function_property(template, logical_id, "Timeout", DEFAULT_TIMEOUT_SECONDS), local)
            ),
            environment=function_environment(template, logical_id, local),
            layer_dirs=layer_dirs,
        )
    return configs


def _referenced_id(value: Any) -> str | None:
    return value.get("Ref") if isinstance(value, dict) else None


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` for the duration, the previous values restored afterwards."""
    previous = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def add_layers_to_path(configs: Iterable[FunctionConfig]) -> None:
    """Layer contents are importable in every function, as ``/opt/python`` is on Lambda."""
    for config in configs:
        for layer_dir in config.layer_dirs:
            if str(layer_dir) not in sys.path:
                sys.path.insert(0, str(layer_dir))


def import_handler(config: FunctionConfig) -> Handler:
    """Import the handler from its code directory under a module name unique to the function.

    The code directory is on ``sys.path`` only while the handler module is imported, and the
    modules imported from it are then forgotten by name, so functions whose folders hold
    same-named modules (every one has an ``app.py``) do not see each other's.
    The function's own environment is in effect during the import, for module-level settings.
    """
    module_path, _, attribute = config.handler.rpartition(".")
    file_path = config.code_dir / (module_path.replace(".", "/") + ".py")
    if not file_path.is_file():
        raise FileNotFoundError(f"{config.name}: handler module {file_path} not found")
    unique_name = f"_function_{config.name}_{module_path.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(unique_name, file_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{config.name}: cannot import {file_path}")
    module = importlib.util.module_from_spec(spec)
    code_dir = str(config.code_dir)
    sys.path.insert(0, code_dir)
    try:
        with environment(config.environment):
            sys.modules[unique_name] = module
            spec.loader.exec_module(module)
    finally:
        sys.path.remove(code_dir)
        _forget_modules_under(config.code_dir, keep=unique_name)
    handler = getattr(module, attribute, None)
    if not callable(handler):
        raise AttributeError(f"{config.name}: {file_path} has no callable {attribute!r}")
    return handler


def _forget_modules_under(directory: Path, keep: str) -> None:
    for name, module in list(sys.modules.items()):
        if name != keep and _module_file_under(module, directory):
            del sys.modules[name]


def _module_file_under(module: ModuleType | None, directory: Path) -> bool:
    file = getattr(module, "__file__", None)
    return bool(file) and Path(file).resolve().is_relative_to(directory)

