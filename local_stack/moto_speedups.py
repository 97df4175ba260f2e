"""Costs of moto's server that the local stack removes, found by profiling the bench's load run.

Each is work moto repeats on every request with the same answer, not behaviour:

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
- **The item order behind every Query and Scan.** ``Table.all_items`` sorts the whole table by key
  on each Query (an index query too, which sorts its matches again), comparing ``DynamoType``
  objects whose every comparison converts both values (``cast_value``, a ``Decimal`` for numbers).
  With a few thousand messages in the table that sort was most of the CPU under the DynamoDB lock,
  so every other table request waited on it. A Query no longer sorts the table (it sorts its
  matches, as before); a Scan's order is computed from the converted key values once per item; and
  comparing two strings (or binaries) for equality, as a Query does for every item of the table,
  compares them directly instead of converting both first.
- **The retention check on receive.** ``SQSBackend.receive_message`` checks each message it hands
  out against the queue's retention period by computing *every* queue attribute, and three of those
  (the approximate message counts) walk the whole queue. A receive of 10 from a queue holding 2,000
  messages costs about half a second of CPU that way. The check reads the one attribute instead.
- **Which handler methods exist.** ``BaseResponse.call_action`` lists the handler class's functions
  (``method_names_from_class``: ``inspect.getmembers``, which looks up and tests each of a few
  hundred attributes) on every request, to see whether the action is one of them. The answer depends
  only on the class, and every patch of the local stack is installed before moto serves, so it is
  remembered per class.
- **Action and attribute names.** ``camelcase_to_underscores`` converts the action's name on every
  request, and ``Queue.attributes`` converts the name of each of its attributes each time it is
  read, one character at a time. The answer depends only on the text, so it is remembered per text
  (at most ``moto_expressions.MAX_REMEMBERED`` of them).
- **The queue counts on send.** ``SendMessage`` (each entry of a batch too) reads one queue
  attribute, ``ContentBasedDeduplication``, through ``Queue.attributes``, which also computes the
  three approximate message counts, each a walk of the whole queue (about 0.2 ms of CPU per send
  with 2,000 messages queued). While a send reads the attributes, the counts are not computed (they
  are left 0 in that dictionary, which the send does not read); every other attribute is computed as
  before, and every other reader gets the counts.
- **Random identifiers.** Each answer's request id (52 letters and digits) and each received
  message's receipt handle (185 lowercase letters) are drawn one character at a time with
  ``Random.choice``. They are drawn with one ``Random.choices`` call instead: the same length,
  alphabet and uniform distribution, from the same generator (moto's, which can be seeded: a seeded
  run is still reproducible, with other strings than before).
- **Item sizes.** Every attribute an update sets goes through ``LimitedSizeDict.__setitem__``,
  which sizes the whole item again (the 400 KB limit), and ``DynamoType.size`` rebuilds every nested
  map value as a new ``DynamoType`` (and its whole subtree with it) just to size it. Sizes are
  computed by walking the values as they are, with the same arithmetic (``_size`` and
  ``_wrapped_size`` mirror the two ways moto sizes a value), and the item check sums them without
  building lists.

``install`` patches moto's classes in this process, once; moto's own tests of these paths do not run
here, so the replacements keep the originals' answers (see ``tests/unit/test_moto_speedups.py``).
"""

from __future__ import annotations

import json
import threading
import time
from decimal import Decimal
from typing import Any

from moto.core.utils import unix_time
from moto.dynamodb.models.utilities import bytesize

from local_stack import moto_expressions

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
        _cheap_item_order()
        _remember_method_names_per_class()
        _remember_converted_names()
        _no_queue_counts_on_send()
        _cheap_random_strings()
        _cheap_item_sizes()
        moto_expressions.install()
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
    from moto.dynamodb.responses import DynamoHandler, DynamoResult

    # DynamoResult: the item operations' results, already turned into plain dicts by moto.
    plain_results = (ActionResult, DynamoResult)

    global moto_serialized
    serialized = moto_serialized = DynamoHandler.serialized

    def serialized_plainly(self: Any, action_result: Any) -> Any:
        if type(action_result) in plain_results:
            answer = plain_json_answer(self._get_action(), action_result.result)  # noqa: SLF001
            if answer is not None:
                status, headers, body = answer
                headers.update(self.response_headers)
                return status, headers, body
        return serialized(self, action_result)

    DynamoHandler.serialized = serialized_plainly  # type: ignore[method-assign]


