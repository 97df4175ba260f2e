"""WorkflowFunction: consumes the WorkflowEventsQueue (SQS event source, ReportBatchItemFailures)."""
from switchboard.observability import logger, tracer
from switchboard.workflows.batch import process_batch


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return dict(process_batch(event, context))
