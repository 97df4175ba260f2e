"""Moved to ``switchboard.adapters.dynamodb.workflow_store``; tagging a step's message is
``MessageStore.tag_workflow_step`` (the workflow store no longer writes the messages table).
This module is removed when the restructuring completes.
"""
from __future__ import annotations

from switchboard.adapters import aws_clients as aws
from switchboard.adapters.dynamodb import workflow_store
from switchboard.adapters.dynamodb.message_store import MessageStore
from switchboard.adapters.dynamodb.workflow_store import at_step  # noqa: F401
from switchboard.config import settings
from switchboard.domain.message_record import WorkflowAlreadyExists  # noqa: F401


class WorkflowStore(workflow_store.WorkflowStore):
    """The workflow store on the settings' WorkflowsTable."""

    def __init__(self, table_name: str | None = None) -> None:
        super().__init__(aws.client("dynamodb"), table_name or settings().workflows_table)


def tag_step_message(message_uuid: str, workflow_uuid: str, step: int, table_name: str | None = None) -> None:
    """Mark a message record as step ``step`` of a workflow (before it is queued for sending)."""
    store = MessageStore(aws.client("dynamodb"), table_name or settings().messages_table, settings().retention_seconds)
    store.tag_workflow_step(message_uuid, workflow_uuid, step)
