"""moto in a process of its own, as the local stack runs it: ``AwsProcess`` starts it, ``main`` is that process.

moto answers every AWS call of every function instance; in the stack's own process it would share
one interpreter (one GIL) with the API gateway, the SQS pollers, the simulators and the sink. Here it
has its own. The port is bound by the stack (so a busy port fails the start before anything changes,
as before) and handed to the process as a listening socket.

What the stack needs from inside moto goes through two local-only routes of that process:
``POST /_local_stack/queues/dump`` (every queued message with its hidden state, for the saved state)
and ``POST /_local_stack/queues/restore`` (``local_stack.persistence``, which reads and writes moto's
queue objects; SQS cannot show delayed or in-flight messages without receiving them).
``GET /_local_stack/ready`` answers once moto serves.

The process ignores Ctrl-C (the whole process group gets it): the stack drains and saves through it
first, then ends it. It also ends if the stack dies (parent-death signal).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

import requests

from local_stack.child import ROOT, stop_process, terminate_with_parent

CONTROL_PREFIX = "/_local_stack/"
READY_PATH = CONTROL_PREFIX + "ready"
DUMP_PATH = CONTROL_PREFIX + "queues/dump"
RESTORE_PATH = CONTROL_PREFIX + "queues/restore"
START_TIMEOUT_SECONDS = 60.0
CONTROL_TIMEOUT_SECONDS = 120.0


class AwsProcess:
    """``AwsServer``'s interface (start, stop, endpoint_url), served by a child process."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._session = requests.Session()
        self._session.trust_env = False

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self.host, self.port))
            listener.listen(128)
        except OSError as exc:
            listener.close()
            raise OSError(f"cannot serve AWS (moto) on {self.host}:{self.port}: port in use or unavailable") from exc
        self.port = listener.getsockname()[1]
        try:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "local_stack.aws_process", "--fd", str(listener.fileno())],
                cwd=ROOT,
                pass_fds=(listener.fileno(),),
                preexec_fn=terminate_with_parent,  # started on the main thread, which lives as long as the stack
            )
        finally:
            listener.close()  # the child holds its own copy
        self._wait_until_ready()

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process is not None and self._process.poll() is not None:
                break
            try:
                if self._session.get(self.endpoint_url + READY_PATH, timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError("moto (the local AWS endpoint) did not start")

    def dump_queues(self, queue_names: Iterable[str]) -> dict[str, list[dict[str, Any]]]:
        return self._control(DUMP_PATH, {"queue_names": list(queue_names)})

    def restore_queues(
        self, queue_urls: Mapping[str, str], queues: Mapping[str, Any], replacements: Mapping[str, str]
    ) -> int:
        return int(
            self._control(
                RESTORE_PATH,
                {"queue_urls": dict(queue_urls), "queues": dict(queues), "replacements": dict(replacements)},
            )
        )

    def _control(self, path: str, body: Any) -> Any:
        response = self._session.post(self.endpoint_url + path, json=body, timeout=CONTROL_TIMEOUT_SECONDS)
        response.raise_for_status()
        return response.json()

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None
        self._session.close()


class ControlRoutes:
    """WSGI: the ``/_local_stack/`` routes, everything else to moto."""

    def __init__(self, moto: Any, endpoint_url: str) -> None:
        self._moto = moto
        self._endpoint_url = endpoint_url

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(CONTROL_PREFIX):
            return self._moto(environ, start_response)
        from local_stack.persistence import dump_queues, restore_queues

        if path == READY_PATH:
            answer: Any = "ready"
        else:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if path == DUMP_PATH:
                answer = dump_queues(body["queue_names"])
            elif path == RESTORE_PATH:
                answer = restore_queues(self._sqs(), body["queue_urls"], body["queues"], body["replacements"])
            else:
                start_response("404 Not Found", [("Content-Type", "application/json")])
                return [b'{"message": "Not Found"}']
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode("utf-8")]

    def _sqs(self) -> Any:
        import boto3

        from local_stack.template import LOCAL_REGION

        return boto3.session.Session().client(
            "sqs",
            endpoint_url=self._endpoint_url,
            region_name=LOCAL_REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m local_stack.aws_process")
    parser.add_argument("--fd", type=int, required=True, help="a listening socket to serve on")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from local_stack.aws_server import moto_application
    from local_stack.keepalive_wsgi import KeepAliveWSGIServer

    listener = socket.socket(fileno=args.fd)
    host, port = listener.getsockname()[:2]
    server = KeepAliveWSGIServer(listener, ControlRoutes(moto_application(), f"http://{host}:{port}"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.serve_forever()
    except SystemExit:
        pass
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    sys.exit(main())
