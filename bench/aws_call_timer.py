"""How long this thread spends inside AWS calls, measured through botocore's event hooks.

Subtracted from a request's time, it leaves the time spent in our own code. The hooks go into
``botocore.handlers.BUILTIN_HANDLERS``, so they reach every session created after ``install``.
"""
from __future__ import annotations

import threading
import time
from typing import Any

from botocore import handlers

_STARTED = "bench_started"


class AwsCallTimer:
    def __init__(self) -> None:
        self._local = threading.local()
        self._hooks = [("before-parameter-build", self._started), ("after-call", self._finished)]

    def install(self) -> None:
        for hook in self._hooks:
            if hook not in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.append(hook)

    def uninstall(self) -> None:
        for hook in self._hooks:
            if hook in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.remove(hook)

    def take_seconds(self) -> float:
        """Seconds this thread spent in AWS calls since the last ``take_seconds``."""
        spent = getattr(self._local, "seconds", 0.0)
        self._local.seconds = 0.0
        return spent

    def _started(self, context: dict[str, Any], **_: Any) -> None:
        context[_STARTED] = time.perf_counter()

    def _finished(self, context: dict[str, Any], **_: Any) -> None:
        started = context.pop(_STARTED, None)
        if started is not None:
            self._local.seconds = getattr(self._local, "seconds", 0.0) + time.perf_counter() - started
