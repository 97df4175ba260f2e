"""Moved to ``switchboard.workflows.workflow_requests``; this shim is removed when the restructuring completes."""
from switchboard.workflows.workflow_requests import *  # noqa: F401,F403
