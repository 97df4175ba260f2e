"""NotifierFunction: delivers customer webhooks from the NotifyQueue (SQS event source, ReportBatchItemFailures)."""
from switchboard.composition.notifier_function import handle
from switchboard.observability import logger, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict, context: object) -> dict:
    return handle(event, context)