def key_value(key: Any) -> Any:
    """What ``DynamoType``'s comparisons compare for a key attribute (S, N or B): ``cast_value``."""
    return Decimal(key.value) if key.type == "N" else key.value


def _cheap_item_order() -> None:
    from moto.dynamodb.models.table import Table

    query = Table.query
    in_query = threading.local()

    def all_items(self: Any) -> list[Any]:
        items: list[Any] = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        if getattr(in_query, "active", False):
            return items  # Query sorts its matches itself; only Scan's pages depend on this order

        # moto's own key: (hash, range) when the item has a range key, else hash.
        def order(item: Any) -> Any:
            hash_key = key_value(item.hash_key)
            return (hash_key, key_value(item.range_key)) if item.range_key else hash_key

        return sorted(items, key=order)

    def query_without_table_sort(self: Any, *args: Any, **kwargs: Any) -> Any:
        in_query.active = True
        try:
            return query(self, *args, **kwargs)
        finally:
            in_query.active = False

    Table.all_items = all_items  # type: ignore[method-assign]
    Table.query = query_without_table_sort  # type: ignore[method-assign]
    _cheap_string_equality()


_UNCONVERTED_TYPES = frozenset({"S", "B", "BOOL"})  # whose cast_value is the value itself


def _cheap_string_equality() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    equal, not_equal = DynamoType.__eq__, DynamoType.__ne__

    def __eq__(self: Any, other: Any) -> bool:  # noqa: N807 - the method it replaces
        if type(other) is DynamoType and self.type == other.type and self.type in _UNCONVERTED_TYPES:
            return bool(self.value == other.value)
        return bool(equal(self, other))

    def __ne__(self: Any, other: Any) -> bool:  # noqa: N807
        if type(other) is DynamoType and self.type == other.type and self.type in _UNCONVERTED_TYPES:
            return bool(self.value != other.value)
        return bool(not_equal(self, other))

    DynamoType.__eq__ = __eq__  # type: ignore[method-assign,assignment]
    DynamoType.__ne__ = __ne__  # type: ignore[method-assign,assignment]


def _remember_method_names_per_class() -> None:
    from moto.core import responses

    method_names_from_class = responses.method_names_from_class
    remembered: dict[Any, list[str]] = {}

    def remembered_method_names(clazz: Any) -> list[str]:
        try:
            return remembered[clazz]
        except KeyError:
            names = remembered[clazz] = method_names_from_class(clazz)
            return names

    responses.method_names_from_class = remembered_method_names  # type: ignore[assignment]


def _remember_converted_names() -> None:
    from moto.core import responses, utils
    from moto.sqs import models

    convert = utils.camelcase_to_underscores
    remembered: dict[str, str] = {}

    def camelcase_to_underscores(argument: str) -> str:
        try:
            return remembered[argument]
        except KeyError:
            converted = convert(argument)
            moto_expressions.bound_cache(remembered)
            remembered[argument] = converted
            return converted

    responses.camelcase_to_underscores = camelcase_to_underscores  # type: ignore[assignment]
    models.camelcase_to_underscores = camelcase_to_underscores  # type: ignore[assignment]


_send = threading.local()  # .active: this thread is in SQSBackend.send_message
_counts_unread = threading.local()  # .active: this thread computes Queue.attributes for a send


def _no_queue_counts_on_send() -> None:
    from moto.sqs.models import Queue, SQSBackend

    send_message = SQSBackend.send_message
    attributes = Queue.attributes.fget  # type: ignore[attr-defined]

    def send_message_reading_no_counts(self: Any, *args: Any, **kwargs: Any) -> Any:
        outer = getattr(_send, "active", False)  # send_message_batch: one send per entry
        _send.active = True
        try:
            return send_message(self, *args, **kwargs)
        finally:
            _send.active = outer

    def queue_attributes(queue: Any) -> dict[str, Any]:
        if not getattr(_send, "active", False):
            return attributes(queue)  # type: ignore[no-any-return]
        _counts_unread.active = True
        try:
            return attributes(queue)  # type: ignore[no-any-return]
        finally:
            _counts_unread.active = False

    SQSBackend.send_message = send_message_reading_no_counts  # type: ignore[method-assign]
    Queue.attributes = property(queue_attributes)  # type: ignore[method-assign,assignment]
    for name in COUNT_ATTRIBUTES:
        count = getattr(Queue, name).fget
        setattr(Queue, name, property(_unless_unread(count)))


