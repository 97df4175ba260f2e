"""Moved to ``switchboard.domain.workflow``; this re-export is removed when the restructuring completes."""
from switchboard.domain.workflow import (  # noqa: F401
    COMPLETED, CONDITIONS, ERROR, FAILED_STATUSES, FLAVOUR_DISPATCH, FLAVOUR_V1, FLAVOUR_WORKFLOW, Failover,
    IN_PROGRESS, MAX_EXPIRY_SECONDS, MAX_STEPS, MIN_EXPIRY_SECONDS, MIN_STEPS, TEMPLATE, V1_DEFAULT_CONDITION,
    V1_DEFAULT_EXPIRY_SECONDS, flavour_of, href, id_field, meets_condition,
)
