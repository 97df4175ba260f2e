"""The slow provider (``bench.slow_provider``) in a process of its own, so its CPU is not the caller's.

``with ProviderProcess(0.1) as provider:`` starts ``python -m bench.provider_process 0.1``, which
serves on a free port of 127.0.0.1 and prints one JSON line: its base URL and the ChannelsSecret
pointing every channel at it. Closing its standard input stops it.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from local_stack.child import stop_process

ROOT = Path(__file__).resolve().parent.parent


class ProviderProcess:
    def __init__(self, delay_seconds: float) -> None:
        self.delay_seconds = delay_seconds
        self.base_url = ""
        self.channels_secret: dict[str, Any] = {}
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> "ProviderProcess":
        command = [sys.executable, "-m", "bench.provider_process", str(self.delay_seconds)]
        self._process = subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            stop_process(self._process)
            raise RuntimeError(f"the provider process exited before serving (exit {self._process.poll()})")
        ready = json.loads(line)
        self.base_url, self.channels_secret = ready["base_url"], ready["channels_secret"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            stop_process(self._process)


def serve(delay_seconds: float) -> None:
    from bench.slow_provider import SlowProvider

    with SlowProvider(delay_seconds) as provider:
        print(json.dumps({"base_url": provider.base_url, "channels_secret": provider.channels_secret()}), flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    serve(float(sys.argv[1]))
