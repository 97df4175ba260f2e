"""moto's server on a thread of this process, and the environment that points the AWS SDK at it.

The local stack serves moto from a process of its own (``local_stack.aws_process``); tests and the
benchmarks that observe moto's requests (``middleware``) use this in-process server.

This is moto's ``ThreadedMotoServer`` with the port bound on the caller's thread, so a busy port
raises here instead of leaving ``start()`` waiting for a server thread that died.
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
from collections import Counter
from collections.abc import Callable, MutableMapping
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from local_stack import fair_queues, moto_speedups
from local_stack.template import LOCAL_REGION

# Variables that would send SDK calls somewhere else, or sign them with real credentials.
_CONFLICTING_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
_SERVICE_ENDPOINT_PREFIX = "AWS_ENDPOINT_URL_"


class SerializedDynamoDB:
    """WSGI wrapper: one DynamoDB request at a time, up to the point where its answer is serialised.

    moto checks a conditional write's condition and applies the write without a lock, so two
    concurrent conditional updates can both succeed; DynamoDB makes them one atomic step, and the
    exactly-once claims depend on it. Serialising DynamoDB requests restores that. SQS requests stay
    concurrent (their long polls would otherwise stall everything).

    Turning moto's result into the response body (its model-driven serialiser) is most of a DynamoDB
    request's CPU, and the result is by then a fresh copy of the items (``Item.to_json`` and
    ``describe_attrs`` build new dicts): ``release_before_serialising`` (installed on moto's DynamoDB
    handler by ``moto_application``) lets the next request in before that step.
    """

    _lock = threading.Lock()  # one per process: moto's backends are per process
    _holding = threading.local()

    def __init__(self, app: Any) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            return self._app(environ, start_response)
        self._lock.acquire()
        self._holding.value = True
        try:
            return list(self._app(environ, start_response))
        finally:
            self.release_before_serialising()

    @classmethod
    def release_before_serialising(cls) -> None:
        """Let the next DynamoDB request in, if this thread holds the lock (once per request)."""
        if getattr(cls._holding, "value", False):
            cls._holding.value = False
            cls._lock.release()


def _serialise_outside_the_lock() -> None:
    from moto.dynamodb.responses import DynamoHandler

    if getattr(DynamoHandler.serialized, "outside_the_lock", False):
        return
    serialized = DynamoHandler.serialized

    def serialized_outside_the_lock(self: Any, action_result: Any) -> Any:
        SerializedDynamoDB.release_before_serialising()
        return serialized(self, action_result)

    serialized_outside_the_lock.outside_the_lock = True  # type: ignore[attr-defined]
    DynamoHandler.serialized = serialized_outside_the_lock  # type: ignore[method-assign]


def quiet_werkzeug() -> None:
    """werkzeug logs every request moto serves at INFO."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


def moto_application() -> Any:
    """moto's WSGI application as the local stack serves it: DynamoDB requests one at a time, moto's
    per-request overheads removed (``moto_speedups``), standard queues fair between tenants
    (``fair_queues``), and DynamoDB write faults when a fault run asks (``DynamoDBWriteFaults``)."""
    moto_speedups.install()
    fair_queues.install()
    _serialise_outside_the_lock()
    app: Any = SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
    if os.environ.get(FAULT_INJECTION_VARIABLE) == "1":
        app = DynamoDBWriteFaults(app)
    return app


FAULT_INJECTION_VARIABLE = "SWITCHBOARD_LOCAL_FAULT_INJECTION"  # "1": DynamoDBWriteFaults is installed
FAULTS_PATH = "/_switchboard/faults"
_DYNAMODB_WRITES = frozenset(
    f"DynamoDB_20120810.{op}" for op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
)
_INTERNAL_ERROR = json.dumps(
    {"__type": "com.amazonaws.dynamodb.v20120810#InternalServerError", "message": "injected fault"}
).encode()


