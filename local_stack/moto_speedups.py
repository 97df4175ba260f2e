"""Two costs of moto's server that the local stack removes, found by profiling the bench's load run.

Both are work moto repeats on every request with the same answer, not behaviour:

- **Which backend serves a request.** ``DomainDispatcherApplication.get_backend_for_host`` lists
  moto's package directory (``list_of_moto_modules``: a ``listdir`` and a ``stat`` per entry) and then
  tries every service's URL pattern, for each request. The answer depends only on the host string it
  is given, so it is remembered per host.
- **The clock and the queue counts.** A queue message's ``visible`` and ``delayed`` read the time
  through datetime arithmetic (``unix_time_millis``), and the approximate counts SendMessage and
  ReceiveMessage compute call them for every message of the queue. They read ``time.time()`` (the
  same epoch clock) once per count instead.
- **DynamoDB item answers.** moto turns every answer into JSON by walking botocore's output shape
  value by value (``moto.core.serialize``): for an UpdateItem returning a message record that is
  most of the request's CPU. The item operations' results are already in DynamoDB's wire shape
  (``{"Attributes": {"status": {"S": "sent"}}, ...}``), so they are written with ``json.dumps``
  instead; ``tests/unit/test_moto_speedups.py`` checks the two give the same JSON. Errors and every
  other operation keep moto's serialiser.
- **The retention check on receive.** ``SQSBackend.receive_message`` checks each message it hands
  out against the queue's retention period by computing *every* queue attribute, and three of those
  (the approximate message counts) walk the whole queue. A receive of 10 from a queue holding 2,000
  messages costs about half a second of CPU that way. The check reads the one attribute instead.

``install`` patches moto's classes in this process, once; moto's own tests of these paths do not run
here, so the replacements keep the originals' answers (see ``tests/unit/test_moto_speedups.py``).
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from moto.core.utils import unix_time

_installed = False
_install_lock = threading.Lock()


def install() -> None:
    global _installed
    with _install_lock:
        if _installed:
            return
        _remember_backend_per_host()
        _cheap_retention_check()
        _cheap_queue_clock()
        _plain_json_item_answers()
        _installed = True


def _remember_backend_per_host() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    find_backend = DomainDispatcherApplication.get_backend_for_host
    remembered: dict[str | None, Any] = {}

    def get_backend_for_host(self: Any, host: str | None) -> Any:
        try:
            return remembered[host]
        except KeyError:
            backend = remembered[host] = find_backend(self, host)
            return backend

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]


def _cheap_retention_check() -> None:
    from moto.sqs.models import SQSBackend

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_seconds = int(self.get_queue(queue_name).message_retention_period)
        return retention_seconds + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.is_message_valid_based_on_retention_period = is_message_valid_based_on_retention_period  # type: ignore[method-assign]


def _now_ms() -> float:
    return time.time() * 1000.0


def _cheap_queue_clock() -> None:
    from moto.sqs.models import Message, Queue

    Message.visible = property(lambda message: _now_ms() > message.visible_at)  # type: ignore[method-assign,assignment]
    Message.delayed = property(lambda message: _now_ms() < message.delayed_until)  # type: ignore[method-assign,assignment]

    def waiting(queue: Any) -> int:
        now = _now_ms()
        return sum(1 for m in queue._messages if now > m.visible_at and not now < m.delayed_until)  # noqa: SLF001

    def in_flight(queue: Any) -> int:
        now = _now_ms()
        return sum(1 for m in queue._messages if not now > m.visible_at)  # noqa: SLF001

    def delayed(queue: Any) -> int:
        now = _now_ms()
        return sum(1 for m in queue._messages if now < m.delayed_until)  # noqa: SLF001

    Queue.approximate_number_of_messages = property(waiting)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_not_visible = property(in_flight)  # type: ignore[method-assign,assignment]
    Queue.approximate_number_of_messages_delayed = property(delayed)  # type: ignore[method-assign,assignment]


# DynamoDB operations whose results moto builds in the wire shape already (items as attribute-value maps).
PLAIN_JSON_ACTIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem", "BatchWriteItem"}
)
DYNAMODB_JSON = "application/x-amz-json-1.0"
moto_serialized: Any = None  # moto's own DynamoHandler.serialized, once replaced


def plain_json_answer(action: str, result: Any) -> tuple[int, dict[str, str], str] | None:
    """The response for an item operation's successful ``result``; None when moto's serialiser must do it."""
    if action not in PLAIN_JSON_ACTIONS or not isinstance(result, dict):
        return None
    try:
        body = json.dumps(result, separators=(",", ":"))
    except (TypeError, ValueError):
        return None
    return 200, {"Content-Type": DYNAMODB_JSON}, body


def _plain_json_item_answers() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoHandler

    global moto_serialized
    serialized = moto_serialized = DynamoHandler.serialized

    def serialized_plainly(self: Any, action_result: Any) -> Any:
        if type(action_result) is ActionResult:
            answer = plain_json_answer(self._get_action(), action_result.result)  # noqa: SLF001
            if answer is not None:
                status, headers, body = answer
                headers.update(self.response_headers)
                return status, headers, body
        return serialized(self, action_result)

    DynamoHandler.serialized = serialized_plainly  # type: ignore[method-assign]
