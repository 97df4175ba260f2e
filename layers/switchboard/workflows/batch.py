"""The WorkflowFunction's batch loop: Powertools partial batch responses around ``WorkflowEngine.handle``.

Records are handled one after another (each is a few DynamoDB and SQS calls). A body that is not a
workflow event is logged and acknowledged; a record whose handling raised becomes a batch item
failure, so SQS delivers it again after the visibility timeout and, after the queue's
maxReceiveCount, moves it to the WorkflowEventsDLQ.
"""
from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from switchboard.observability import logger
from switchboard.workflows.engine import WorkflowEngine, default_engine
from switchboard.workflows.events import parse_event


def process_batch(
    event: dict[str, Any], context: Any = None, *, engine: WorkflowEngine | None = None
) -> PartialItemFailureResponse:
    """Handle every record of an SQS event; returns ``{"batchItemFailures": [...]}``."""
    engine = engine or default_engine()

    def record_handler(record: SQSRecord) -> None:
        workflow_event = parse_event(record.body)
        if workflow_event is None:
            logger.error("workflow record is not an event; acknowledged", extra={"sqs_message_id": record.message_id})
            return
        logger.append_keys(correlation_id=workflow_event.workflow_uuid)
        try:
            engine.handle(workflow_event)
        except Exception:
            logger.exception("workflow event failed", extra={"sqs_message_id": record.message_id})
            raise
        finally:
            logger.remove_keys(["correlation_id"])

    processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
