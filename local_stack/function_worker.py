"""One instance of one function, in its own process: ``python -m local_stack.function_worker``.

Started by ``local_stack.function_instances``, as the Lambda runtime starts an execution environment:
the function's environment is set and its handler imported once, then it handles one event at a
time for as long as it lives, keeping its module-level state (clients, caches, the Powertools
resolver) between invocations like a warm instance.

The channel to the stack is the process's standard input (one JSON request per line:
``{"event": ..., "timeout_ms": ...}``) and the file descriptor named by ``--reply-fd`` (one JSON
reply per line: ``{"result": ...}`` or ``{"error": "...", "traceback": "..."}``). Standard output and
standard error stay the function's own, as on Lambda: the stack reads them and routes every log line.

Ctrl-C reaches the whole process group: an instance ignores SIGINT and finishes its invocation; the
stack ends it by closing its standard input once the stack has drained.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from pathlib import Path
from typing import Any, TextIO

from local_stack.functions import FunctionConfig, LambdaContext, add_layers_to_path, import_handler, runtime_json


def config_from_json(data: dict[str, Any]) -> FunctionConfig:
    return FunctionConfig(
        name=data["name"],
        code_dir=Path(data["code_dir"]),
        handler=data["handler"],
        memory_mb=int(data["memory_mb"]),
        timeout_seconds=int(data["timeout_seconds"]),
        environment=dict(data["environment"]),
        layer_dirs=tuple(Path(p) for p in data["layer_dirs"]),
    )


def config_to_json(config: FunctionConfig) -> dict[str, Any]:
    return {
        "name": config.name,
        "code_dir": str(config.code_dir),
        "handler": config.handler,
        "memory_mb": config.memory_mb,
        "timeout_seconds": config.timeout_seconds,
        "environment": dict(config.environment),
        "layer_dirs": [str(p) for p in config.layer_dirs],
    }


def serve(config: FunctionConfig, requests: TextIO, replies: TextIO) -> None:
    os.environ.update(config.environment)
    add_layers_to_path([config])
    handler = import_handler(config)
    replies.write(json.dumps({"ready": True}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        context = LambdaContext(config.name, config.memory_mb, request["timeout_ms"] / 1000)
        try:
            reply: dict[str, Any] = {"result": runtime_json(handler(request["event"], context))}
        except BaseException as exc:  # noqa: BLE001 - reported to the stack, as Lambda reports it
            reply = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
        sys.stdout.flush()
        sys.stderr.flush()
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack.function_worker")
    parser.add_argument("--reply-fd", type=int, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(5)
    config = config_from_json(json.loads(sys.stdin.readline()))
    with os.fdopen(args.reply_fd, "w", encoding="utf-8") as replies:
        serve(config, sys.stdin, replies)
    return 0


if __name__ == "__main__":
    sys.exit(main())
