"""SenderFunction: consumes the outbound queue (SQS event source, ReportBatchItemFailures)."""
from switchboard.composition.sender_function import handle
from switchboard.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return handle(event, context)
