"""Moved to ``switchboard.api.workflow_starter`` and ``switchboard.api.workflow_view``; this shim is
removed when the restructuring completes."""
from switchboard.api.workflow_starter import (  # noqa: F401
    NOT_QUEUED,
    MessageRecords,
    WorkflowRecords,
    WorkflowStarter,
    new_workflow,
    step_prefix,
)
from switchboard.api.workflow_view import find_workflow, workflow_view  # noqa: F401
