"""Failover workflows (beta Workflows, v0.1 Dispatch, v1 ``failover``): see docs/workflows.md.

``workflow_requests`` validates, ``launcher`` starts a step, ``engine`` moves a workflow on its events
(``domain.workflow_events``), ``report`` builds the final report, ``event_handler`` is the
WorkflowFunction's work on a batch.
"""
