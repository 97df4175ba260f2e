"""Powertools Logger, Tracer and Metrics, set up once for every function.

Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (template).
Never log secrets or message text: log ids, channels, statuses and error codes only.

Tracing: every function has Lambda's active tracing (a segment per invocation, with its init
phase). X-Ray SDK subsegments (one per AWS and provider call) are opt-in with the template's
``XRaySubsegments`` parameter, because importing the X-Ray SDK alone adds about 0.4 s to every cold
start (it builds a recorder and a botocore session at import). When they are off, the Tracer gets a
do-nothing provider so the SDK is never imported, and ``capture_lambda_handler`` is a pass-through.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Generator, Sequence
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.tracing.base import BaseProvider

# Health checks and idempotent replays legitimately publish no metrics; the warning is noise.
warnings.filterwarnings("ignore", message="No application metrics to publish")


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


logger = Logger()
tracer = Tracer() if _subsegments_enabled() else Tracer(disabled=True, provider=_NoTracing())
metrics = Metrics()
