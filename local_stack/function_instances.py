"""A function run the way Lambda runs it: concurrent instances, each its own process, each one event at a time.

``FunctionInstances`` is what the local stack invokes for every function of the template. An
invocation takes an idle instance, or starts a new one while the function has fewer than
``max_instances`` (Lambda's scaling, capped locally), or waits for one to come free. An instance is a
``python -m local_stack.function_worker`` process that imported the handler with the function's own
environment and keeps its module-level state between invocations, like a warm execution
environment; so concurrent requests to one function, or to two functions, never share the
Powertools resolver's current event, a batch processor or a settings cache.

What each instance writes to standard output (the function's JSON log lines) is handed line by line
to this process's ``sys.stdout``, which the stack routes to ``logs/<Function>.jsonl`` and the
terminal; standard error goes to this process's standard error.

An invocation past its time limit is reported as ``FunctionTimeout`` and its instance is ended (the
next invocation starts a fresh one), as Lambda ends an environment whose invocation timed out. A
handler that raises is ``FunctionError``, with its traceback logged; the instance stays warm.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

from local_stack.child import ROOT
from local_stack.function_worker import config_to_json
from local_stack.functions import FunctionConfig, FunctionError, FunctionTimeout

logger = logging.getLogger(__name__)

# How long a new instance may take to import its handler (a cold start) before it counts as failed.
INSTANCE_START_SECONDS = 60.0
INSTANCE_STOP_SECONDS = 5.0
_EXITED = None  # what the reply reader queues when the instance's reply channel closes


class InstanceGone(FunctionError):
    """The instance's process ended (it crashed, or was ended) before it replied."""


