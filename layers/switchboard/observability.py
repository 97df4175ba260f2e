"""Powertools Logger, Tracer and Metrics, one of each per function, for every function.

Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (template).
Never log secrets or message text: log ids, channels, statuses and error codes only.

``logger`` and ``metrics`` stand for the Powertools Logger and metrics of the function being
invoked. On Lambda a process runs one function, so that is simply its own service. The local stack
(and tests) run every function in one process, where one module-level Logger would carry whichever
function was invoked last (its name, its service, its request id) onto every other function's lines.
So there is one Logger and one metrics set per service: ``inject_lambda_context`` and ``log_metrics``
pick the one for the service in effect when the handler module is imported, and make it the current
one (a context variable) while the handler runs; shared code logging through ``logger`` gets the
current one. Threads a handler starts carry it along when they are started with ``ContextExecutor``.

Tracing: every function has Lambda's active tracing (a segment per invocation, with its init
phase). X-Ray SDK subsegments (one per AWS and provider call) are opt-in with the template's
``XRaySubsegments`` parameter, because importing the X-Ray SDK alone adds about 0.4 s to every cold
start (it builds a recorder and a botocore session at import). When they are off, the Tracer gets a
do-nothing provider so the SDK is never imported, and ``capture_lambda_handler`` is a pass-through.
"""
from __future__ import annotations

import contextvars
import functools
import os
import sys
import threading
import warnings
from collections.abc import Callable, Generator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.metrics import EphemeralMetrics
from aws_lambda_powertools.tracing.base import BaseProvider

# Health checks and idempotent replays legitimately publish no metrics; the warning is noise.
warnings.filterwarnings("ignore", message="No application metrics to publish")

SERVICE_VARIABLE = "POWERTOOLS_SERVICE_NAME"
UNDEFINED_SERVICE = "service_undefined"  # what Powertools calls a Logger without a service


class _NoSegment:
    """Accepts what the Tracer records on a subsegment and keeps none of it."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class _NoTracing(BaseProvider):
    """Tracing provider for when X-Ray subsegments are off: records nothing, imports nothing."""

    @contextmanager
    def in_subsegment(self, name: Any = None, **kwargs: Any) -> Generator[Any, None, None]:
        yield _NoSegment()

    def in_subsegment_async(self, name: Any = None, **kwargs: Any) -> Any:
        return self.in_subsegment(name, **kwargs)

    def put_annotation(self, key: str, value: Any) -> None:
        return None

    def put_metadata(self, key: str, value: Any, namespace: str = "default") -> None:
        return None

    def patch(self, modules: Sequence[str]) -> None:
        return None

    def patch_all(self) -> None:
        return None


def _subsegments_enabled() -> bool:
    return os.getenv("POWERTOOLS_TRACE_DISABLED", "false").strip().lower() not in ("1", "true", "yes", "on")


# -- one Logger and one metrics set per service ---------------------------------------------------

_registry_lock = threading.Lock()
_loggers: dict[str, Logger] = {}
_metrics: dict[str, EphemeralMetrics] = {}
_current_logger: contextvars.ContextVar[Logger | None] = contextvars.ContextVar("switchboard_logger", default=None)
_current_metrics: contextvars.ContextVar[EphemeralMetrics | None] = contextvars.ContextVar(
    "switchboard_metrics", default=None
)


def configured_service() -> str:
    """The service the environment names (on Lambda: this function's)."""
    return os.environ.get(SERVICE_VARIABLE) or UNDEFINED_SERVICE


class _CurrentStdout:
    """Standard output as it is when a line is written, not when the logger was made (a logger made
    lazily, during one invocation or test, must not keep writing to a stream that was replaced since)."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


def logger_for(service: str) -> Logger:
    with _registry_lock:
        if service not in _loggers:
            _loggers[service] = Logger(service=service, stream=_CurrentStdout())  # type: ignore[arg-type]
        return _loggers[service]


def metrics_for(service: str) -> EphemeralMetrics:
    """The metrics set of ``service``; metrics added to it are flushed by its ``log_metrics``."""
    with _registry_lock:
        if service not in _metrics:
            _metrics[service] = EphemeralMetrics(service=service)
        return _metrics[service]


def current_service() -> str:
    """The service of the function being invoked (the configured one outside an invocation)."""
    active = _current_logger.get()
    return active.service if active is not None else configured_service()


def new_metrics() -> EphemeralMetrics:
    """A metrics set of its own (flushed by the caller) tagged with the current function's service."""
    return EphemeralMetrics(service=current_service())


class FunctionLogger:
    """``logger``: the Powertools Logger of the function being invoked (see the module docstring)."""

    def _current(self) -> Logger:
        active = _current_logger.get()
        return active if active is not None else logger_for(configured_service())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current(), name)

    def inject_lambda_context(self, lambda_handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Powertools' decorator, on the Logger of the service configured while the handler is imported."""
        own = logger_for(configured_service())

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            injected = own.inject_lambda_context(handler, **options)

            @functools.wraps(handler)
            def invoke(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
                token = _current_logger.set(own)
                try:
                    return injected(event, context, *args, **kwargs)
                finally:
                    _current_logger.reset(token)

            return invoke

        return decorate(lambda_handler) if lambda_handler is not None else decorate


class FunctionMetrics:
    """``metrics``: the metrics set of the function being invoked (see the module docstring)."""

    def _current(self) -> EphemeralMetrics:
        active = _current_metrics.get()
        return active if active is not None else metrics_for(current_service())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._current(), name)

    def log_metrics(self, lambda_handler: Callable[..., Any] | None = None, **options: Any) -> Any:
        """Powertools' decorator, on the metrics set of the service configured while the handler is imported."""
        own = metrics_for(configured_service())

        def decorate(handler: Callable[..., Any]) -> Callable[..., Any]:
            flushed = own.log_metrics(handler, **options)

            @functools.wraps(handler)
            def invoke(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
                token = _current_metrics.set(own)
                try:
                    return flushed(event, context, *args, **kwargs)
                finally:
                    _current_metrics.reset(token)

            return invoke

        return decorate(lambda_handler) if lambda_handler is not None else decorate


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context: the current function's
    logger and metrics (and Powertools' thread-safe log keys) go with them."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return super().submit(contextvars.copy_context().run, fn, *args, **kwargs)


logger = FunctionLogger()
tracer = Tracer() if _subsegments_enabled() else Tracer(disabled=True, provider=_NoTracing())
metrics = FunctionMetrics()