class DynamoDBWriteFaults:
    """WSGI wrapper for fault runs (the bench's ``load_faults``): a share of DynamoDB writes fail.

    Installed only when ``SWITCHBOARD_LOCAL_FAULT_INJECTION=1`` is set when the stack starts, and
    idle until ``POST /_switchboard/faults {"dynamodb_write_failure_rate": 0.02, "seed": 1}`` on the
    AWS endpoint turns it on (so the stack's own start-up is never hit); ``GET`` answers the counts.

    A chosen write fails as the caller sees it: every attempt of that SDK call (botocore's
    ``amz-sdk-invocation-id``; its retries carry the same id) is answered HTTP 500
    InternalServerError, so the error reaches the code rather than being retried away. Half of
    them fail before the write is applied, half after it was applied on the first attempt (the
    answer is lost): the two ways a storage call can fail.
    """

    def __init__(self, app: Any) -> None:
        self._app = app
        self._lock = threading.Lock()
        self._rate = 0.0
        self._random = random.Random(0)
        self._doomed: dict[str, str] = {}  # invocation id -> "before" | "after"
        self.counts: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO") == FAULTS_PATH:
            return self._control(environ, start_response)
        if self._rate <= 0 or environ.get("HTTP_X_AMZ_TARGET", "") not in _DYNAMODB_WRITES:
            return self._app(environ, start_response)
        invocation = environ.get("HTTP_AMZ_SDK_INVOCATION_ID") or f"request-{id(environ)}"
        first_attempt = "attempt=1;" in environ.get("HTTP_AMZ_SDK_REQUEST", "attempt=1;").replace(" ", "")
        with self._lock:
            mode = self._doomed.get(invocation)
            if mode is None and first_attempt and self._random.random() < self._rate:
                mode = self._doomed[invocation] = self._random.choice(("before", "after"))
                self.counts[f"failed_{mode}_write"] += 1
        if mode is None:
            return self._app(environ, start_response)
        if mode == "after" and first_attempt:
            list(self._app(environ, lambda status, headers, exc_info=None: None))  # applied; the answer is lost
        start_response(
            "500 Internal Server Error",
            [("Content-Type", "application/x-amz-json-1.0"), ("Content-Length", str(len(_INTERNAL_ERROR)))],
        )
        return [_INTERNAL_ERROR]

    def _control(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            settings = json.loads(environ["wsgi.input"].read(length) or b"{}")
            with self._lock:
                self._rate = float(settings.get("dynamodb_write_failure_rate", 0.0))
                self._random = random.Random(settings.get("seed", 0))
        with self._lock:
            body = json.dumps({"dynamodb_write_failure_rate": self._rate, **self.counts}).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


class AwsServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, middleware: Callable[[Any], Any] | None = None) -> None:
        """``middleware`` wraps moto's WSGI application (e.g. to observe the requests it answers)."""
        self.host = host
        self.port = port
        self._middleware = middleware
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        quiet_werkzeug()
        app: Any = moto_application()
        if self._middleware is not None:
            app = self._middleware(app)
        try:
            self._server = make_server(self.host, self.port, app, threaded=True, request_handler=MotoRequestHandler)
        except (OSError, SystemExit) as exc:  # werkzeug exits on a busy port
            raise OSError(f"cannot serve AWS (moto) on {self.host}:{self.port}: port in use or unavailable") from exc
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._server.server_close()
        self._server = None
        self._thread = None


def use_local_aws(endpoint_url: str, environ: MutableMapping[str, str] = os.environ) -> None:
    """Every SDK client created from now on talks to ``endpoint_url`` with dummy credentials."""
    for name in [*_CONFLICTING_VARIABLES, *(k for k in environ if k.startswith(_SERVICE_ENDPOINT_PREFIX))]:
        environ.pop(name, None)
    environ["AWS_ENDPOINT_URL"] = endpoint_url
    environ["AWS_ACCESS_KEY_ID"] = "testing"
    environ["AWS_SECRET_ACCESS_KEY"] = "testing"
    environ["AWS_DEFAULT_REGION"] = LOCAL_REGION
    environ["AWS_REGION"] = LOCAL_REGION
