"""Powertools Logger, Tracer and Metrics, set up once for every function.

Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE (template).
Never log secrets or message text: log ids, channels, statuses and error codes only.
"""
from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer

# Health checks and idempotent replays legitimately publish no metrics; the warning is noise.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger()
tracer = Tracer()
metrics = Metrics()