class Instance:
    """One worker process of one function."""

    def __init__(self, config: FunctionConfig, environ: Mapping[str, str]) -> None:
        self.config = config
        read_fd, write_fd = os.pipe()
        env = {**environ, "PYTHONUNBUFFERED": "1"}
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "local_stack.function_worker", "--reply-fd", str(write_fd)],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=(write_fd,),
                # No parent-death signal: Linux sends it when the *thread* that started the process
                # ends, and instances are started from request threads. An instance ends when its
                # standard input closes instead, which also happens when this process dies.
            )
        finally:
            os.close(write_fd)
        self._replies: queue.Queue[dict[str, Any] | None] = queue.Queue()
        name = f"{config.name}-{self.process.pid}"
        self._threads = [
            threading.Thread(target=self._read_replies, args=(os.fdopen(read_fd, "rb"),), name=f"{name}-replies"),
            threading.Thread(target=_forward, args=(self.process.stdout, "stdout"), name=f"{name}-stdout"),
            threading.Thread(target=_forward, args=(self.process.stderr, "stderr"), name=f"{name}-stderr"),
        ]
        for thread in self._threads:
            thread.daemon = True
            thread.start()
        self._send(config_to_json(config))

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_until_ready(self, timeout: float = INSTANCE_START_SECONDS) -> None:
        try:
            reply = self._replies.get(timeout=timeout)
        except queue.Empty:
            self.end()
            raise FunctionError(f"{self.config.name}: an instance did not start within {timeout:.0f} s") from None
        if reply is _EXITED or not reply.get("ready"):
            self.end()
            raise InstanceGone(f"{self.config.name}: an instance failed to start (its error is in the log above)")

    def invoke(self, event: Any, limit: float) -> dict[str, Any]:
        """The instance's reply (``result`` or ``error``); ``FunctionTimeout`` after ``limit`` seconds."""
        self._send({"event": event, "timeout_ms": int(self.config.timeout_seconds * 1000)})
        try:
            reply = self._replies.get(timeout=limit)
        except queue.Empty:
            self.end()
            raise FunctionTimeout(f"{self.config.name} timed out after {limit:.2f} seconds") from None
        if reply is _EXITED:
            self.end()
            raise InstanceGone(f"{self.config.name}: its instance exited during the invocation")
        return reply

    def end(self, grace: float = 0.0) -> None:
        """Close its input (a clean exit), then kill it if it is still running after ``grace`` seconds."""
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
        except OSError:
            pass
        try:
            self.process.wait(grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def _send(self, message: Any) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(json.dumps(message).encode("utf-8") + b"\n")
            self.process.stdin.flush()
        except (BrokenPipeError, ValueError, OSError):
            raise InstanceGone(f"{self.config.name}: its instance is not running") from None

    def _read_replies(self, channel: IO[bytes]) -> None:
        with channel:
            for line in channel:
                self._replies.put(json.loads(line))
        self._replies.put(_EXITED)


def _forward(stream: IO[bytes] | None, name: str) -> None:
    """Every line of an instance's output, written whole to this process's stream (looked up per line:
    the stack replaces ``sys.stdout`` with its log router)."""
    if stream is None:
        return
    with stream:
        for raw in stream:
            target = sys.stdout if name == "stdout" else sys.stderr
            target.write(raw.decode("utf-8", errors="replace"))
            target.flush()


class FunctionInstances:
    """``Invocable``: a function of the template, invoked on up to ``max_instances`` worker processes."""

    shares_process = False  # each invocation has an instance to itself: no lock between functions needed

    def __init__(self, config: FunctionConfig, max_instances: int, environ: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.name = config.name
        self.timeout_seconds: float = config.timeout_seconds
        self.memory_mb = config.memory_mb
        self.max_instances = max(1, max_instances)
        self._environ = dict(os.environ if environ is None else environ)
        self._idle: list[Instance] = []
        self._instances = 0  # idle, busy and starting
        self._changed = threading.Condition()
        self._stopped = False

    @property
    def busy(self) -> int:
        with self._changed:
            return self._instances - len(self._idle)

    @property
    def instances(self) -> int:
        with self._changed:
            return self._instances

    def start(self) -> None:
        """Start one instance now (a warm start for the first invocation)."""
        with self._changed:
            self._instances += 1
        self._release(self._start_counted())

    def invoke(self, event: Any, time_limit: float | None = None) -> Any:
        """The handler's JSON-round-tripped result, or ``FunctionError`` (``FunctionTimeout``).

        ``time_limit`` (seconds) stops waiting earlier than the function's own timeout, as an API
        Gateway integration timeout does; it counts from the moment an instance takes the event.
        """
        limit = self.timeout_seconds if time_limit is None else min(time_limit, self.timeout_seconds)
        instance = self._acquire()
        started = time.monotonic()
        try:
            reply = instance.invoke(event, limit)
        except FunctionTimeout:
            logger.error("%s Task timed out after %.2f seconds", self.name, time.monotonic() - started)
            raise
        finally:
            self._release(instance)
        if "error" in reply:
            logger.error("%s failed: %s\n%s", self.name, reply["error"], str(reply.get("traceback", "")).rstrip())
            raise FunctionError(f"{self.name}: {reply['error']}")
        return reply.get("result")

    def wait_until_idle(self, timeout: float) -> bool:
        """True once no invocation is running; False after ``timeout`` seconds."""
        with self._changed:
            return self._changed.wait_for(lambda: self._instances == len(self._idle), max(0.0, timeout))

    def stop(self) -> None:
        """End every instance (the stack has drained first: none should be busy)."""
        with self._changed:
            self._stopped = True
            idle, self._idle = self._idle, []
        for instance in idle:
            instance.end(INSTANCE_STOP_SECONDS)

    def _acquire(self) -> Instance:
        with self._changed:
            while True:
                if self._stopped:
                    raise FunctionError(f"{self.name}: the local stack is stopping")
                if self._idle:
                    return self._idle.pop()
                if self._instances < self.max_instances:
                    self._instances += 1  # counted before it starts: never more than max_instances
                    break
                self._changed.wait()
        return self._start_counted()

    def _start_counted(self) -> Instance:
        """A new instance, already counted in ``_instances`` (uncounted again if it fails to start)."""
        try:
            instance = Instance(self.config, self._environ)
            instance.wait_until_ready()
        except BaseException:
            with self._changed:
                self._instances -= 1
                self._changed.notify_all()
            raise
        return instance

    def _release(self, instance: Instance) -> None:
        with self._changed:
            if instance.alive and not self._stopped:
                self._idle.append(instance)
            else:
                self._instances -= 1
                if not instance.alive and not self._stopped:
                    logger.warning("%s: an instance exited (status %s)", self.name, instance.process.returncode)
                if instance.alive:
                    threading.Thread(target=instance.end, args=(INSTANCE_STOP_SECONDS,), daemon=True).start()
            self._changed.notify_all()