COUNT_ATTRIBUTES = (
    "approximate_number_of_messages",
    "approximate_number_of_messages_not_visible",
    "approximate_number_of_messages_delayed",
)


def _unless_unread(count: Any) -> Any:
    def count_unless_unread(queue: Any) -> int:
        return 0 if getattr(_counts_unread, "active", False) else count(queue)  # type: ignore[no-any-return]

    return count_unless_unread


RECEIPT_HANDLE_LENGTH = 185  # moto.sqs.utils.generate_receipt_handle's


def _cheap_random_strings() -> None:
    import string

    from moto.moto_api._internal import mock_random
    from moto.moto_api._internal.moto_random import MotoRandom
    from moto.sqs import models

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        pool = string.ascii_letters + string.digits if include_digits else string.ascii_letters
        random_str = "".join(self.choices(pool, k=length))
        return random_str.lower() if lower_case else random_str

    def generate_receipt_handle() -> str:
        return "".join(mock_random.choices(string.ascii_lowercase, k=RECEIPT_HANDLE_LENGTH))

    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]
    models.generate_receipt_handle = generate_receipt_handle  # type: ignore[assignment]


SET_TYPES = ("SS", "NS", "BS")


def _size(value: Any) -> int:
    """``DynamoType.size`` of ``value`` as it is (its lists' elements sized as they are)."""
    kind, inner = value.type, value.value
    if kind == "M":
        return sum(bytesize(key) + _wrapped_size(element) for key, element in inner.items())
    if kind == "L":
        return sum(_size(element) if type(element) is _DynamoType else element.size() for element in inner)
    return _scalar_size(kind, inner)


def _wrapped_size(value: Any) -> int:
    """``DynamoType(value).size()``: the size of ``value`` (a ``DynamoType`` or its wire dict) once wrapped anew."""
    if type(value) is _DynamoType:
        kind, inner = value.type, value.value
    else:
        kind, inner = next(iter(value.items()))
    if kind == "M":
        return sum(bytesize(key) + _wrapped_size(element) for key, element in inner.items())
    if kind == "L":
        return sum(_wrapped_size(element) for element in inner)
    return _scalar_size(kind, inner)


def _scalar_size(kind: str, inner: Any) -> int:
    if kind == "N":
        return len(str(inner))
    if kind in SET_TYPES:
        if kind == "NS":
            return sum(len(str(element)) for element in inner)
        return sum(1 if isinstance(element, bool) else bytesize(element) for element in inner)
    if isinstance(inner, bool):
        return 1
    return bytesize(inner)


_DynamoType: Any = None
ORIGINAL_SIZES: dict[str, Any] = {}  # moto's own, which the tests compare with
ITEM_SIZE_LIMIT = 405000  # moto's: between DynamoDB's documented 400 KB and the 409-410 KB it accepts


def _cheap_item_sizes() -> None:
    global _DynamoType
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, LimitedSizeDict

    _DynamoType = DynamoType

    def size(self: Any) -> int:
        return _size(self)

    def value_size(value: Any) -> int:
        return _size(value) if type(value) is DynamoType else bytesize(str(value))

    def set_within_limit(self: Any, key: str, value: Any) -> None:
        present = sum(bytesize(str(name)) + value_size(held) for name, held in self.items())
        if present + bytesize(key) + value_size(value) > ITEM_SIZE_LIMIT:
            raise ItemSizeTooLarge
        dict.__setitem__(self, key, value)

    ORIGINAL_SIZES.update(size=DynamoType.size, set_within_limit=LimitedSizeDict.__setitem__)
    DynamoType.size = size  # type: ignore[method-assign]
    LimitedSizeDict.__setitem__ = set_within_limit  # type: ignore[method-assign,assignment]
