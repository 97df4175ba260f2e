"""The one SQS batch loop of the sender, notifier and workflow functions (Powertools partial batch responses).

Every record's body is decoded first. A body that is not one of the function's own (``decode``
answers ``None``) is logged and acknowledged: redelivering it can never help, it would only reach
the dead-letter queue and raise an alarm meant for records whose processing keeps failing. Each
decoded record is handled with its ``correlation_id`` in the log keys; a handler that raises, or
answers ``Disposition.REDELIVER``, makes the record a batch item failure, so SQS delivers it again
(and after the queue's maxReceiveCount moves it to its dead-letter queue).

``concurrency`` > 1 runs the records on a bounded, process-wide thread pool (one per runner
name, reused by warm invocations): the Powertools ``AsyncBatchProcessor`` awaits one task per
record and each task runs the blocking work on the pool. With ``ordering``, records of one group
(e.g. the webhooks of one message) run one after another by rank, the other groups concurrently.
``concurrency`` = 1 runs them in order on the invoking thread.
"""
from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.batch import (
    AsyncBatchProcessor,
    BatchProcessor,
    EventType,
    async_process_partial_response,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from switchboard.domain.queue_record import Disposition
from switchboard.observability import ContextExecutor, logger

T = TypeVar("T")
RecordHandler = Callable[[T, SQSRecord], "Disposition | None"]

_executors: dict[tuple[str, int], ContextExecutor] = {}
_executors_lock = threading.Lock()


class RedeliverLater(Exception):
    """Raised for a record SQS must deliver again; Powertools reports it as a batch item failure."""


@dataclass(frozen=True)
class Ordering(Generic[T]):
    """Records with the same ``group`` run one after another, lowest ``rank`` first (ties: SQS message id)."""

    group: Callable[[T], Hashable]
    rank: Callable[[T], Any]


@dataclass(frozen=True)
class BatchRunner(Generic[T]):
    name: str  # "sender" | "notifier" | "workflows": the pool's thread prefix and the log text
    decode: Callable[[str | None], T | None]
    correlation_id: Callable[[T], str]
    concurrency: int = 1
    ordering: Ordering[T] | None = None

    def run(
        self,
        event: dict[str, Any],
        context: Any,
        handle: RecordHandler[T],
        after_batch: Callable[[], Iterable[T] | None] | None = None,
    ) -> PartialItemFailureResponse:
        """Handle every record of an SQS event; returns ``{"batchItemFailures": [{"itemIdentifier": ...}]}``.

        ``after_batch`` runs once every record is handled, even if the batch failed. The items it
        answers are records whose work it finished and could not: they become batch item failures too.
        """
        records = event.get("Records") or []
        decoded = {record.get("messageId"): self.decode(record.get("body")) for record in records}
        try:
            if self.concurrency <= 1:
                response = self._run_in_order(event, context, decoded, handle)
            else:
                response = self._run_concurrently(event, context, decoded, handle)
        finally:
            failed_after = list((after_batch() if after_batch is not None else None) or ())
        return _with_failures(
            response, [message_id for message_id, item in decoded.items() if item is not None and item in failed_after]
        )

    def _run_in_order(
        self, event: dict[str, Any], context: Any, decoded: dict[str, T | None], handle: RecordHandler[T]
    ) -> PartialItemFailureResponse:
        def record_handler(record: SQSRecord) -> None:
            if self._process(record, decoded.get(record.message_id), handle) is Disposition.REDELIVER:
                raise RedeliverLater(record.message_id)

        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)

    def _run_concurrently(
        self, event: dict[str, Any], context: Any, decoded: dict[str, T | None], handle: RecordHandler[T]
    ) -> PartialItemFailureResponse:
        pool = self._executor()
        waits_for = self._waits_for(decoded)
        finished: dict[str, asyncio.Event] = {}

        async def record_handler(record: SQSRecord) -> None:
            done = finished.setdefault(record.message_id, asyncio.Event())
            earlier = waits_for.get(record.message_id)
            if earlier is not None:
                await finished.setdefault(earlier, asyncio.Event()).wait()
            try:
                disposition = await asyncio.get_running_loop().run_in_executor(
                    pool, self._process, record, decoded.get(record.message_id), handle
                )
            finally:
                done.set()
            if disposition is Disposition.REDELIVER:
                raise RedeliverLater(record.message_id)

        processor = AsyncBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        return async_process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )

    def _process(self, record: SQSRecord, item: T | None, handle: RecordHandler[T]) -> Disposition | None:
        if item is None:
            logger.error(
                f"{self.name} record is not one of its messages; acknowledged",
                extra={"sqs_message_id": record.message_id},
            )
            return Disposition.ACK
        logger.thread_safe_append_keys(correlation_id=self.correlation_id(item))
        try:
            return handle(item, record)
        except Exception:
            logger.exception(f"{self.name} record processing failed", extra={"sqs_message_id": record.message_id})
            raise
        finally:
            logger.thread_safe_remove_keys(["correlation_id"])

    def _waits_for(self, decoded: dict[str, T | None]) -> dict[str, str]:
        """SQS message id -> the message id of the same group's record that must be handled first."""
        if self.ordering is None:
            return {}
        groups: dict[Hashable, list[tuple[Any, str]]] = {}
        for message_id, item in decoded.items():
            if item is not None:
                groups.setdefault(self.ordering.group(item), []).append((self.ordering.rank(item), message_id))
        waits: dict[str, str] = {}
        for entries in groups.values():
            ordered = [message_id for _, message_id in sorted(entries)]
            waits.update(zip(ordered[1:], ordered[:-1]))
        return waits

    def _executor(self) -> ContextExecutor:
        key = (self.name, self.concurrency)
        existing = _executors.get(key)
        if existing is not None:
            return existing
        with _executors_lock:
            if key not in _executors:
                _executors[key] = ContextExecutor(max_workers=self.concurrency, thread_name_prefix=self.name)
            return _executors[key]


def _with_failures(response: PartialItemFailureResponse, message_ids: list[str]) -> PartialItemFailureResponse:
    """``response`` with ``message_ids`` added to its batch item failures (each once)."""
    failures = list(response.get("batchItemFailures", []))
    reported = {failure["itemIdentifier"] for failure in failures}
    failures += [{"itemIdentifier": message_id} for message_id in dict.fromkeys(message_ids) if message_id not in reported]
    return {**response, "batchItemFailures": failures}
