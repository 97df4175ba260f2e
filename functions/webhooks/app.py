"""WebhooksFunction: provider webhooks (Messenger, Viber, SMS API) over API Gateway HTTP API (payload format 2.0)."""
from aws_lambda_powertools.logging import correlation_paths

from switchboard.composition.webhooks_function import handle
from switchboard.observability import logger, metrics, tracer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: object) -> dict:
    return handle(event, context)
